"""养老机构基本信息 (市民政局): care homes, placed where the old people live."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth import identifiers as ids
from sandbox.synth.addresses import streets
from sandbox.synth.datasets.common import (
    PROVISION,
    bad_community,
    community_column,
    district_column,
    negative,
)
from sandbox.synth.geography import AREA_CODE, CITY
from sandbox.synth.strings import join, take, where
from sandbox.synth.table import Table, col
from sandbox.synth.timeline import AS_OF, between
from sandbox.synth.world import World

DATASET = Dataset(
    id="elderly_care_institutions",
    title="养老机构基本信息",
    provider="minzheng",
    update_cycle=UpdateCycle.QUARTERLY,
    provision=PROVISION,
    keys=("institution_uscc",),
    entity="institution_uscc",
    grade=DataGrade.GENERAL,
    columns=(
        col("institution_uscc", "统一社会信用代码", "string", "direct_id", pii="cn_uscc", required=True),
        col("name", "机构名称", "string", "direct_id", pii="org_name", required=True),
        district_column(),
        community_column(),
        col("address", "机构地址", "string", "quasi_id", pii="address", required=True),
        col("beds", "床位数", "integer", "attribute", value_range=(1, 5000), required=True),
        col("occupied_beds", "在住老人数", "integer", "sensitive", value_range=(0, 5000), required=True),
        col("nature", "机构性质", "string", "attribute", code_table="institution_nature", required=True),
        col("phone", "联系电话", "string", "direct_id", pii="cn_landline"),
        col("established_date", "成立日期", "date", "attribute", required=True),
    ),
)  # fmt: skip
NATURES = ("公办", "民办", "公建民营")
CODE_TABLES = {"institution_nature": NATURES}
DEFECTS = (
    d.InvalidCheckDigit("institution_uscc"),
    d.MissingRequired(("name", "address")),
    d.DuplicateKey(),
    d.OutOfRange("occupied_beds", negative),
    d.CodeNotInTable("community_code", bad_community),
    d.FieldOrder("occupied_beds", "beds", move_low=True),
)
_PRIVATE = ("颐养中心", "老年公寓", "康养中心", "护理院")


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    people, geo = world.people, world.geo
    n = max(30, round(len(people) / 5000))
    elderly = np.bincount(people.community[people.age >= 60], minlength=len(geo.community_code)).astype(float)
    community = rng.choice(len(elderly), n, p=(elderly + 1) / (elderly + 1).sum())
    nature = rng.choice(len(NATURES), n, p=[0.35, 0.45, 0.2])
    public = nature == 0
    # 公办 homes are public institutions (事业单位, "12"); the others register as 民办非企业单位 ("52")
    kind = np.where(public, "12", "52")
    established = between(rng, np.full(n, np.datetime64("1990-01-01")), np.full(n, AS_OF - 30))
    matrix = world.new_usccs(
        rng, kind, geo.community_district[community], established >= np.datetime64("2015-10-01")
    )
    town = take(geo.town_name, geo.community_town[community])
    brand = take(geo.community_name, community)
    name = where(
        public,
        join(town, "敬老院"),
        join(CITY, pc.utf8_slice_codeunits(brand, 0, 2), take(_PRIVATE, rng.integers(0, len(_PRIVATE), n))),
    )
    beds = np.clip(np.rint(rng.lognormal(np.log(80), 0.7, n)), 10, 2000).astype(np.int64)
    occupied = np.floor(beds * rng.beta(4, 2, n)).astype(np.int64)
    return Table({
        "institution_uscc": ids.to_strings(matrix),
        "name": name,
        "district_code": take(geo.district_code, geo.community_district[community]),
        "community_code": take(geo.community_code, community),
        "address": streets(rng, geo, community),
        "beds": pa.array(beds),
        "occupied_beds": pa.array(occupied),
        "nature": take(NATURES, nature),
        "phone": ids.to_strings(ids.landlines(rng, n, AREA_CODE)),
        "established_date": pa.array(established),
    })  # fmt: skip
