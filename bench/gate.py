"""Full production path vs plain Spark, side by side (issue 5).

(a) Shuyu: ``promote`` — the run in its own isolated process (network namespace, memory cgroup):
    the job's plans built in the jail, verified, run and written to staging as contribution frames; the trusted gate in another process (started alongside
    the job, reading staging once the job has exited: aggregation, every disclosure rule, report),
    atomic release of the product version.
(b) Baseline: the same aggregation in plain Spark in one process (start, read, group, write).
(c) The same baseline, its JVM given Shuyu's class-data-sharing archive
    (``sandbox.engines.class_archive``), which Shuyu's own JVMs start with: how much of the gap is
    only JVM start-up.

Prints the medians and the ratios (goal ≤ 1.3× against (b)), where Shuyu's time goes (job process,
gate after the job; in the job process, building the plans in the jail and verifying them), and both processes' peak memory from their cgroups. ``bench/memory.py`` is the 10M-person
run with a 2 GB driver.

    .venv/bin/python bench/gate.py [--people 5000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

DISTRICTS = ["429902", "429903", "429904", "429921", "429922", "429923"]
JOB_TOML = """id = "bench_income"
title = "收入分布基准"
scenario = "bench"
[inputs.people]
dataset = "bench_people"
columns = ["id_number", "district_code", "birth_year", "income"]
[outputs.income_by_district_age]
entity = "id_number"
dimensions = ["district_code", "age_band"]
measures = [{ name = "people", agg = "count" }, { name = "mean_income", agg = "mean", column = "income", bounds = [0, 100000] }]
public_domains = true
[outputs.income_by_district_age.domains]
district_code = { code_table = "district" }
age_band = ["0-17", "18-39", "40-59", "60+"]
"""
JOB_PY = """from pyspark.sql import functions as F


def build(ctx):
    age = F.lit(ctx.as_of.year) - F.col("birth_year")
    band = F.when(age < 18, "0-17").when(age < 40, "18-39").when(age < 60, "40-59").otherwise("60+")
    people = ctx.input("people").withColumn("age_band", band)
    return {"income_by_district_age": people.select("id_number", "district_code", "age_band", "income")}
"""
BASELINE = """
import sys, time
from pyspark.sql import SparkSession, functions as F
started = time.perf_counter()
spark = (SparkSession.builder.master("local[*]").config("spark.driver.host", "127.0.0.1")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", sys.argv[3])
         .config("spark.driver.extraJavaOptions", sys.argv[4]).getOrCreate())
age = F.lit(%d) - F.col("birth_year")
band = F.when(age < 18, "0-17").when(age < 40, "18-39").when(age < 60, "40-59").otherwise("60+")
people = spark.read.parquet(sys.argv[1]).withColumn("age_band", band)
clipped = F.least(F.greatest(F.col("income"), F.lit(0.0)), F.lit(100000.0))
out = people.groupBy("district_code", "age_band").agg(F.countDistinct("id_number").alias("people"), F.avg(clipped).alias("mean_income"))
out.write.mode("overwrite").parquet(sys.argv[2])
spark.stop()
"""


def make_people(path: Path, people: int, seed: int = 3) -> None:
    """Deterministic people in chunks (no row-level Python): id, district, birth year, skewed income."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    chunk = 1_000_000
    for start in range(0, people, chunk):
        n = min(chunk, people - start)
        ids = np.char.add("4299", np.char.zfill((np.arange(start, start + n)).astype(str), 14))
        table = pa.table({
            "id_number": pa.array(ids.astype(object)),
            "district_code": pa.array(np.array(DISTRICTS, dtype=object)[rng.integers(0, 6, n)]),
            "birth_year": pa.array(rng.integers(1925, 2026, n).astype(np.int64)),
            "income": pa.array(rng.lognormal(8.5, 0.9, n)),
        })  # fmt: skip
        pq.write_table(table, path / f"part-{start // chunk:05d}.parquet")


def setup_platform(home: Path, people_dir: Path, driver_memory: str = "2g"):
    from sandbox.catalog.service import ingest, load_catalog, read_catalog_file
    from sandbox.context import PlatformContext
    from sandbox.demo.cast import create_cast
    from sandbox.demo.scenarios import authorize_operator, take_to_active
    from sandbox.domain.scenario import ScenarioCategory
    from sandbox.governance.access import principal_for
    from sandbox.governance.identities import bootstrap_admin
    from sandbox.governance.scenarios import ColumnRequest
    from sandbox.settings import Settings

    catalog_path = home.parent / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump({
        "code_tables": {"district": DISTRICTS},
        "providers": [{"id": "bench", "name": "基准数据提供单位"}],
        "datasets": [{
            "id": "bench_people", "title": "基准人口", "provider": "bench", "update_cycle": "每月", "keys": ["id_number"],
            "entity": "id_number", "max_duplicate_key_rate": 0.0,
            "columns": [
                {"name": "id_number", "title": "标识", "type": "string", "role": "direct_id", "pii": "record_id"},
                {"name": "district_code", "title": "区县", "type": "string", "role": "quasi_id", "code_table": "district"},
                {"name": "birth_year", "title": "出生年", "type": "integer", "role": "quasi_id"},
                {"name": "income", "title": "收入", "type": "double", "role": "sensitive"},
            ],
        }],
    }, allow_unicode=True), encoding="utf-8")  # fmt: skip
    ctx = PlatformContext(Settings(home=home, spark_driver_memory=driver_memory), actor="admin")
    ctx.init_home()
    bootstrap_admin(ctx)
    catalog = read_catalog_file(catalog_path).catalog
    load_catalog(ctx, principal_for(ctx, "admin"), catalog)
    create_cast(ctx, catalog)
    ingest(ctx, principal_for(ctx, "provider-bench"), "bench_people", sorted(people_dir.glob("*.parquet")))
    authorize_operator(ctx, catalog)
    take_to_active(ctx, catalog, {
        "scenario_id": "bench", "title": "基准", "category": ScenarioCategory.PUBLIC_WELFARE, "description": "benchmark",
        "value_statement": "benchmark", "planned_products": ["bench_income"],
        "columns": [ColumnRequest("bench_people", c, "基准") for c in ("id_number", "district_code", "birth_year", "income")],
    })  # fmt: skip
    return ctx


def approved_submission(ctx, job: Path):
    """The benchmark job, submitted by a developer and approved by another operator."""
    from sandbox.governance.access import principal_for
    from sandbox.runtime import submissions

    job.mkdir()
    (job / "job.toml").write_text(JOB_TOML, encoding="utf-8")
    (job / "job.py").write_text(JOB_PY, encoding="utf-8")
    submission = submissions.submit(ctx, principal_for(ctx, "developer-1"), job)
    submissions.review(ctx, principal_for(ctx, "operator-2"), submission.id, approve=True, comment="bench")
    return submission


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--driver-memory", default="2g")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-gate-"))
    try:
        _measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(args, work: Path) -> None:
    from sandbox.engines import class_archive
    from sandbox.governance.access import principal_for
    from sandbox.runtime import production
    from sandbox.runtime.production import RunLimits

    people_dir = work / "people"
    make_people(people_dir, args.people)
    ctx = setup_platform(work / "home", people_dir, args.driver_memory)
    submission = approved_submission(ctx, work / "job")
    raw = next((ctx.settings.raw_dir / "bench_people").iterdir())
    limits = RunLimits(driver_memory=args.driver_memory, memory_bytes=8 * 1024**3)
    baseline_script = BASELINE % date.today().year

    archived = class_archive.java_options()
    shuyu, plain, plain_archived, job_s, gate_s, peaks, gate_peaks = [], [], [], [], [], [], []
    build_s, verify_s = [], []
    for round_ in range(args.rounds):
        started = time.perf_counter()
        run = production.promote(ctx, principal_for(ctx, "operator-2"), submission.id, limits=limits)
        shuyu.append(time.perf_counter() - started)
        assert run.state == "released", run.gate_summary_json
        isolation, timings = json.loads(run.isolation_json), json.loads(run.timings_json)
        peaks.append(isolation["peak_memory_bytes"] or 0)
        gate_peaks.append(isolation["gate_peak_memory_bytes"] or 0)
        job_s.append(timings["job_process_s"])
        gate_s.append(timings["gate_s"])
        build_s.append(timings["build_s"])
        verify_s.append(timings["verify_s"])
        for times, java_options in ((plain, ""), (plain_archived, archived)):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", baseline_script, str(raw), str(work / f"plain-{round_}"),
                            args.driver_memory, java_options], check=True, capture_output=True)  # fmt: skip
            times.append(time.perf_counter() - started)
            shutil.rmtree(work / f"plain-{round_}")
        print(f"round {round_ + 1}: shuyu {shuyu[-1]:.1f}s (job process {job_s[-1]:.1f}s, gate after it "
              f"{gate_s[-1]:.1f}s)  plain spark {plain[-1]:.1f}s  ratio {shuyu[-1] / plain[-1]:.2f}x  "
              f"plain spark with the class archive {plain_archived[-1]:.1f}s  "
              f"(1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)  # fmt: skip
    a, b = statistics.median(shuyu), statistics.median(plain)
    print(f"people/contribution rows: {args.people:,}; driver memory {args.driver_memory}")
    print(f"shuyu production path (isolated job + gate + release): median {a:.1f}s")
    print(f"plain spark, one process:                              median {b:.1f}s")
    paired = statistics.median([x / y for x, y in zip(shuyu, plain, strict=True)])
    print(f"ratio: {a / b:.2f}x (goal <= 1.3x); median of the per-round ratios (each pair run back to back, "
          f"less exposed to other load): {paired:.2f}x")  # fmt: skip
    job_median, gate_median = statistics.median(job_s), statistics.median(gate_s)
    if archived:
        c = statistics.median(plain_archived)
        print(f"plain spark with Shuyu's class archive:                median {c:.1f}s; ratio {a / c:.2f}x")
    else:
        print("(no class archive built: python -m sandbox.engines.class_archive)")
    print(f"  of which job process {job_median:.1f}s, gate after the job {gate_median:.1f}s")
    print(f"  in the job process: plans built in the jail {statistics.median(build_s):.2f}s, "
          f"plans verified {statistics.median(verify_s) * 1000:.0f} ms (goal <= 200 ms per job)")  # fmt: skip
    print(f"peak memory (cgroups): job process {max(peaks) / 1024**3:.2f} GiB, "
          f"gate process {max(gate_peaks) / 1024**3:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
