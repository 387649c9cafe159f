"""Failing keys, extracted in Spark and written to the tickets zone; only counts and a few examples reach the driver.

One pass over the prepared frame tags each row with the rules it breaks, keeps the key columns
only (never the other values) and writes, per rule, the distinct failing keys with how many rows
carry each. Keys recorded as exceptions (an upheld dispute) and keys already on an open ticket
are marked, so a new ticket carries only keys nobody has been told about yet.

Layout under a run directory::

    failing/rule=<rule id>/   every failing key: key columns, rows, excepted, on_ticket
    new/rule=<rule id>/       the keys of this run's new ticket for that rule
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as pads
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

from sandbox.domain.catalog import Dataset
from sandbox.domain.quality import KEYED_CHECKS, Rule
from sandbox.quality.checks import RunParameters, failing

EXAMPLES = 3
FAILING = "failing"
NEW = "new"
_RULE_FROM_PATH = r"/rule=([a-z0-9_]+)/"
_RUN_FROM_PATH = r"/runs/([0-9a-f]+)/"


@dataclass(frozen=True)
class RuleKeys:
    rows: int
    keys: int
    excepted_keys: int
    excepted_rows: int
    new_keys: int
    examples: tuple[str, ...]


def _key_condition(left: DataFrame, right: DataFrame, keys: list[str]) -> Column:
    condition = left["rule"] == right["rule"]
    for key in keys:
        condition &= left[key].eqNullSafe(right[key])
    return condition


def _key_sets(spark: SparkSession, paths: Iterable[Path], keys: list[str]) -> DataFrame | None:
    """Keys written earlier under ``.../rule=<id>/`` directories, with their rule, distinct."""
    paths = [str(p) for p in paths]
    if not paths:
        return None
    frame = spark.read.parquet(*paths)
    rule = F.regexp_extract(F.col("_metadata.file_path"), _RULE_FROM_PATH, 1)
    return frame.select(rule.alias("rule"), *keys).distinct()


def _mark(frame: DataFrame, known: DataFrame | None, flag: str, keys: list[str]) -> DataFrame:
    if known is None:
        return frame.withColumn(flag, F.lit(False))
    known = known.withColumn(flag, F.lit(True)).alias("known")
    joined = frame.alias("run").join(
        F.broadcast(known), _key_condition(frame.alias("run"), known, keys), "left"
    )
    return joined.select("run.*", F.coalesce(F.col(f"known.{flag}"), F.lit(False)).alias(flag))


def failing_schema(frame: DataFrame, keys: list[str]) -> StructType:
    fields = [frame.schema[k] for k in keys]
    return StructType(
        [
            *fields,
            StructField("rows", LongType()),
            StructField("excepted", BooleanType()),
            StructField("on_ticket", BooleanType()),
            StructField("rule", StringType()),
        ]
    )


def extract(
    spark: SparkSession,
    frame: DataFrame,
    dataset: Dataset,
    rules: Iterable[Rule],
    params: RunParameters,
    out: Path,
    exceptions: Iterable[Path],
    on_tickets: Iterable[Path],
) -> dict[str, RuleKeys]:
    """Write the failing keys of every keyed rule under ``out``; return per-rule counts and examples."""
    keyed = [r for r in rules if r.check in KEYED_CHECKS]
    keys = list(dataset.keys)
    if not keyed:
        (out / FAILING).mkdir(parents=True, exist_ok=True)  # nothing fails: an empty set, still readable
        return {}
    hits = F.filter(
        F.array(*[F.when(failing(r, dataset, params), F.lit(r.id)) for r in keyed]),
        lambda rule: rule.isNotNull(),
    )
    # explode yields nothing for a clean row; a filter on the array would make Spark evaluate it twice
    grouped = (
        frame.select(F.explode(hits).alias("rule"), *keys)
        .groupBy("rule", *keys)
        .agg(F.count(F.lit(1)).alias("rows"))
    )
    grouped = _mark(grouped, _key_sets(spark, exceptions, keys), "excepted", keys)
    grouped = _mark(grouped, _key_sets(spark, on_tickets, keys), "on_ticket", keys)
    # one task per rule writes one file per rule directory: failing keys are few, small files many
    grouped.select(*keys, "rows", "excepted", "on_ticket", "rule").repartition("rule").write.partitionBy(
        "rule"
    ).parquet(str(out / FAILING))

    written = spark.read.schema(failing_schema(frame, keys)).parquet(str(out / FAILING))
    new = ~F.col("excepted") & ~F.col("on_ticket")
    written.where(new).select("rule", *keys).repartition("rule").write.partitionBy("rule").parquet(
        str(out / NEW)
    )
    key_text = F.concat_ws("|", *[F.col(k).cast("string") for k in keys])
    stats = written.groupBy("rule").agg(
        F.sum("rows").alias("rows"),
        F.count(F.lit(1)).alias("keys"),
        F.count(F.when(F.col("excepted"), 1)).alias("excepted_keys"),
        F.sum(F.when(F.col("excepted"), F.col("rows")).otherwise(0)).alias("excepted_rows"),
        F.count(F.when(new, 1)).alias("new_keys"),
        F.slice(F.array_sort(F.collect_list(F.when(new, key_text))), 1, EXAMPLES).alias("examples"),
    )
    return {
        row["rule"]: RuleKeys(
            int(row["rows"]),
            int(row["keys"]),
            int(row["excepted_keys"]),
            int(row["excepted_rows"]),
            int(row["new_keys"]),
            tuple(row["examples"]),
        )
        for row in stats.collect()
    }


def still_failing(
    spark: SparkSession, dataset: Dataset, failing_dir: Path, ticket_keys: dict[tuple[str, str], Path]
) -> dict[tuple[str, str], int]:
    """For tickets named by (run id, rule id): how many of their keys fail again in this run."""
    if not ticket_keys:
        return {}
    keys = list(dataset.keys)
    earlier = spark.read.parquet(*[str(p) for p in ticket_keys.values()]).select(
        F.regexp_extract(F.col("_metadata.file_path"), _RUN_FROM_PATH, 1).alias("run"),
        F.regexp_extract(F.col("_metadata.file_path"), _RULE_FROM_PATH, 1).alias("rule"),
        *keys,
    )
    schema = StructType([*(earlier.schema[k] for k in keys), StructField("rule", StringType())])
    current = spark.read.schema(schema).parquet(str(failing_dir)).alias("now")
    joined = earlier.alias("then").join(current, _key_condition(earlier.alias("then"), current, keys))
    remaining = {
        (r["run"], r["rule"]): int(r["n"])
        for r in joined.groupBy("then.run", "then.rule").agg(F.count(F.lit(1)).alias("n")).collect()
    }
    return {ticket: remaining.get(ticket, 0) for ticket in ticket_keys}


def read_keys(path: Path) -> list[dict]:
    """A ticket's keys as rows, for the provider's export (read with Arrow; no cluster needed)."""
    return pads.dataset(str(path), format="parquet").to_table().to_pylist()
