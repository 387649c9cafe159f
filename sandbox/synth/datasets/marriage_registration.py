"""婚姻登记信息 (市民政局): marriages of the couples living together, reissues, and divorces."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth import identifiers as ids
from sandbox.synth.datasets.common import PROVISION, bad_district, district_column
from sandbox.synth.people import SPOUSE
from sandbox.synth.strings import join, number, take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import AS_OF, add_years, between
from sandbox.synth.world import World

DATASET = Dataset(
    id="marriage_registration",
    title="婚姻登记信息",
    provider="minzheng",
    update_cycle=UpdateCycle.MONTHLY,
    provision=PROVISION,
    keys=("registration_id",),
    entity="male_id_number",
    grade=DataGrade.IMPORTANT,
    description="男女双方为同一隐私单元，以男方证件号计",
    columns=(
        col("registration_id", "登记证字号", "string", "attribute", pii="record_id", personal_info=PI_GENERAL,
            required=True),
        col("male_id_number", "男方证件号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("female_id_number", "女方证件号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("reg_type", "登记类型", "string", "sensitive", code_table="marriage_type", personal_info=PI_SENSITIVE,
            required=True),
        col("reg_date", "登记日期", "date", "quasi_id", personal_info=PI_GENERAL, required=True),
        district_column("登记机关区县代码"),
    ),
)  # fmt: skip
REG_TYPES = ("结婚", "离婚", "补发")
_PREFIX = ("J", "L", "BJ")
CODE_TABLES = {"marriage_type": REG_TYPES}
DEFECTS = (
    d.MissingRequired(("reg_date",)),
    d.DuplicateKey(),
    d.OrphanReference(("male_id_number", "female_id_number")),
    d.CodeNotInTable("district_code", bad_district),
)
_EARLIEST = np.datetime64("1981-01-01")  # 婚姻法 (1980) in force


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    people = world.people
    ok = people.referenceable
    partner = np.flatnonzero((people.relation == SPOUSE) & ok & ok[np.maximum(people.spouse, 0)])
    other = people.spouse[partner]
    male = np.where(people.gender[partner] == 1, partner, other)
    female = np.where(people.gender[partner] == 1, other, partner)
    earliest = np.maximum(
        np.maximum(add_years(people.birth[male], 22), add_years(people.birth[female], 20)), _EARLIEST
    )
    keep = (earliest < AS_OF - 1) & (rng.random(len(male)) < 0.85)
    male, female, earliest = male[keep], female[keep], earliest[keep]
    married = between(rng, earliest, np.minimum(add_years(earliest, 10), AS_OF - 1))

    reissue = np.flatnonzero(rng.random(len(male)) < 0.05)
    reissued = between(rng, married[reissue] + 1, np.full(len(reissue), AS_OF - 1))

    divorced = ok & (people.marital == 3)
    men = rng.permutation(np.flatnonzero(divorced & (people.gender == 1)))
    women = rng.permutation(np.flatnonzero(divorced & (people.gender == 2)))
    k = int(min(len(men), len(women)) * 0.7)
    men, women = men[:k], women[:k]
    split_earliest = np.maximum(
        np.maximum(add_years(people.birth[men], 22), add_years(people.birth[women], 20)), _EARLIEST
    )
    split = split_earliest < AS_OF - 1
    men, women = men[split], women[split]
    split_date = between(rng, split_earliest[split], np.full(len(men), AS_OF - 1))

    m = np.r_[male, male[reissue], men]
    f = np.r_[female, female[reissue], women]
    kind = np.r_[
        np.zeros(len(male), dtype=np.int64), np.full(len(reissue), 2), np.ones(len(men), dtype=np.int64)
    ]
    date = np.r_[married, reissued, split_date]
    district = people.district[m]
    year = date.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = ids.serials(rng, (kind * 100 + district) * 10_000 + year)
    shuffle = rng.permutation(len(m))
    code = take(world.geo.district_code, district)
    return Table({
        "registration_id": join(take(_PREFIX, kind), code, "-", number(year), "-", number(serial, 6)).take(pa.array(shuffle)),
        "male_id_number": people.id_number.take(pa.array(m[shuffle])),
        "female_id_number": people.id_number.take(pa.array(f[shuffle])),
        "reg_type": take(REG_TYPES, kind[shuffle]),
        "reg_date": pa.array(date[shuffle]),
        "district_code": code.take(pa.array(shuffle)),
    })  # fmt: skip
