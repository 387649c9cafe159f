"""Product registration (登记) and re-development rules."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sandbox.domain.errors import IllegalTransition, PermissionDenied
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import disclosure, identities
from sandbox.governance.access import principal_for
from sandbox.products import redevelopment, registry
from sandbox.products.registry import ProductError
from sandbox.store.models import AuditEventRow

from ..governance.conftest import build_cast
from ..governance.test_scenarios import walk_to_active


@pytest.fixture
def live(sqlite_ctx):
    cast = build_cast(sqlite_ctx)
    walk_to_active(cast)
    return cast


def _register(cast):
    return registry.register(cast.ctx, cast("operator-1"), product_id="elderly_hotspots", title="养老服务需求热点区域",
                             scenario_id="elderly-care", description="按社区统计老年人口与残疾人占比")  # fmt: skip


def test_registration_records_scenario_category_and_charging(live):
    row = _register(live)
    assert row.category == "公益事业" and row.fee_bearing is False
    assert row.registration_no.startswith("SYDJ-") and row.revision == 1


def test_change_correct_deregister_each_audited_with_reason(live):
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
    _register(live)
    admin = principal_for(live.ctx, "admin")
    identities.create_org(live.ctx, admin, "op-b", "另一家运营机构", OrgKind.OPERATOR)
    identities.create_user(live.ctx, admin, "op-b-1", "乙", "op-b", {Role.OPERATOR})
    application = redevelopment.apply(live.ctx, live("op-b-1"), "elderly_hotspots", "跨区域融合")
    with pytest.raises(PermissionDenied):
        redevelopment.review(live.ctx, live("op-b-1"), application.id, approve=True, comment="自批")


def test_disclosure_lists_authorizations_products_and_usage(live, tmp_path):
    _register(live)
    json_path, md_path = disclosure.disclose(live.ctx, live("operator-1"), tmp_path / "out")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    (auth,) = report["authorizations"]
    assert auth["object"] == "云泽数据运营有限公司"
    assert auth["period"] == {"starts_on": "2026-01-01", "ends_on": "2030-12-31"}
    assert {s["dataset"] for s in auth["scope"]} == {"people", "disability"}
    assert report["products"][0]["charging"] == "免费"
    assert {u["dataset"]: u["products"] for u in report["data_usage"]} == {
        "disability": ["elderly_hotspots"],
        "people": ["elderly_hotspots"],
    }
    markdown = md_path.read_text(encoding="utf-8")
    assert "授权对象" in markdown and "养老服务需求热点区域" in markdown
    with pytest.raises(PermissionDenied):
        disclosure.disclose(live.ctx, live("consumer-1"), tmp_path / "no")
