"""Product registration (登记) and re-development rules."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sandbox.domain.errors import IllegalTransition, PermissionDenied
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.product import release_label
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.products import redevelopment, registry, versions
from sandbox.products.registry import ProductError
from sandbox.store.models import AuditEventRow

from ..governance.test_scenarios import refusals
from .conftest import activate_fee_bearing, approved_job, release_version, submitted_job


def _register(cast, product_id="elderly_hotspots", scenario_id="elderly-care"):
    return registry.register(cast.ctx, cast("operator-1"), product_id=product_id, title="养老服务需求热点区域",
                             scenario_id=scenario_id, description="按社区统计老年人口与残疾人占比")  # fmt: skip


def test_registration_records_scenario_category_and_charging(live):
    approved_job(live, "elderly_hotspots")
    row = _register(live)
    assert row.category == "公益事业" and row.fee_bearing is False
    assert row.registration_no.startswith("SYDJ-") and row.revision == 1


def test_change_correct_deregister_each_audited_with_reason(live):
    approved_job(live, "elderly_hotspots")
    _register(live)
    registry.change(live.ctx, live("operator-2"), "elderly_hotspots", "新增 API 接口形态", form="API接口")
    registry.correct(
        live.ctx, live("operator-1"), "elderly_hotspots", "标题错别字", title="养老服务需求热点区域（社区级）"
    )
    row = registry.deregister(live.ctx, live("operator-1"), "elderly_hotspots", "场景结束")
    assert row.state == "deregistered" and row.revision == 3
    with live.ctx.sessions() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.object_id == "elderly_hotspots")
        ).all()
    assert [e.action for e in events] == [
        "product.register",
        "product.change",
        "product.correct",
        "product.deregister",
    ]
    assert json.loads(events[1].details)["reason"] == "新增 API 接口形态"
    with pytest.raises(IllegalTransition):
        registry.change(live.ctx, live("operator-1"), "elderly_hotspots", "复活", title="x")
    with pytest.raises(ProductError):
        registry.correct(live.ctx, live("operator-1"), "elderly_hotspots", "  ", title="x")


def test_only_active_scenarios_and_own_organization(live):
    with pytest.raises(ProductError):
        registry.register(
            live.ctx, live("operator-1"), product_id="p", title="p", scenario_id="nope", description=""
        )
    with pytest.raises(PermissionDenied):
        registry.register(
            live.ctx,
            live("developer-1"),
            product_id="p",
            title="p",
            scenario_id="elderly-care",
            description="",
        )


def test_delivering_operator_may_not_redevelop(live):
    approved_job(live, "elderly_hotspots")
    _register(live)
    with pytest.raises(PermissionDenied) as info:
        redevelopment.apply(live.ctx, live("operator-2"), "elderly_hotspots", "我们自己再开发")
    assert "re-developer" in info.value.en and "再开发主体" in info.value.zh
    application = redevelopment.apply(
        live.ctx, live("developer-1"), "elderly_hotspots", "融合医保数据做康复资源规划"
    )
    assert application.state == "submitted"
    reviewed = redevelopment.review(
        live.ctx, live("operator-2"), application.id, approve=True, comment="合规"
    )
    assert reviewed.state == "approved"
    with pytest.raises(IllegalTransition):
        redevelopment.review(live.ctx, live("operator-2"), application.id, approve=False, comment="改主意")


def test_another_operator_may_apply_and_is_reviewed_by_the_delivering_side(live):
    approved_job(live, "elderly_hotspots")
    _register(live)
    admin = principal_for(live.ctx, "admin")
    identities.create_org(live.ctx, admin, "op-b", "另一家运营机构", OrgKind.OPERATOR)
    identities.create_user(live.ctx, admin, "op-b-1", "乙", "op-b", {Role.OPERATOR})
    application = redevelopment.apply(live.ctx, live("op-b-1"), "elderly_hotspots", "跨区域融合")
    with pytest.raises(PermissionDenied):
        redevelopment.review(live.ctx, live("op-b-1"), application.id, approve=True, comment="自批")


def test_hand_registration_needs_an_approved_job_of_that_id_in_that_scenario(live):
    """No job, an unreviewed job, or an approved job of another scenario: nothing a release could come from."""
    activate_fee_bearing(live)
    approved_job(live, "credit_levels", "credit")
    submitted_job(live, "elderly_hotspots", "elderly-care")
    for product_id, scenario_id in [
        ("no_such_job", "elderly-care"),
        ("elderly_hotspots", "elderly-care"),  # submitted, not approved
        ("credit_levels", "elderly-care"),  # approved, but in the credit scenario
    ]:
        with pytest.raises(ProductError) as info:
            _register(live, product_id, scenario_id)
        assert "已批准的作业" in info.value.zh and "approved job" in info.value.en
    assert [json.loads(e.details)["attempted"] for e in refusals(live.ctx)] == ["product.register"] * 3
    assert registry.list_products(live.ctx) == []


def test_hand_registration_is_shown_not_released_until_a_version_is_released(live):
    submission = approved_job(live, "elderly_hotspots")
    _register(live)
    assert versions.released(live.ctx) == {}
    assert release_label(versions.released(live.ctx).get("elderly_hotspots", [])) == "未发布 / not released"
    release_version(live, submission, {"disability": 1})
    release_version(live, submission, {"disability": 2})
    assert versions.released(live.ctx) == {"elderly_hotspots": [1, 2]}
    assert release_label(versions.released(live.ctx)["elderly_hotspots"]) == "已发布 v2 / released v2"
    with live.ctx.sessions() as session:
        (registered,) = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "product.register")
        )
    assert json.loads(registered.details)["job_submission"] == submission.id
