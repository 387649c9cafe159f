"""Quality runs with failing keys: Shuyu against a hand-written Spark SQL pass and against plain GX.

All three check the same rules (the household register's suite: 26 rules — required columns,
key uniqueness, GB 11643 resident IDs, birth date against the ID, eight code tables, freshness,
row count) on the synthetic county's 1M-row household register, in one Spark session, and all
three produce the failing keys:

- Shuyu: ``sandbox.quality.evaluation.evaluate`` — one Spark pass writing the failing keys to
  Parquet and counting what GX needs, GX's verdict and stored result from those counts, exactly
  as ``sandbox quality run`` does;
- (a) one hand-written Spark SQL pass writing (rule, key) pairs to Parquet — no GX, no counts
  per rule, no exceptions or ticket bookkeeping: the floor;
- (b) plain GX with ``result_format=COMPLETE`` and ``unexpected_index_column_names`` — the keys
  come back to the driver inside the validation result.

Goals: Shuyu within 2× of (a) and at least 4× faster than (b).

    .venv/bin/python bench/quality.py [--people 1000000] [--rounds 5]

Round 0 warms up and is not counted; the first counted round is still slower for every side (the
JIT is still compiling), so the medians are taken over five rounds.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig

from sandbox.catalog.ingest import ingest_files
from sandbox.catalog.service import read_catalog_file
from sandbox.domain.quality import Check
from sandbox.engines.spark import spark_session
from sandbox.quality.checks import RESIDENT_ID_CHECK, RESIDENT_ID_WEIGHTS, RunParameters, fresh_since
from sandbox.quality.evaluation import evaluate
from sandbox.quality.expectations import expectation_for
from sandbox.quality.gx_validation import GxWorkspace
from sandbox.quality.suites import bundled_suite_dirs, read_suite
from sandbox.synth import generate

DATASET = "hukou_population"
GOAL_SQL, GOAL_GX = 2.0, 4.0


def hand_written_sql(suite, dataset, params) -> str:
    """The rules as one SELECT a Spark developer would write by hand."""
    checksum = " + ".join(
        f"(ascii(substring(id_number, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(RESIDENT_ID_WEIGHTS)
    )
    cases = []
    for rule in suite.rules:
        c = rule.columns[0] if rule.columns else None
        if rule.check == Check.NOT_NULL:
            cases.append(f"CASE WHEN {c} IS NULL THEN '{rule.id}' END")
        elif rule.check == Check.UNIQUE_KEY:
            cases.append(f"CASE WHEN key_rows > 1 THEN '{rule.id}' END")
        elif rule.check == Check.RESIDENT_ID:
            cases.append(
                f"CASE WHEN {c} IS NOT NULL AND NOT coalesce({c} RLIKE '^[0-9]{{17}}[0-9X]$' "
                f"AND try_to_date(substring({c}, 7, 8), 'yyyyMMdd') IS NOT NULL "
                f"AND substring({c}, 18, 1) = substring('{RESIDENT_ID_CHECK}', (({checksum}) % 11) + 1, 1), false) "
                f"THEN '{rule.id}' END"
            )
        elif rule.check == Check.BIRTH_DATE_MATCHES_ID:
            id_column = rule.columns[1]
            cases.append(
                f"CASE WHEN {c} IS NOT NULL AND {id_column} IS NOT NULL AND "
                f"date_format({c}, 'yyyyMMdd') <> substring({id_column}, 7, 8) THEN '{rule.id}' END"
            )
        elif rule.check == Check.IN_CODE_TABLE:
            values = ", ".join(f"'{v}'" for v in params.code_tables[rule.code_table])
            cases.append(f"CASE WHEN {c} IS NOT NULL AND {c} NOT IN ({values}) THEN '{rule.id}' END")
        elif rule.check == Check.FRESH:
            since = fresh_since(rule, dataset, params.as_of)
            cases.append(f"CASE WHEN {c} < TIMESTAMP '{since} 00:00:00' THEN '{rule.id}' END")
    return (
        "SELECT id_number, rule FROM (SELECT id_number, filter(array("
        + ",\n".join(cases)
        + "), r -> r IS NOT NULL) AS rules FROM (SELECT *, count(*) OVER (PARTITION BY id_number) AS key_rows "
        "FROM hukou)) LATERAL VIEW explode(rules) AS rule"
    )


def run_sql(spark, raw: Path, sql: str, out: Path) -> None:
    spark.read.parquet(str(raw)).createOrReplaceTempView("hukou")
    spark.sql(sql).write.mode("overwrite").parquet(str(out))


def run_shuyu(spark, workspace, suite, dataset, params, raw: Path, out: Path) -> None:
    evaluate(spark, workspace, dataset, suite, params, raw, {}, out, out.name)


def plain_gx_expectations(suite, dataset, params) -> list:
    """The same rules as GX expectations, with GX's own uniqueness instead of Shuyu's helper column."""
    expectations = []
    for rule in suite.rules:
        if rule.check == Check.UNIQUE_KEY:
            expectations.append(gx.expectations.ExpectColumnValuesToBeUnique(column=rule.columns[0]))
        else:
            expectations.append(expectation_for(rule, dataset, params))
    return expectations


def run_plain_gx(spark, suite, dataset, params, raw: Path) -> int:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(
        globally=False
    )  # as Shuyu's context: no terminal output
    source = context.data_sources.add_spark(name="plain")
    batch = source.add_dataframe_asset(name=DATASET).add_batch_definition_whole_dataframe("all")
    rules = context.suites.add(
        gx.ExpectationSuite(name=DATASET, expectations=plain_gx_expectations(suite, dataset, params))
    )
    definition = gx.ValidationDefinition(name=DATASET, data=batch, suite=rules)
    result = context.validation_definitions.add(definition).run(
        batch_parameters={"dataframe": spark.read.parquet(str(raw))},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": list(dataset.keys)},
    )
    return sum(len(r.result.get("unexpected_index_list") or []) for r in result.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "county", people=args.people, seed=7)
        catalog_file = read_catalog_file(root / "county" / "catalog.yaml")
        dataset = next(d for d in catalog_file.catalog.datasets if d.id == DATASET)
        raw = root / "raw" / DATASET
        ingest_files(
            dataset,
            [catalog_file.files[DATASET]],
            target_dir=raw,
            quarantine_root=root / "quarantine",
            work_dir=root / "work",
        )
        code_tables = {k: tuple(v) for k, v in catalog_file.catalog.code_tables.items()}
        suite = read_suite(
            bundled_suite_dirs()[0] / f"{DATASET}.yaml",
            dataset,
            set(code_tables),
            lambda d: dataset.column_names if d == DATASET else None,
        )
        params = RunParameters(date.fromisoformat(catalog_file.as_of), code_tables)
        spark = spark_session(
            "local[*]",
            app_name="shuyu-bench-quality",
            driver_memory="6g",
            local_dir=root / "spark",
            extra_conf={"spark.ui.showConsoleProgress": "false"},
        )
        workspace = GxWorkspace(root / "gx")
        sql = hand_written_sql(suite, dataset, params)
        rows = spark.read.parquet(str(raw)).count()
        print(
            f"{DATASET}: {rows:,} rows, {len(suite.rules)} rules ({len(sql):,} characters of hand-written SQL)"
        )

        times: dict[str, list[float]] = {"shuyu": [], "sql": [], "gx": []}
        jobs = {
            "sql": lambda out: run_sql(spark, raw, sql, out),
            "shuyu": lambda out: run_shuyu(spark, workspace, suite, dataset, params, raw, out),
            "gx": lambda out: run_plain_gx(spark, suite, dataset, params, raw),
        }
        for n in range(args.rounds + 1):  # round 0 warms the JVM and the caches up; not counted
            for name, job in jobs.items():
                start = time.perf_counter()
                job(root / f"{name}-{n}")
                if n:
                    times[name].append(time.perf_counter() - start)
        median = {name: statistics.median(values) for name, values in times.items()}
        failing = spark.read.parquet(str(root / f"sql-{args.rounds}")).count()
        print(f"failing (rule, key) pairs: {failing:,}")
        for name, label in (
            ("shuyu", "Shuyu (one pass + GX verdict)"),
            ("sql", "(a) hand-written Spark SQL"),
            ("gx", "(b) plain GX, COMPLETE"),
        ):
            print(
                f"  {label:34s} median {median[name]:7.2f}s  ({', '.join(f'{t:.2f}' for t in times[name])})"
            )
        vs_sql, vs_gx = median["shuyu"] / median["sql"], median["gx"] / median["shuyu"]
        print(
            f"Shuyu / hand-written SQL = {vs_sql:.2f}×  (goal ≤ {GOAL_SQL}×) {'✓' if vs_sql <= GOAL_SQL else '✗'}"
        )
        print(
            f"plain GX / Shuyu        = {vs_gx:.2f}×  (goal ≥ {GOAL_GX}×) {'✓' if vs_gx >= GOAL_GX else '✗'}"
        )
        spark.stop()


if __name__ == "__main__":
    main()
