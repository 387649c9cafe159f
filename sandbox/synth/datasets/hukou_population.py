"""户籍人口信息 (市公安局, 实时): one row per registered resident; the person key used everywhere."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import (
    GENDERS,
    PROVISION,
    bad_community,
    community_column,
    district_column,
    gender_column,
)
from sandbox.synth.freetext import remarks
from sandbox.synth.people import EDUCATION, ETHNICITIES, MARITAL, RELATIONS
from sandbox.synth.strings import take, where
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="hukou_population",
    title="户籍人口信息",
    provider="gongan",
    update_cycle=UpdateCycle.REALTIME,
    provision=PROVISION,
    keys=("id_number",),
    entity="id_number",
    timestamp_column="updated_at",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("id_number", "公民身份号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True),
        col("name", "姓名", "string", "direct_id", pii="person_name", grade="重要", personal_info=PI_GENERAL,
            required=True),
        gender_column(),
        col("birth_date", "出生日期", "date", "quasi_id", pii="birth_date", personal_info=PI_GENERAL, required=True),
        col("ethnicity", "民族", "string", "quasi_id", code_table="ethnicity", personal_info=PI_SENSITIVE,
            required=True),
        district_column(),
        col("town_code", "乡镇（街道）代码", "string", "quasi_id", code_table="division_town", required=True),
        community_column(),
        col("address", "户籍地址", "string", "direct_id", pii="address", grade="重要", personal_info=PI_GENERAL,
            required=True),
        col("mobile", "联系电话", "string", "direct_id", pii="cn_mobile", grade="重要", personal_info=PI_GENERAL),
        col("household_id", "户号", "string", "direct_id", pii="record_id", personal_info=PI_GENERAL, required=True),
        col("relation_to_head", "与户主关系", "string", "attribute", code_table="relation_to_head",
            personal_info=PI_GENERAL, required=True),
        col("education", "文化程度", "string", "quasi_id", code_table="education", personal_info=PI_GENERAL),
        col("marital_status", "婚姻状况", "string", "quasi_id", code_table="marital_status",
            personal_info=PI_GENERAL, required=True),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
        col("remarks", "备注", "string", "free_text", personal_info=PI_GENERAL),
    ),
)  # fmt: skip
CODE_TABLES = {
    "ethnicity": ETHNICITIES,
    "relation_to_head": RELATIONS,
    "education": EDUCATION,
    "marital_status": MARITAL,
}
DEFECTS = (
    d.InvalidCheckDigit("id_number", reserved=lambda world: ~world.people.referenceable),
    d.MissingRequired(("name", "address")),
    d.BirthDateMismatch("birth_date", "id_number"),
    d.DuplicateKey(),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("community_code", bad_community),
)
_PHRASES = (
    "户口迁入",
    "户口迁出待办结",
    "信息已核实",
    "出生登记",
    "大学生户口迁回",
    "分户",
    "退役军人户口恢复",
    "户籍地址门牌更新",
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    people, geo = world.people, world.geo
    n = len(people)
    text, planted = remarks(
        world, rng, "remarks", n, _PHRASES, 0.15, {"cn_mobile": 0.5, "cn_resident_id": 0.3, "cn_uscc": 0.2}
    )
    return Table(
        {
            "id_number": people.id_number,
            "name": people.name,
            "gender": take(GENDERS, people.gender - 1),
            "birth_date": pa.array(people.birth),
            "ethnicity": take(ETHNICITIES, people.ethnicity),
            "district_code": take(geo.district_code, people.district),
            "town_code": take(geo.town_code, people.town),
            "community_code": take(geo.community_code, people.community),
            "address": people.address.take(pa.array(people.household)),
            "mobile": people.mobile,
            "household_id": people.household_id.take(pa.array(people.household)),
            "relation_to_head": take(RELATIONS, people.relation),
            "education": where(people.education >= 0, take(EDUCATION, np.maximum(people.education, 0)), None),
            "marital_status": take(MARITAL, people.marital),
            "updated_at": pa.array(fresh_timestamps(rng, n, DATASET.update_cycle)),
            "remarks": text,
        },
        [planted],
    )
