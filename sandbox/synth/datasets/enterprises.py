"""企业基本信息 (市市场监管局): companies, sole proprietors and cooperatives with their legal representatives."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import PROVISION, district_column, negative
from sandbox.synth.firms import INDUSTRIES, STATUSES
from sandbox.synth.freetext import remarks
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="enterprises",
    title="企业基本信息",
    provider="scjg",
    update_cycle=UpdateCycle.DAILY,
    provision=PROVISION,
    keys=("uscc",),
    entity="uscc",
    timestamp_column="updated_at",
    grade=DataGrade.GENERAL,
    columns=(
        col("uscc", "统一社会信用代码", "string", "direct_id", pii="cn_uscc", required=True),
        col("name", "企业名称", "string", "direct_id", pii="org_name", required=True),
        col("legal_rep_id_number", "法定代表人证件号码", "string", "direct_id", pii="cn_resident_id", grade="重要",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("legal_rep_name", "法定代表人姓名", "string", "direct_id", pii="person_name", personal_info=PI_GENERAL,
            required=True),
        col("industry_code", "行业门类", "string", "quasi_id", code_table="industry", required=True),
        district_column("登记机关区县代码"),
        col("address", "住所", "string", "quasi_id", pii="address", required=True),
        col("registered_capital", "注册资本（万元）", "double", "sensitive", value_range=(0, 100_000_000),
            required=True),
        col("established_date", "成立日期", "date", "quasi_id", required=True),
        col("status", "登记状态", "string", "attribute", code_table="enterprise_status", required=True),
        col("employees", "从业人数", "integer", "sensitive", value_range=(0, 100_000)),
        col("phone", "联系电话", "string", "direct_id", pii="cn_landline"),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
        col("remarks", "备注", "string", "free_text"),
    ),
)  # fmt: skip
CODE_TABLES = {"industry": INDUSTRIES, "enterprise_status": STATUSES}
DEFECTS = (
    d.InvalidCheckDigit("uscc", reserved=lambda world: ~world.firms.referenceable),
    d.MissingRequired(("name", "address")),
    d.DuplicateKey(),
    d.OrphanReference(("legal_rep_id_number",)),
    d.OutOfRange("registered_capital", negative),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable(
        "industry_code", lambda rng, old: np.array(["U", "Z", "99"])[rng.integers(0, 3, len(old))]
    ),
)
_PHRASES = (
    "年报已公示",
    "经营范围变更",
    "住所变更",
    "法定代表人变更",
    "已列入经营异常名录后移出",
    "简易注销公告期满",
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    firms, people = world.firms, world.people
    n = len(firms)
    reps = pa.array(firms.legal_rep)
    text, planted = remarks(
        world, rng, "remarks", n, _PHRASES, 0.2, {"cn_mobile": 0.5, "cn_resident_id": 0.3, "cn_uscc": 0.2}
    )
    return Table(
        {
            "uscc": firms.uscc,
            "name": firms.name,
            "legal_rep_id_number": people.id_number.take(reps),
            "legal_rep_name": people.name.take(reps),
            "industry_code": take(INDUSTRIES, firms.industry),
            "district_code": take(world.geo.district_code, firms.district),
            "address": firms.address,
            "registered_capital": pa.array(firms.capital),
            "established_date": pa.array(firms.established),
            "status": take(STATUSES, firms.status),
            "employees": pa.array(firms.employees),
            "phone": firms.phone,
            "updated_at": pa.array(fresh_timestamps(rng, n, DATASET.update_cycle)),
            "remarks": text,
        },
        [planted],
    )
