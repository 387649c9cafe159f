"""The trusted gate alone vs the same aggregation in plain Spark, side by side, in one process.

(a) Shuyu: ``gate_job`` on a staged contribution frame — schema and domain checks, per-entity
    contribution bounding, cell aggregates (distinct entities, sum, mean, exact median, top-2
    contributions), every disclosure rule, secondary suppression, tables and report.
(b) Baselines, on the same Parquet, collected, no checks: (1) ``groupBy(dimensions).agg(countDistinct
    (entity), sum, avg, percentile)`` — what a plain Spark job would write; (2) the gate's own
    two-step algorithm (per entity and cell, then per cell) — the gate's pure overhead.

Both run with and without margins (grouping sets / ``cube``). Prints medians and the ratios.

Then the gate's own defences against what a job might say, on vs off (issue 17; goal ≤ 1.25×): the real-
entity check against the input's subject column, the release register (each round after the first
compares every cell with the previous round's release of the same people, then records its own) and
the protection-interval audit — vs ``gate_job`` with none of them (the audit replaced by a no-op here,
in the benchmark only). Prints the register's bytes per released cell and the audit's time per table
family. ``bench/gate.py`` covers the full production path; this isolates the gate.

    .venv/bin/python bench/gate_aggregate.py [--rows 5000000] [--rounds 3] [--part all|baselines|defences]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from pyspark.sql import functions as F  # noqa: E402

from sandbox.context import PlatformContext  # noqa: E402
from sandbox.domain.job import Aggregate, Domain, InputSpec, JobManifest, Measure, OutputSpec  # noqa: E402
from sandbox.engines.spark import spark_session  # noqa: E402
from sandbox.gate import gate_job, intervals, load_policy, pipeline  # noqa: E402
from sandbox.gate.entities import EntitySource  # noqa: E402
from sandbox.gate.register import ReleaseRegister  # noqa: E402
from sandbox.settings import Settings  # noqa: E402
from sandbox.store.models import ReleaseCellRow, ReleaseRow  # noqa: E402

DISTRICTS = tuple(f"4299{i:02d}" for i in range(20))
AGE_BANDS = ("0-17", "18-39", "40-59", "60-79", "80+")


def _stage(spark, staging: Path, rows: int) -> None:
    """``rows`` contribution rows over 0.8·rows entities (some entities in two cells), 100 cells."""
    entities = int(rows * 0.8)
    frame = spark.range(rows).select(
        (F.col("id") % entities).alias("person_id"),
        F.element_at(F.array(*[F.lit(d) for d in DISTRICTS]), (F.col("id") % 20 + 1).cast("int")).alias(
            "district"
        ),
        F.element_at(F.array(*[F.lit(a) for a in AGE_BANDS]), (F.col("id") % 7 % 5 + 1).cast("int")).alias(
            "age_band"
        ),
        (F.xxhash64("id") % 2 == 0).cast("int").alias("disabled"),
        (F.abs(F.xxhash64("id", F.lit(1))) % 100000).cast("double").alias("income"),
    )
    for name in ("people", "people_totals"):
        frame.write.mode("overwrite").parquet(str(staging / name))


def _manifest() -> JobManifest:
    measures = (
        Measure("people", Aggregate.COUNT),
        Measure("disabled_share", Aggregate.MEAN, "disabled", (0.0, 1.0)),
        Measure("income", Aggregate.SUM, "income", (0.0, 200000.0)),
        Measure("median_income", Aggregate.MEDIAN, "income", (0.0, 200000.0)),
    )
    domains = {"district": Domain(DISTRICTS), "age_band": Domain(AGE_BANDS)}

    def output(name: str, totals: bool) -> OutputSpec:
        return OutputSpec(name, "person_id", ("district", "age_band"), measures, domains, totals=totals)

    return JobManifest("bench_gate", "网关基准", "bench", "job.py", (InputSpec("people", "bench_people", ("person_id",)),),
                       (output("people", False), output("people_totals", True)))  # fmt: skip


def _plain_one_step(spark, staging: Path, name: str, totals: bool) -> None:
    """What a plain Spark job would write: distinct entities and the aggregates in one ``agg``."""
    frame = spark.read.parquet(str(staging / name))
    grouped = frame.cube("district", "age_band") if totals else frame.groupBy("district", "age_band")
    grouped.agg(
        F.countDistinct("person_id"), F.avg("disabled"), F.sum("income"), F.percentile("income", 0.5)
    ).collect()


def _plain_two_step(spark, staging: Path, name: str, totals: bool) -> None:
    """The gate's own algorithm without any check: per entity and cell first, then per cell."""
    frame = spark.read.parquet(str(staging / name))
    keys = ["person_id", "district", "age_band"]
    if totals:
        sets = [keys, ["person_id", "district"], ["person_id", "age_band"], ["person_id"]]
        per_entity = frame.groupingSets(sets, *keys).agg(
            F.sum("disabled").alias("disabled"), F.sum("income").alias("income"), F.grouping_id().alias("g")
        )
    else:
        per_entity = frame.groupBy(*keys).agg(
            F.sum("disabled").alias("disabled"), F.sum("income").alias("income")
        )
        per_entity = per_entity.withColumn("g", F.lit(0))
    per_entity.groupBy("g", "district", "age_band").agg(
        F.count(F.lit(1)), F.avg("disabled"), F.sum("income"), F.percentile("income", 0.5)
    ).collect()


def _gate(spark, staging: Path, out: Path, job: JobManifest, name: str, policy) -> None:
    single = JobManifest(
        job.id,
        job.title,
        job.scenario,
        job.entry,
        job.inputs,
        tuple(o for o in job.outputs if o.name == name),
    )
    shutil.rmtree(out, ignore_errors=True)
    gate_job(
        spark,
        single,
        staging,
        out,
        policy=policy,
        code_tables={},
        ledger=None,
        input_datasets=["bench_people"],
    )


def _defended(spark, staging: Path, out: Path, job: JobManifest, register: ReleaseRegister, subjects: Path,
              policy, run: list[int]) -> None:  # fmt: skip
    run[0] += 1
    shutil.rmtree(out, ignore_errors=True)
    gate_job(spark, job, staging, out, policy=policy, code_tables={}, ledger=None, input_datasets=["bench_people"],
             entity_sources=[EntitySource(subjects, "person_id")], register=register, run_id=f"bench-{run[0]}")  # fmt: skip


def _undefended(spark, staging: Path, out: Path, job: JobManifest, policy) -> None:
    shutil.rmtree(out, ignore_errors=True)
    audit = pipeline.intervals.audit
    pipeline.intervals.audit = lambda *a, **k: intervals.Audit()  # the benchmark's "off" switch only
    try:
        gate_job(spark, job, staging, out, policy=policy, code_tables={}, ledger=None,
                 input_datasets=["bench_people"])  # fmt: skip
    finally:
        pipeline.intervals.audit = audit


def _audit_timer() -> list[float]:
    """Wraps the audit to record its time per table family (one call per privacy unit)."""
    seconds: list[float] = []
    audit = intervals.audit

    def timed(*args, **kwargs):
        result = audit(*args, **kwargs)
        seconds.append(result.seconds)
        return result

    pipeline.intervals.audit = timed
    return seconds


def _defences(spark, work: Path, staging: Path, rows: int, rounds: int, policy) -> None:
    subjects = work / "subjects"
    spark.range(int(rows * 0.8)).select(F.col("id").alias("person_id")).write.parquet(str(subjects))
    ctx = PlatformContext(Settings(home=work / "home", database_url=None), actor="bench")
    ctx.init_home()
    job = _manifest()
    register, run = ReleaseRegister(ctx, actor="bench"), [0]
    seconds = _audit_timer()
    on = _time(lambda: _defended(spark, staging, work / "out", job, register, subjects, policy, run), rounds)
    pipeline.intervals.audit = intervals.audit
    off = _time(lambda: _undefended(spark, staging, work / "out", job, policy), rounds)
    with ctx.sessions() as session:
        releases = session.query(ReleaseRow).all()
        cells = session.query(ReleaseCellRow).count()
    stored = sum(r.member_bytes for r in releases)
    print(f"defences on (entity check, register, interval audit) {on:.2f} s | off {off:.2f} s | "
          f"ratio {on / off:.2f}x (goal <= 1.25x)")  # fmt: skip
    print(f"register: {len(releases)} releases, {cells} cells, {stored / max(cells, 1):,.0f} bytes per released "
          f"cell ({stored / max(len(releases), 1) / 1e6:.1f} MB per release of {int(rows * 0.8):,} people)")  # fmt: skip
    print(f"interval audit per table family: median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms over {len(seconds)} audits")  # fmt: skip
    ctx.engine.dispose()


def _time(action, rounds: int) -> float:
    action()  # warm-up: JIT, file listing caches
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--part", choices=("all", "baselines", "defences"), default="all")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-gate-"))
    spark = spark_session(
        args.master,
        app_name="bench-gate",
        local_dir=work / "spark",
        extra_conf={"spark.ui.showConsoleProgress": "false"},
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        staging = work / "staging"
        _stage(spark, staging, args.rows)
        job, policy = _manifest(), load_policy()
        print(f"{args.rows:,} contribution rows, 100 cells, {args.master}, median of {args.rounds}")
        for name, totals in (("people", False), ("people_totals", True)) if args.part != "defences" else ():
            gate = _time(lambda n=name: _gate(spark, staging, work / "out", job, n, policy), args.rounds)
            one = _time(lambda n=name, t=totals: _plain_one_step(spark, staging, n, t), args.rounds)
            two = _time(lambda n=name, t=totals: _plain_two_step(spark, staging, n, t), args.rounds)
            print(
                f"{'with margins' if totals else 'cells only'}: gate_job {gate:.2f} s | plain Spark, one agg "
                f"{one:.2f} s (ratio {gate / one:.2f}x) | plain Spark, two steps {two:.2f} s (ratio {gate / two:.2f}x)"
            )
        if args.part != "baselines":
            _defences(spark, work, staging, args.rows, args.rounds, policy)
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
