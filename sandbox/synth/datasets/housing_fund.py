"""公积金个人信息 (住房公积金中心): accounts of employees, mostly at companies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth import identifiers as ids
from sandbox.synth.datasets.common import PROVISION, negative
from sandbox.synth.strings import take
from sandbox.synth.table import PI_GENERAL, PI_SENSITIVE, Table, col
from sandbox.synth.timeline import AS_OF, add_years, between
from sandbox.synth.world import World

DATASET = Dataset(
    id="housing_fund",
    title="公积金个人信息",
    provider="gjj",
    update_cycle=UpdateCycle.MONTHLY,
    provision=PROVISION,
    keys=("account_no",),
    entity="id_number",
    grade=DataGrade.IMPORTANT,
    columns=(
        col("account_no", "个人公积金账号", "string", "direct_id", pii="record_id", grade="重要",
            personal_info=PI_SENSITIVE, required=True),
        col("id_number", "公民身份号码", "string", "direct_id", pii="cn_resident_id", grade="核心",
            personal_info=PI_SENSITIVE, required=True, references="hukou_population.id_number"),
        col("employer_uscc", "单位统一社会信用代码", "string", "quasi_id", pii="cn_uscc", required=True,
            references="enterprises.uscc"),
        col("monthly_deposit", "月缴存额（元）", "double", "sensitive", grade="重要", personal_info=PI_SENSITIVE,
            value_range=(0, 5000), required=True),
        col("balance", "账户余额（元）", "double", "sensitive", grade="重要", personal_info=PI_SENSITIVE,
            value_range=(0, 5_000_000), required=True),
        col("status", "账户状态", "string", "attribute", code_table="fund_status", personal_info=PI_GENERAL,
            required=True),
        col("open_date", "开户日期", "date", "attribute", personal_info=PI_GENERAL, required=True),
        col("last_deposit_date", "最近缴存日期", "date", "attribute", personal_info=PI_GENERAL, required=True),
    ),
)  # fmt: skip
FUND_STATUSES = ("正常", "封存", "销户")
CODE_TABLES = {"fund_status": FUND_STATUSES}
DEFECTS = (
    d.MissingRequired(("monthly_deposit", "status")),
    d.DuplicateKey(),
    d.OrphanReference(("id_number", "employer_uscc")),
    d.OutOfRange("balance", negative),
    d.FieldOrder("open_date", "last_deposit_date"),
)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    jobs, firms = world.jobs, world.firms
    p_account = np.where(firms.kind[jobs.employer] == "91", 0.55, 0.1) * np.where(jobs.status == 0, 1.0, 0.6)
    job = np.flatnonzero(rng.random(len(jobs)) < p_account)
    n = len(job)
    still_paying = jobs.status[job] == 0
    status = np.where(still_paying, 0, rng.choice([1, 2], n, p=[0.8, 0.2]))
    stopped = np.where(still_paying, AS_OF - 1, jobs.end[job])
    open_date = between(rng, jobs.start[job], np.minimum(add_years(jobs.start[job], 2), stopped))
    last = between(rng, np.maximum(open_date, np.where(still_paying, AS_OF - 40, open_date)), stopped)
    rate = rng.integers(5, 13, n) / 100
    deposit = np.round(jobs.base[job] * rate * 2, 2)
    months = (last - open_date).astype(np.int64) / 30.4
    balance = np.where(
        status == 2, 0.0, np.round(np.clip(deposit * months * rng.uniform(0.05, 0.9, n), 0, 5e6), 2)
    )
    account = ids.to_strings(ids.digit_matrix(ids.unique_numbers(rng, n, 12), 12))
    return Table({
        "account_no": account,
        "id_number": world.people.id_number.take(pa.array(jobs.person[job])),
        "employer_uscc": firms.uscc.take(pa.array(jobs.employer[job])),
        "monthly_deposit": pa.array(deposit),
        "balance": pa.array(balance),
        "status": take(FUND_STATUSES, status),
        "open_date": pa.array(open_date),
        "last_deposit_date": pa.array(last),
    })  # fmt: skip
