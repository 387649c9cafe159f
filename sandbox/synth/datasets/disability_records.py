"""残疾人信息数据 (市残联): certificate holders, far more common among the old."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import (
    PROVISION,
    bad_community,
    community_column,
    district_column,
)
from sandbox.synth.strings import join, number, take, where
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import AS_OF, between, fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="disability_records",
    title="残疾人信息数据",
    provider="canlian",
    update_cycle=UpdateCycle.QUARTERLY,
    provision=PROVISION,
    keys=("cert_no",),
    entity="id_number",
    timestamp_column="updated_at",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("cert_no", "残疾人证号", "string", "direct_id", pii="record_id", grade="重要", personal_info=PI_SENSITIVE,
            required=True),
        col("id_number", "公民身份号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("disability_type", "残疾类别", "string", "sensitive", code_table="disability_type", grade="重要",
            personal_info=PI_SENSITIVE, required=True),
        col("disability_level", "残疾等级", "integer", "sensitive", grade="重要", personal_info=PI_SENSITIVE,
            value_range=(1, 4), required=True),
        col("issue_date", "发证日期", "date", "attribute", personal_info=PI_GENERAL, required=True),
        district_column(),
        community_column(),
        col("guardian_mobile", "监护人联系电话", "string", "direct_id", pii="cn_mobile", personal_info=PI_GENERAL),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
    ),
)  # fmt: skip
#: GB/T 26341-2010 categories, in code order 1-7
DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
_TYPE_SHARES = (0.14, 0.24, 0.015, 0.295, 0.067, 0.074, 0.169)
CODE_TABLES = {"disability_type": DISABILITY_TYPES}
DEFECTS = (
    d.MissingRequired(("issue_date",)),
    d.DuplicateKey(),
    d.OrphanReference(("id_number",)),
    d.OutOfRange("disability_level", lambda rng, old: np.array([0, 5, 7, 9])[rng.integers(0, 4, len(old))]),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("community_code", bad_community),
)
_SECOND_GENERATION = np.datetime64("2008-01-01")  # 第二代残疾人证


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    people, geo = world.people, world.geo
    prevalence = np.interp(people.age, [0, 15, 45, 60, 80, 100], [0.01, 0.02, 0.04, 0.10, 0.22, 0.35])
    person = np.flatnonzero(people.referenceable & (rng.random(len(people)) < prevalence))
    n = len(person)
    kind = rng.choice(len(DISABILITY_TYPES), n, p=_TYPE_SHARES)
    level = rng.choice([1, 2, 3, 4], n, p=[0.12, 0.2, 0.3, 0.38])
    ids_ = people.id_number.take(pa.array(person))
    needs_guardian = (people.age[person] < 18) | np.isin(kind, (4, 5)) | (level == 1)
    guardian = where(needs_guardian & (rng.random(n) < 0.9), world.mobiles(rng, n), None)
    return Table({
        "cert_no": join(ids_, number(kind + 1), number(level)),
        "id_number": ids_,
        "disability_type": take(DISABILITY_TYPES, kind),
        "disability_level": pa.array(level),
        "issue_date": pa.array(between(rng, np.maximum(people.birth[person], _SECOND_GENERATION), np.full(n, AS_OF - 1))),
        "district_code": take(geo.district_code, people.district[person]),
        "community_code": take(geo.community_code, people.community[person]),
        "guardian_mobile": guardian,
        "updated_at": pa.array(fresh_timestamps(rng, n, DATASET.update_cycle)),
    })  # fmt: skip
