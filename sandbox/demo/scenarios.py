"""The demo's scenarios: real first-batch scenarios from Daye's annex 2, minimal columns each."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox.context import PlatformContext
from sandbox.demo.cast import OPERATOR_ORG
from sandbox.domain.catalog import Catalog
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance import authorizations, scenarios
from sandbox.governance.access import principal_for
from sandbox.governance.scenarios import ColumnRequest

ELDERLY_CARE = {
    "scenario_id": "elderly-care",
    "title": "养老、残疾人精准服务场景",
    "category": ScenarioCategory.PUBLIC_WELFARE,
    "description": "结合老龄人口结构、残疾人信息与养老机构数据，识别养老服务、残疾人服务需求热点区域。",
    "value_statement": "优化养老机构、康复设施布局与上门服务路径（社会效益）。",
    "planned_products": ["elderly_care_hotspots"],
    "columns": [
        ColumnRequest("hukou_population", "id_number", "与残疾人信息关联的主体标识（脱敏后使用）"),
        ColumnRequest("hukou_population", "birth_date", "计算年龄段"),
        ColumnRequest("hukou_population", "gender", "按性别分析服务需求"),
        ColumnRequest("hukou_population", "district_code", "按区县汇总"),
        ColumnRequest("hukou_population", "community_code", "按社区识别热点"),
        ColumnRequest("hukou_population", "name", "（申请后由数据提供单位拒绝：产品不需要姓名）"),
        ColumnRequest("disability_records", "id_number", "与户籍人口关联"),
        ColumnRequest("disability_records", "disability_type", "按残疾类别统计康复需求"),
        ColumnRequest("disability_records", "disability_level", "按残疾等级统计服务强度"),
        ColumnRequest("elderly_care_institutions", "community_code", "养老机构所在社区"),
        ColumnRequest("elderly_care_institutions", "beds", "床位供给"),
        ColumnRequest("elderly_care_institutions", "occupied_beds", "床位使用"),
    ],
}
ENTERPRISE_CREDIT = {
    "scenario_id": "enterprise-credit",
    "title": "金融贷款服务场景",
    "category": ScenarioCategory.INDUSTRY,
    "description": "依托企业行政奖惩信息与企业基本信息，建立企业发展贷款额度快速估算所需的行业、区域统计。",
    "value_statement": "与银行机构建立供需渠道，缓解中小企业融资难（经济效益）。",
    "planned_products": ["enterprise_loan_support"],
    "columns": [
        ColumnRequest("enterprises", "uscc", "关联行政处罚记录的主体标识（脱敏后使用）"),
        ColumnRequest("enterprises", "industry_code", "按行业统计"),
        ColumnRequest("enterprises", "district_code", "按区县统计"),
        ColumnRequest("enterprises", "registered_capital", "注册资本规模（信贷额度估算）"),
        ColumnRequest("enterprises", "status", "只统计存续、在业企业"),
        ColumnRequest("admin_penalties", "uscc", "识别有行政处罚记录的企业"),
        ColumnRequest("admin_penalties", "penalty_type", "区分处罚类别"),
    ],
}
RENTAL_HOUSING = {
    "scenario_id": "rental-housing",
    "title": "真实房屋租赁场景",
    "category": ScenarioCategory.SECTOR,
    "description": "构建实有房屋与房产信息统计，为租房客提供真实性房源查询服务，避免虚假房源。",
    "value_statement": "规范住房租赁市场（经济效益）。",
    "planned_products": ["rental_housing_supply"],
    "columns": [
        ColumnRequest("housing_units", "owner_id_number", "以房主为隐私主体限制单一房主的贡献（脱敏后使用）"),
        ColumnRequest("housing_units", "district_code", "按区县统计"),
        ColumnRequest("housing_units", "floor_area", "按面积段统计"),
        ColumnRequest("housing_units", "usage", "只统计住宅"),
        ColumnRequest("housing_units", "rental_registered", "只统计已登记出租的房屋"),
    ],
}
SCENARIOS = (ELDERLY_CARE, ENTERPRISE_CREDIT, RENTAL_HOUSING)
REFUSED = {("elderly-care", "hukou_population"): {"name"}}


def authorize_operator(ctx: PlatformContext, catalog: Catalog, today: date | None = None) -> str:
    """Grant the demo operator a four-year authorization over the whole first batch."""
    today = today or datetime.now(UTC).date()
    row = authorizations.grant(
        ctx, principal_for(ctx, "admin"), operator_org=OPERATOR_ORG, datasets=[d.id for d in catalog.datasets],
        starts_on=date(today.year, 1, 1), ends_on=date(today.year + 4, 12, 31),
        content="第一批公共数据资源授权运营（整体授权）",
    )  # fmt: skip
    return row.id


def take_to_active(ctx: PlatformContext, catalog: Catalog, spec: dict) -> None:
    """Propose (operator-1), consent (each owning provider), review and approve (operator-2), activate."""
    scenario_id = spec["scenario_id"]
    owners = {d.id: d.provider for d in catalog.datasets}
    scenarios.propose(ctx, principal_for(ctx, "operator-1"), **spec)
    scenarios.submit(ctx, principal_for(ctx, "operator-1"), scenario_id)
    scenarios.start_review(ctx, principal_for(ctx, "operator-2"), scenario_id)
    for dataset in sorted({c.dataset for c in spec["columns"]}):
        provider = principal_for(ctx, f"provider-{owners[dataset]}")
        refused = REFUSED.get((scenario_id, dataset), set())
        scenarios.decide_consent(ctx, provider, scenario_id, dataset, grant=True, refuse_columns=refused,
                                 comment="同意，按最小必要原则" + ("；拒绝姓名列" if refused else ""))  # fmt: skip
    scenarios.approve(ctx, principal_for(ctx, "operator-2"), scenario_id, "场景合规，数据最小必要")
    scenarios.activate(ctx, principal_for(ctx, "operator-1"), scenario_id)
    for developer in ("developer-1", "developer-2"):
        scenarios.add_member(ctx, principal_for(ctx, "operator-1"), scenario_id, developer)
