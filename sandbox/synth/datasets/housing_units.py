"""房屋信息 (市住建局): every dwelling and premises, with owner and rental registration."""

from __future__ import annotations

import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import (
    PROVISION,
    bad_community,
    community_column,
    district_column,
)
from sandbox.synth.homes import USAGES
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="housing_units",
    title="房屋信息",
    provider="zhujian",
    update_cycle=UpdateCycle.WEEKLY,
    provision=PROVISION,
    keys=("house_id",),
    entity="owner_id_number",
    timestamp_column="updated_at",
    grade=DataGrade.GENERAL,
    columns=(
        col("house_id", "房屋编码", "string", "attribute", pii="record_id", required=True),
        col("address", "房屋坐落", "string", "quasi_id", pii="address", personal_info=PI_GENERAL, required=True),
        community_column(),
        district_column(),
        col("floor_area", "建筑面积（平方米）", "double", "sensitive", value_range=(1, 100_000), required=True),
        col("building_year", "建成年份", "integer", "attribute", value_range=(1900, 2026), required=True),
        col("usage", "房屋用途", "string", "attribute", code_table="property_usage", required=True),
        col("owner_id_number", "产权人证件号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("rental_registered", "是否租赁备案", "boolean", "attribute", personal_info=PI_GENERAL, required=True),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
    ),
)  # fmt: skip
DEFECTS = (
    d.MissingRequired(("address",)),
    d.DuplicateKey(),
    d.OrphanReference(("owner_id_number",)),
    d.OutOfRange("building_year", lambda rng, old: old + 200),  # a mistyped century
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("community_code", bad_community),
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    homes, geo = world.homes, world.geo
    return Table({
        "house_id": homes.house_id,
        "address": homes.address,
        "community_code": take(geo.community_code, homes.community),
        "district_code": take(geo.district_code, homes.district),
        "floor_area": pa.array(homes.floor_area),
        "building_year": pa.array(homes.building_year),
        "usage": take(USAGES, homes.usage),
        "owner_id_number": world.people.id_number.take(pa.array(homes.owner)),
        "rental_registered": pa.array(homes.rental_registered),
        "updated_at": pa.array(fresh_timestamps(rng, len(homes), DATASET.update_cycle)),
    })  # fmt: skip
