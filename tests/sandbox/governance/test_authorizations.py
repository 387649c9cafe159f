"""Authorizations: five-year cap; ending one ends tokens, scenarios, samples and staging, keeps the audit."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.domain.errors import PermissionDenied
from sandbox.governance import authorizations, identities, scenarios
from sandbox.governance.authorizations import AuthorizationError

from .conftest import build_cast
from .test_scenarios import walk_to_active


def test_period_is_at_most_five_years(cast):
    with pytest.raises(AuthorizationError) as info:
        authorizations.grant(cast.ctx, cast("admin"), operator_org="op-org", datasets=["people"],
                             starts_on=date(2026, 1, 1), ends_on=date(2031, 1, 2), content="x")  # fmt: skip
    assert "5 years" in info.value.en and "5 年" in info.value.zh
    row = authorizations.grant(cast.ctx, cast("admin"), operator_org="op-org", datasets=["people"],
                               starts_on=date(2026, 1, 1), ends_on=date(2031, 1, 1), content="x")  # fmt: skip
    assert row.state == "active"


def test_only_admin_grants_and_only_to_operators(cast):
    with pytest.raises(PermissionDenied):
        authorizations.grant(cast.ctx, cast("operator-1"), operator_org="op-org", datasets=["people"],
                             starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), content="x")  # fmt: skip
    with pytest.raises(AuthorizationError):
        authorizations.grant(cast.ctx, cast("admin"), operator_org="dev-org", datasets=["people"],
                             starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), content="x")  # fmt: skip


def _plant_samples(ctx, scenario_id: str) -> list:
    paths = []
    for dataset in ("people", "disability"):
        target = ctx.settings.samples_dir / scenario_id / dataset / "part-0.parquet"
        target.parent.mkdir(parents=True)
        target.write_bytes(b"sample")
        paths.append(target)
    staging = ctx.settings.staging_dir / scenario_id / "run-1" / "frame.parquet"
    staging.parent.mkdir(parents=True)
    staging.write_bytes(b"staged")
    return [*paths, staging]


def test_revoking_deletes_samples_ends_tokens_and_keeps_a_valid_audit(cast):
    walk_to_active(cast)
    ctx = cast.ctx
    planted = _plant_samples(ctx, "elderly-care")
    _, secret = identities.issue_token(ctx, cast("operator-1"), "operator-1", days=30)
    assert identities.authenticate_token(ctx, secret).username == "operator-1"
    _, other_secret = identities.issue_token(ctx, cast("admin"), "developer-1", days=30)

    (auth,) = authorizations.list_authorizations(ctx)
    outcome = authorizations.revoke(ctx, cast("admin"), auth.id, "违反授权运营协议")
    assert outcome == {
        "tokens_revoked": 1,
        "scenarios_ended": ["elderly-care"],
        "scenarios_still_covered": [],
    }
    assert not any(p.exists() for p in planted)
    assert scenarios.get(ctx, "elderly-care").state == "revoked"
    with pytest.raises(PermissionDenied):
        identities.authenticate_token(ctx, secret)
    assert identities.authenticate_token(ctx, other_secret).username == "developer-1"  # another organization
    verdict = ctx.verify_audit()
    assert verdict.ok, verdict.message


def test_expiry_ends_active_scenarios(cast):
    walk_to_active(cast)
    planted = _plant_samples(cast.ctx, "elderly-care")
    assert authorizations.expire_due(cast.ctx, cast("admin"), today=date(2030, 12, 31)) == {}
    ended = authorizations.expire_due(cast.ctx, cast("admin"), today=date(2031, 1, 1))
    assert list(ended.values())[0]["scenarios_ended"] == ["elderly-care"]
    assert scenarios.get(cast.ctx, "elderly-care").state == "expired"
    assert not any(p.exists() for p in planted)
    assert cast.ctx.verify_audit().ok


def _grant(cast, starts_on: date, ends_on: date, datasets=("people", "disability"), today=None):
    return authorizations.grant(cast.ctx, cast("admin"), operator_org="op-org", datasets=list(datasets),
                                starts_on=starts_on, ends_on=ends_on, content="补充授权", today=today)  # fmt: skip


@pytest.mark.parametrize("end", ["expire", "revoke"])
def test_ending_a_redundant_authorization_keeps_what_another_still_covers(ctx, end):
    """The attack on the old code: a short, redundant authorization expires (or is revoked) and took the
    live scenario, its samples and the organization's tokens with it, although another one covers them to 2030.
    Runs on SQLite and PostgreSQL."""
    cast = build_cast(ctx)
    walk_to_active(cast)  # AUTH-…-0001: 2026-01-01 – 2030-12-31
    redundant = _grant(cast, date(2025, 1, 1), date(2026, 12, 31), today=date(2026, 6, 1))
    planted = _plant_samples(ctx, "elderly-care")
    _, secret = identities.issue_token(ctx, cast("operator-1"), "operator-1", days=30)
    if end == "expire":
        ended = authorizations.expire_due(ctx, cast("admin"), today=date(2027, 1, 1))
        outcome = ended[redundant.id]
    else:
        outcome = authorizations.revoke(ctx, cast("admin"), redundant.id, "重复授权")
    assert outcome == {
        "tokens_revoked": 0,
        "scenarios_ended": [],
        "scenarios_still_covered": ["elderly-care"],
    }
    assert scenarios.get(ctx, "elderly-care").state == "active"
    assert all(p.exists() for p in planted)
    assert identities.authenticate_token(ctx, secret).username == "operator-1"
    assert ctx.verify_audit().ok


def test_the_last_covering_authorization_still_ends_the_scenario(cast):
    walk_to_active(cast)
    narrow = _grant(cast, date(2026, 1, 1), date(2030, 12, 31), datasets=("people",))
    (main, _) = sorted(authorizations.list_authorizations(cast.ctx), key=lambda a: a.id)
    assert main.id != narrow.id
    outcome = authorizations.revoke(cast.ctx, cast("admin"), main.id, "违约")
    # the narrow one covers people but not disability: the scenario needs both, so it ends;
    # the organization still holds an authorization in force, so its tokens stay
    assert outcome == {
        "tokens_revoked": 0,
        "scenarios_ended": ["elderly-care"],
        "scenarios_still_covered": [],
    }
    assert scenarios.get(cast.ctx, "elderly-care").state == "revoked"


def test_a_back_dated_authorization_already_over_is_recorded_expired_and_enables_nothing(cast):
    walk_to_active(cast)
    old = _grant(cast, date(2020, 1, 1), date(2021, 12, 31), today=date(2026, 12, 4))
    assert old.state == "expired" and "period ended 2021-12-31" in old.end_reason
    assert authorizations.expire_due(cast.ctx, cast("admin"), today=date(2026, 12, 4)) == {}
    assert scenarios.get(cast.ctx, "elderly-care").state == "active"
    with cast.ctx.sessions() as session:
        assert authorizations.covering_authorization(session, "op-org", ["people"], date(2021, 6, 1)) is None
    assert cast.ctx.verify_audit().ok
