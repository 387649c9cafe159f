"""不动产登记信息 (市资规局): titles to the registered part of the housing stock."""

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
    negative,
)
from sandbox.synth.homes import USAGES
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="real_estate",
    title="不动产登记信息",
    provider="zigui",
    update_cycle=UpdateCycle.WEEKLY,
    provision=PROVISION,
    keys=("cert_no",),
    entity="owner_id_number",
    timestamp_column="updated_at",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("cert_no", "不动产权证号", "string", "attribute", pii="record_id", personal_info=PI_GENERAL,
            required=True),
        col("owner_id_number", "权利人证件号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        district_column(),
        community_column(),
        col("address", "坐落", "string", "quasi_id", pii="address", personal_info=PI_GENERAL, required=True),
        col("floor_area", "建筑面积（平方米）", "double", "sensitive", personal_info=PI_SENSITIVE,
            value_range=(1, 100_000), required=True),
        col("usage", "用途", "string", "attribute", code_table="property_usage", required=True),
        col("registration_date", "登簿日期", "date", "attribute", personal_info=PI_GENERAL, required=True),
        col("mortgaged", "是否抵押", "boolean", "sensitive", personal_info=PI_SENSITIVE, required=True),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
    ),
)  # fmt: skip
CODE_TABLES = {"property_usage": USAGES}
DEFECTS = (
    d.MissingRequired(("address", "registration_date")),
    d.DuplicateKey(),
    d.OrphanReference(("owner_id_number",)),
    d.OutOfRange("floor_area", negative),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("community_code", bad_community),
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    homes, geo = world.homes, world.geo
    rows = np.flatnonzero(homes.registered)
    index = pa.array(rows)
    return Table({
        "cert_no": homes.cert_no.take(index),
        "owner_id_number": world.people.id_number.take(pa.array(homes.owner[rows])),
        "district_code": take(geo.district_code, homes.district[rows]),
        "community_code": take(geo.community_code, homes.community[rows]),
        "address": homes.address.take(index),
        "floor_area": pa.array(homes.floor_area[rows]),
        "usage": take(USAGES, homes.usage[rows]),
        "registration_date": pa.array(homes.registration_date[rows]),
        "mortgaged": pa.array(homes.mortgaged[rows]),
        "updated_at": pa.array(fresh_timestamps(rng, len(rows), DATASET.update_cycle)),
    })  # fmt: skip
