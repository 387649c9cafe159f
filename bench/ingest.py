"""Ingest throughput: ``ingest_files`` against a bare Arrow CSV → Parquet conversion.

The baseline is what converting without any checking costs: ``pyarrow.csv.read_csv`` (type
inference) then ``pyarrow.parquet.write_table``. Ingest adds encoding detection, the upload
hash, schema and per-value type checks, duplicate keys and the atomic publish; the goal is to
stay within 1.5× of the baseline on a 1M-row, 15-column household register.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from sandbox.catalog.ingest import ingest_files
from sandbox.domain.catalog import Column, ColumnRole, ColumnType, Dataset, ProvisionMethod, UpdateCycle

GOAL = 1.5

COLUMNS = [
    ("person_id", ColumnType.STRING, ColumnRole.DIRECT_ID),
    ("id_card", ColumnType.STRING, ColumnRole.DIRECT_ID),
    ("name", ColumnType.STRING, ColumnRole.DIRECT_ID),
    ("gender", ColumnType.STRING, ColumnRole.QUASI_ID),
    ("birth_date", ColumnType.DATE, ColumnRole.QUASI_ID),
    ("district_code", ColumnType.STRING, ColumnRole.QUASI_ID),
    ("address", ColumnType.STRING, ColumnRole.QUASI_ID),
    ("mobile", ColumnType.STRING, ColumnRole.DIRECT_ID),
    ("income", ColumnType.DOUBLE, ColumnRole.SENSITIVE),
    ("household_size", ColumnType.INTEGER, ColumnRole.ATTRIBUTE),
    ("is_disabled", ColumnType.BOOLEAN, ColumnRole.SENSITIVE),
    ("registered_at", ColumnType.TIMESTAMP, ColumnRole.ATTRIBUTE),
    ("score", ColumnType.DOUBLE, ColumnRole.ATTRIBUTE),
    ("age", ColumnType.INTEGER, ColumnRole.QUASI_ID),
    ("remark", ColumnType.STRING, ColumnRole.FREE_TEXT),
]

DATASET = Dataset(
    id="bench_household",
    title="户籍人口（基准测试）",
    provider="bench",
    update_cycle=UpdateCycle.MONTHLY,
    provision=(ProvisionMethod.FILE,),
    keys=("person_id",),
    columns=tuple(Column(n, n, t, r) for n, t, r in COLUMNS),
)


def generate(rows: int, path: Path) -> None:
    """A deterministic register: ids, Chinese names and addresses, dates, numbers, flags."""
    rng = np.random.default_rng(20240101)
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
    given = np.array(list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"))
    roads = np.array(["东风路", "人民路", "建设大道", "解放街", "新华路", "光明巷"])

    def pick(values, n=rows):
        return values[rng.integers(0, len(values), n)]

    birth = np.datetime64("1930-01-01") + rng.integers(0, 30000, rows).astype("timedelta64[D]")
    registered = np.datetime64("2015-01-01T00:00:00") + rng.integers(0, 300_000_000, rows).astype(
        "timedelta64[s]"
    )
    table = pa.table(
        {
            "person_id": np.char.add("P", np.char.zfill(np.arange(rows).astype(str), 9)),
            "id_card": np.char.add("420281", np.char.zfill(rng.integers(0, 10**12, rows).astype(str), 12)),
            "name": np.char.add(np.char.add(pick(surnames), pick(given)), pick(given)),
            "gender": pick(np.array(["男", "女"])),
            "birth_date": pa.array(birth).cast(pa.date32()),
            "district_code": pick(np.array(["420281", "420202", "420203", "420204", "420205"])),
            "address": np.char.add(
                np.char.add("湖北省大冶市", pick(roads)),
                np.char.add(rng.integers(1, 999, rows).astype(str), "号"),
            ),
            "mobile": np.char.add("1", rng.integers(3 * 10**9, 9 * 10**9, rows).astype(str)),
            "income": np.round(rng.gamma(2.0, 3000.0, rows), 2),
            "household_size": rng.integers(1, 8, rows),
            "is_disabled": pick(np.array(["false"] * 19 + ["true"])),
            "registered_at": pa.array(registered.astype("datetime64[s]")),
            "score": np.round(rng.random(rows) * 100, 3),
            "age": rng.integers(0, 100, rows),
            "remark": pick(np.array(["", "低保户", "独居老人", "残疾人", "无"])),
        }
    )
    pv.write_csv(table, path)


def run_ingest(csv: Path, scratch: Path, round_: int) -> float:
    start = time.perf_counter()
    ingest_files(
        DATASET,
        [csv],
        target_dir=scratch / f"v{round_}",
        quarantine_root=scratch / "quarantine",
        work_dir=scratch / "work",
    )
    return time.perf_counter() - start


def run_baseline(csv: Path, scratch: Path, round_: int) -> float:
    start = time.perf_counter()
    pq.write_table(pv.read_csv(csv), scratch / f"baseline-{round_}.parquet")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="shuyu-bench-ingest-"))
    try:
        csv = scratch / "household.csv"
        generate(args.rows, csv)
        print(f"input: {args.rows:,} rows × {len(COLUMNS)} columns, {csv.stat().st_size / 1e6:.1f} MB")
        run_baseline(csv, scratch, -1)  # one untimed round each: page cache, allocator, imports
        run_ingest(csv, scratch, -1)
        ingest, baseline = [], []
        for round_ in range(args.rounds):
            ingest.append(run_ingest(csv, scratch, round_))
            baseline.append(run_baseline(csv, scratch, round_))
            print(f"round {round_ + 1}: ingest_files {ingest[-1]:.3f} s   baseline {baseline[-1]:.3f} s")
        ratio = statistics.median(ingest) / statistics.median(baseline)
        print(
            f"median: ingest_files {statistics.median(ingest):.3f} s, "
            f"baseline (pyarrow read_csv → write_table) {statistics.median(baseline):.3f} s"
        )
        print(f"ratio {ratio:.2f} (goal ≤ {GOAL}) {'OK' if ratio <= GOAL else 'ABOVE GOAL'}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
