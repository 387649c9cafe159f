"""老年人基础信息 (市民政局): every resident aged 60 or more, with living situation and support."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import (
    GENDERS,
    PROVISION,
    community_column,
    district_column,
    gender_column,
)
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="elderly_people",
    title="老年人基础信息",
    provider="minzheng",
    update_cycle=UpdateCycle.QUARTERLY,
    provision=PROVISION,
    keys=("id_number",),
    entity="id_number",
    timestamp_column="updated_at",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("id_number", "公民身份号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("name", "姓名", "string", "direct_id", pii="person_name", personal_info=PI_GENERAL, required=True),
        gender_column(),
        col("age", "年龄", "integer", "quasi_id", personal_info=PI_GENERAL, value_range=(60, 120), required=True),
        district_column(),
        community_column(),
        col("living_status", "居住状况", "string", "sensitive", code_table="elderly_living",
            personal_info=PI_GENERAL, required=True),
        col("self_care", "自理能力", "string", "sensitive", code_table="self_care", grade="重要",
            personal_info=PI_SENSITIVE, required=True),
        col("special_support", "是否特困供养", "boolean", "sensitive", grade="重要", personal_info=PI_SENSITIVE,
            required=True),
        col("subsidy_type", "享受补贴类型", "string", "sensitive", code_table="elderly_subsidy",
            personal_info=PI_SENSITIVE, required=True),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
    ),
)  # fmt: skip
LIVING = ("独居", "与配偶同住", "与子女同住", "机构养老")
SELF_CARE = ("自理", "半失能", "失能")
SUBSIDIES = ("无", "高龄津贴", "护理补贴", "最低生活保障")
CODE_TABLES = {"elderly_living": LIVING, "self_care": SELF_CARE, "elderly_subsidy": SUBSIDIES}
DEFECTS = (
    d.MissingRequired(("name",)),
    d.DuplicateKey(),
    d.OrphanReference(("id_number",)),
    d.OutOfRange("age", lambda rng, old: old + 200),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("gender", lambda rng, old: np.where(old == "1", "男", "女")),  # text instead of the code
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    people, geo = world.people, world.geo
    person = np.flatnonzero(people.referenceable & (people.age >= 60))
    n = len(person)
    age = people.age[person]
    living = np.select(
        [rng.random(n) < 0.03, people.household_size[person] == 1, people.spouse[person] >= 0], [3, 0, 1], 2
    )
    p_disabled = np.interp(age, [60, 75, 85, 100], [0.02, 0.06, 0.18, 0.4])
    u = rng.random(n)
    self_care = np.where(u < p_disabled, 2, np.where(u < 2.5 * p_disabled, 1, 0))
    special = rng.random(n) < 0.02
    subsidy = np.select([self_care > 0, age >= 80, special | (rng.random(n) < 0.03)], [2, 1, 3], 0)
    index = pa.array(person)
    return Table({
        "id_number": people.id_number.take(index),
        "name": people.name.take(index),
        "gender": take(GENDERS, people.gender[person] - 1),
        "age": pa.array(age),
        "district_code": take(geo.district_code, people.district[person]),
        "community_code": take(geo.community_code, people.community[person]),
        "living_status": take(LIVING, living),
        "self_care": take(SELF_CARE, self_care),
        "special_support": pa.array(special),
        "subsidy_type": take(SUBSIDIES, subsidy),
        "updated_at": pa.array(fresh_timestamps(rng, n, DATASET.update_cycle)),
    })  # fmt: skip
