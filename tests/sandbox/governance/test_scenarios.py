"""Scenario review: minimal-necessary columns, provider consent, four eyes, state machine."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from sandbox.domain.errors import IllegalTransition, PermissionDenied
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance import authorizations, scenarios
from sandbox.governance.scenarios import ColumnRequest, ScenarioError
from sandbox.store.models import AuditEventRow

from .conftest import build_cast

COLUMNS = [
    ColumnRequest("people", "birth_date", "按年龄段统计老年人口"),
    ColumnRequest("people", "district_code", "按区县汇总"),
    ColumnRequest("people", "name", "（不需要，测试拒绝）"),
    ColumnRequest("disability", "level", "残疾等级分布"),
    ColumnRequest("disability", "id_number", "与户籍人口关联"),
]


def propose(cast, scenario_id="elderly-care", proposer="operator-1"):
    return scenarios.propose(
        cast.ctx, cast(proposer), scenario_id=scenario_id, title="养老服务需求热点", category=ScenarioCategory.PUBLIC_WELFARE,
        description="识别养老与残疾人服务需求热点区域", value_statement="优化养老机构布局",
        planned_products=["elderly_care_hotspots"], columns=COLUMNS,
    )  # fmt: skip


def refusals(ctx) -> list[AuditEventRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")))


def walk_to_active(cast):
    ctx = cast.ctx
    propose(cast)
    scenarios.submit(ctx, cast("operator-1"), "elderly-care", today=date(2026, 11, 2))
    scenarios.start_review(ctx, cast("operator-2"), "elderly-care")
    scenarios.decide_consent(
        ctx, cast("provider-gongan"), "elderly-care", "people", grant=True, refuse_columns={"name"}
    )
    scenarios.decide_consent(ctx, cast("provider-canlian"), "elderly-care", "disability", grant=True)
    scenarios.approve(ctx, cast("operator-2"), "elderly-care", "符合最小必要原则")
    authorizations.grant(ctx, cast("admin"), operator_org="op-org", datasets=["people", "disability"],
                         starts_on=date(2026, 1, 1), ends_on=date(2030, 12, 31), content="养老与残疾人服务场景")  # fmt: skip
    scenarios.activate(ctx, cast("operator-1"), "elderly-care", today=date(2026, 11, 20))


def test_draft_to_active_with_every_providers_consent(ctx):
    """Runs on SQLite and PostgreSQL (the ``ctx`` fixture)."""
    cast = build_cast(ctx)
    walk_to_active(cast)
    row = scenarios.get(ctx, "elderly-care")
    assert row.state == "active"
    assert {c.dataset_id: c.state for c in row.consents} == {"people": "partial", "disability": "granted"}
    assert scenarios.approved_columns(ctx, "elderly-care") == {
        "people": ["birth_date", "district_code"],
        "disability": ["level", "id_number"],
    }
    assert ctx.verify_audit().ok


def test_proposer_cannot_approve_own_scenario(cast):
    propose(cast)
    scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care")
    with pytest.raises(PermissionDenied) as info:
        scenarios.start_review(cast.ctx, cast("operator-1"), "elderly-care")
    assert "四眼" in info.value.zh and "four eyes" in info.value.en
    scenarios.start_review(cast.ctx, cast("operator-2"), "elderly-care")
    with pytest.raises(PermissionDenied):
        scenarios.approve(cast.ctx, cast("operator-1"), "elderly-care")
    assert [e.details for e in refusals(cast.ctx) if "four eyes" in e.details] and len(
        refusals(cast.ctx)
    ) == 2


def test_provider_cannot_decide_for_another_providers_dataset(cast):
    propose(cast)
    scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care")
    with pytest.raises(PermissionDenied) as info:
        scenarios.decide_consent(cast.ctx, cast("provider-gongan"), "elderly-care", "disability", grant=True)
    assert "disability" in info.value.en and "不属于" in info.value.zh
    assert scenarios.get(cast.ctx, "elderly-care").consents[0].state == "pending"
    assert refusals(cast.ctx)[-1].actor == "provider-gongan"


def test_approval_waits_for_every_consent(cast):
    propose(cast)
    scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care")
    scenarios.start_review(cast.ctx, cast("operator-2"), "elderly-care")
    scenarios.decide_consent(cast.ctx, cast("provider-gongan"), "elderly-care", "people", grant=True)
    with pytest.raises(ScenarioError) as info:
        scenarios.approve(cast.ctx, cast("operator-2"), "elderly-care")
    assert "disability" in info.value.en


def test_activation_needs_a_covering_authorization(cast):
    propose(cast)
    scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care")
    scenarios.start_review(cast.ctx, cast("operator-2"), "elderly-care")
    scenarios.decide_consent(cast.ctx, cast("provider-gongan"), "elderly-care", "people", grant=True)
    scenarios.decide_consent(cast.ctx, cast("provider-canlian"), "elderly-care", "disability", grant=True)
    scenarios.approve(cast.ctx, cast("operator-2"), "elderly-care")
    authorizations.grant(cast.ctx, cast("admin"), operator_org="op-org", datasets=["people"],
                         starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), content="仅户籍")  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        scenarios.activate(cast.ctx, cast("operator-1"), "elderly-care", today=date(2026, 6, 1))
    assert "no active authorization" in info.value.en


def test_illegal_transitions_are_clear_errors(cast):
    propose(cast)
    with pytest.raises(IllegalTransition) as info:
        scenarios.approve(cast.ctx, cast("operator-2"), "elderly-care")
    assert "draft" in info.value.en and "approve" in info.value.en and "草稿" not in info.value.en
    scenarios.withdraw(cast.ctx, cast("operator-1"), "elderly-care")
    with pytest.raises(IllegalTransition):
        scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care")


def test_every_column_needs_a_justification_and_must_exist(cast):
    with pytest.raises(ScenarioError) as info:
        scenarios.propose(cast.ctx, cast("operator-1"), scenario_id="x", title="x", category=ScenarioCategory.INDUSTRY,
                          description="", value_statement="", planned_products=["p"],
                          columns=[ColumnRequest("people", "income", "  ")])  # fmt: skip
    assert "minimal necessary" in info.value.en
    with pytest.raises(Exception) as missing:
        scenarios.propose(cast.ctx, cast("operator-1"), scenario_id="x", title="x", category=ScenarioCategory.INDUSTRY,
                          description="", value_statement="", planned_products=["p"],
                          columns=[ColumnRequest("people", "salary", "why")])  # fmt: skip
    assert "no column salary" in missing.value.en


def test_developer_without_agreement_is_refused(cast):
    walk_to_active(cast)
    with pytest.raises(PermissionDenied) as info:
        scenarios.add_member(cast.ctx, cast("operator-1"), "elderly-care", "developer-2")
    assert "confidentiality agreement" in info.value.en and "保密协议" in info.value.zh
    with pytest.raises(PermissionDenied) as acting:
        propose(cast, "another", proposer="developer-2")
    assert "may do nothing" in acting.value.en
    scenarios.add_member(cast.ctx, cast("operator-1"), "elderly-care", "developer-1")
    assert [m.username for m in scenarios.get(cast.ctx, "elderly-care").members] == ["developer-1"]


def test_overdue_requests_are_listed_per_provider(cast):
    propose(cast)
    scenarios.submit(cast.ctx, cast("operator-1"), "elderly-care", today=date(2026, 11, 2))
    due = {c.dataset_id: c.due_on for c in scenarios.get(cast.ctx, "elderly-care").consents}
    assert due == {"people": "2026-11-09", "disability": "2026-11-09"}
    assert scenarios.consents_for(cast.ctx, cast("operator-2"), overdue_on=date(2026, 11, 9)) == []
    overdue = scenarios.consents_for(cast.ctx, cast("operator-2"), overdue_on=date(2026, 11, 10))
    assert {c.dataset_id for c in overdue} == {"people", "disability"}
    mine = scenarios.consents_for(cast.ctx, cast("provider-canlian"), overdue_on=date(2026, 11, 10))
    assert [c.dataset_id for c in mine] == ["disability"]
    scenarios.decide_consent(cast.ctx, cast("provider-canlian"), "elderly-care", "disability", grant=False)
    assert [
        c.dataset_id
        for c in scenarios.consents_for(cast.ctx, cast("operator-2"), overdue_on=date(2026, 11, 10))
    ] == ["people"]


def test_a_scenario_id_that_could_name_a_path_is_refused_by_the_service(cast):
    """Layer 1, behind the CLI's own check: the service validates the id before the store sees it."""
    from sandbox.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        propose(cast, scenario_id="../../outside")
    assert info.value.code == "E110"
    assert refusals(cast.ctx)[-1].object_id == "../../outside"
    assert scenarios.list_scenarios(cast.ctx) == []


def test_revoking_a_legacy_scenario_with_a_traversal_id_deletes_nothing_outside(cast, tmp_path):
    """Layer 2: a store written before ids were checked still cannot make a revocation delete outside
    the home; the zone path refuses, the transaction rolls back, the victim stays."""
    from sandbox.store.models import ScenarioRow
    from sandbox.store.zones import ZoneEscape

    ctx = cast.ctx
    victim = ctx.settings.home_dir.parent / "victim"
    (victim / "data").mkdir(parents=True)
    (victim / "data" / "precious.txt").write_text("keep me", encoding="utf-8")
    with ctx.transaction() as session:
        session.add(ScenarioRow(
            id="../../victim", title="t", category=ScenarioCategory.PUBLIC_WELFARE.value, description="",
            value_statement="", planned_products_json="[]", proposer="operator-1", operator_org_id="op-org",
            state="active", created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
        ))  # fmt: skip
    (ctx.settings.samples_dir / "x").mkdir(parents=True)
    with pytest.raises(ZoneEscape) as info:
        scenarios.revoke(ctx, cast("operator-1"), "../../victim", "test")
    assert info.value.code == "E701" and "samples" in info.value.en
    assert (victim / "data" / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert scenarios.get(ctx, "../../victim").state == "active"
