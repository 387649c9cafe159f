"""Terms of use: a consumer takes a fee-bearing product only under a grant in force; free ones freely."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.display import SHANGHAI
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.product import TermsState
from sandbox.governance import identities
from sandbox.products import terms, versions
from sandbox.products.terms import TermsError, TermsRequired
from sandbox.store.models import AuditEventRow

from ..governance.test_scenarios import refusals
from .conftest import activate_fee_bearing, live_cast, released_product

DAY = date(2026, 12, 1)


@pytest.fixture
def credit(live):
    """``credit_levels``: a released product of the fee-bearing (产业发展) credit scenario."""
    activate_fee_bearing(live)
    product = released_product(live, "credit_levels", "credit")
    assert product.fee_bearing
    return live


def _export(cast, user, product_id="credit_levels", today=DAY):
    out = cast.ctx.settings.work_dir / f"export-{user}-{today}"
    return versions.export(cast.ctx, cast(user), product_id, out, "csv", today=today)


def _events(ctx, action):
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def test_consumer_without_terms_is_refused_a_fee_bearing_product_and_the_refusal_audited(credit):
    with pytest.raises(TermsRequired) as info:
        _export(credit, "consumer-1")
    assert "有偿" in info.value.zh and "fee-bearing" in info.value.en and info.value.code == "E561"
    (refusal,) = refusals(credit.ctx)
    details = json.loads(refusal.details)
    assert (refusal.object_id, details["attempted"], details["code"]) == (
        "credit_levels",
        "product.export",
        "E561",
    )
    assert not (credit.ctx.settings.work_dir / f"export-consumer-1-{DAY}").exists()
    assert _events(credit.ctx, "product.exported") == []


def test_terms_let_the_granted_organization_export_and_no_other(credit):
    admin = credit("admin")
    identities.create_org(credit.ctx, admin, "bank-b", "另一家银行", OrgKind.CONSUMER)
    identities.create_user(credit.ctx, admin, "consumer-2", "使用二", "bank-b", {Role.CONSUMER})
    grant = terms.grant_terms(credit.ctx, credit("operator-2"), "credit_levels", "bank", today=DAY)
    (written,) = _export(credit, "consumer-1")
    assert written.name == "credit_levels-v1-by_level.csv" and "level,people" in written.read_text(
        "utf-8-sig"
    )
    with pytest.raises(TermsRequired):
        _export(credit, "consumer-2")
    (event,) = _events(credit.ctx, "product.terms_grant")
    assert (event.object_id, json.loads(event.details)["consumer_org"]) == (str(grant.id), "bank")
    assert len(_events(credit.ctx, "product.exported")) == 1


def test_revoked_terms_no_longer_let_the_consumer_export(credit):
    grant = terms.grant_terms(credit.ctx, credit("operator-1"), "credit_levels", "bank", today=DAY)
    _export(credit, "consumer-1")
    terms.revoke_terms(credit.ctx, credit("operator-2"), grant.id, "合同终止")
    with pytest.raises(TermsRequired):
        _export(credit, "consumer-1")
    (event,) = _events(credit.ctx, "product.terms_revoke")
    assert json.loads(event.details)["reason"] == "合同终止"
    with pytest.raises(TermsError):
        terms.revoke_terms(credit.ctx, credit("operator-1"), grant.id, "再撤一次")
    (row,) = terms.list_terms(credit.ctx, credit("consumer-1"))
    assert (terms.state(row, DAY), row.revoked_by) == (TermsState.REVOKED, "operator-2")


def test_expired_terms_no_longer_let_the_consumer_export(credit):
    grant = terms.grant_terms(credit.ctx, credit("operator-1"), "credit_levels", "bank", ends_on=date(2026, 12, 31),
                              today=DAY)  # fmt: skip
    _export(credit, "consumer-1", today=date(2026, 12, 31))  # the end date is the last day in force
    with pytest.raises(TermsRequired):
        _export(credit, "consumer-1", today=date(2027, 1, 1))
    assert terms.state(grant, date(2027, 1, 1)) is TermsState.EXPIRED
    renewed = terms.grant_terms(
        credit.ctx, credit("operator-1"), "credit_levels", "bank", today=date(2027, 1, 1)
    )
    assert renewed.id != grant.id
    _export(credit, "consumer-1", today=date(2027, 1, 1))


def test_free_product_is_exported_by_any_consumer_and_takes_no_terms(live):
    released_product(live, "disability_levels")
    assert _export(live, "consumer-1", "disability_levels")
    with pytest.raises(TermsError) as info:
        terms.grant_terms(live.ctx, live("operator-1"), "disability_levels", "bank", today=DAY)
    assert "免费" in info.value.zh and "free" in info.value.en


def test_operators_admins_and_auditors_keep_their_access(credit):
    admin = credit("admin")
    identities.create_org(credit.ctx, admin, "regulator", "市数据局监管处", OrgKind.REGULATOR)
    identities.create_user(credit.ctx, admin, "auditor-1", "审计一", "regulator", {Role.AUDITOR})
    for user in ("operator-1", "admin", "auditor-1"):
        assert _export(credit, user)
    with pytest.raises(PermissionDenied):
        _export(credit, "developer-1")


def test_only_the_products_operator_or_an_admin_grants_and_refusals_are_audited(credit):
    admin = credit("admin")
    identities.create_org(credit.ctx, admin, "op-b", "另一家运营机构", OrgKind.OPERATOR)
    identities.create_user(credit.ctx, admin, "op-b-1", "乙", "op-b", {Role.OPERATOR})
    attempts = [
        (PermissionDenied, "developer-1", "bank", None),
        (PermissionDenied, "op-b-1", "bank", None),  # an operator, but not this product's
        (TermsError, "operator-1", "dev-org", None),  # not a consumer organization
        (TermsError, "operator-1", "bank", date(2026, 11, 30)),  # ends before today
    ]
    for error, user, org, ends_on in attempts:
        with pytest.raises(error):
            terms.grant_terms(credit.ctx, credit(user), "credit_levels", org, ends_on=ends_on, today=DAY)
    grant = terms.grant_terms(credit.ctx, admin, "credit_levels", "bank", today=DAY)
    with pytest.raises(TermsError):  # one grant in force per organization and product
        terms.grant_terms(credit.ctx, credit("operator-1"), "credit_levels", "bank", today=DAY)
    with pytest.raises(PermissionDenied):
        terms.revoke_terms(credit.ctx, credit("op-b-1"), grant.id, "不是我们的产品")
    with pytest.raises(PermissionDenied):
        terms.list_terms(credit.ctx, credit("provider-canlian"))
    attempted = [json.loads(e.details)["attempted"] for e in refusals(credit.ctx)]
    assert attempted == ["product.terms_grant"] * 5 + ["product.terms_revoke", "product.terms_list"]
    assert [t.id for t in terms.list_terms(credit.ctx, credit("consumer-1"))] == [grant.id]
    assert [t.id for t in terms.list_terms(credit.ctx, credit("operator-2"), "credit_levels")] == [grant.id]
    assert terms.list_terms(credit.ctx, credit("op-b-1")) == []


def test_cli_grants_lists_and_revokes_terms_and_shows_release_status(sqlite_ctx, monkeypatch):
    cast = live_cast(sqlite_ctx)
    activate_fee_bearing(cast)
    released_product(cast, "credit_levels", "credit")
    monkeypatch.setenv("SANDBOX_HOME", str(sqlite_ctx.settings.home_dir))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")

    ends_on = (datetime.now(SHANGHAI).date() + timedelta(days=30)).isoformat()

    def run(*args):
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "已发布 v1 / released v1" in run("--as", "operator-1", "product", "list")
    assert f"至 {ends_on} / until {ends_on}" in run(
        "--as",
        "operator-1",
        "product",
        "terms",
        "grant",
        "credit_levels",
        "--consumer",
        "bank",
        "--ends-on",
        ends_on,
    )
    listed = run("--as", "consumer-1", "product", "terms", "list")
    assert "credit_levels" in listed and ends_on in listed and "有效 active" in listed
    (grant,) = terms.list_terms(sqlite_ctx, cast("consumer-1"))
    assert "已撤销 / revoked" in run(
        "--as", "operator-2", "product", "terms", "revoke", str(grant.id), "--reason", "到期前终止"
    )
    assert "已撤销 revoked" in run("--as", "consumer-1", "product", "terms", "list")
