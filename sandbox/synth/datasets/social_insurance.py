"""个人参保信息 (市人社局): one row per insured person and insurance type, employer included."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth.datasets.common import PROVISION, bad_district, district_column
from sandbox.synth.jobs import BASE_CAP, BASE_FLOOR, STATUSES
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import fresh_timestamps
from sandbox.synth.world import World

DATASET = Dataset(
    id="social_insurance",
    title="个人参保信息",
    provider="renshe",
    update_cycle=UpdateCycle.MONTHLY,
    provision=PROVISION,
    keys=("id_number", "insurance_type"),
    entity="id_number",
    timestamp_column="updated_at",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("id_number", "公民身份号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("insurance_type", "险种类型", "string", "attribute", code_table="insurance_type", required=True),
        col("employer_uscc", "参保单位统一社会信用代码", "string", "quasi_id", pii="cn_uscc", required=True,
            references="enterprises.uscc"),
        district_column("参保地区县代码"),
        col("start_date", "参保日期", "date", "attribute", personal_info=PI_GENERAL, required=True),
        col("end_date", "终止日期", "date", "attribute", personal_info=PI_GENERAL),
        col("monthly_base", "月缴费基数（元）", "double", "sensitive", grade="重要", personal_info=PI_SENSITIVE,
            value_range=(BASE_FLOOR, BASE_CAP), required=True),
        col("status", "参保状态", "string", "attribute", code_table="insurance_status", personal_info=PI_GENERAL,
            required=True),
        col("updated_at", "更新时间", "timestamp", "attribute", required=True),
    ),
)  # fmt: skip
#: 险种类型: 企业职工基本养老, 失业, 职工基本医疗, 工伤, 生育
INSURANCE_TYPES = ("110", "210", "310", "410", "510")
_COVERAGE = (1.0, 0.75, 0.95, 0.8, 0.7)
CODE_TABLES = {"insurance_type": INSURANCE_TYPES, "insurance_status": STATUSES}
DEFECTS = (
    d.MissingRequired(("monthly_base", "status")),
    d.DuplicateKey(),
    d.OrphanReference(("employer_uscc",)),
    d.OutOfRange("monthly_base", lambda rng, old: np.where(rng.random(len(old)) < 0.5, 0.0, old * 100)),
    d.StaleRecord("updated_at"),
    d.CodeNotInTable("district_code", bad_district),
    d.FieldOrder("start_date", "end_date"),
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    jobs, firms = world.jobs, world.firms
    covered = rng.random((len(jobs), len(INSURANCE_TYPES))) < np.array(_COVERAGE)
    job, kind = np.nonzero(covered)
    employer = jobs.employer[job]
    return Table({
        "id_number": world.people.id_number.take(pa.array(jobs.person[job])),
        "insurance_type": take(INSURANCE_TYPES, kind),
        "employer_uscc": firms.uscc.take(pa.array(employer)),
        "district_code": take(world.geo.district_code, firms.district[employer]),
        "start_date": pa.array(jobs.start[job]),
        "end_date": pa.array(jobs.end[job], type=pa.date32()),
        "monthly_base": pa.array(jobs.base[job]),
        "status": take(STATUSES, jobs.status[job]),
        "updated_at": pa.array(fresh_timestamps(rng, len(job), DATASET.update_cycle)),
    })  # fmt: skip
