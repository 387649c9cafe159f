"""The frame a run validates: a raw version plus the facts no single row can tell.

A key's multiplicity needs the whole version and a reference needs the target dataset's values.
Both are reduced once to the few rows that matter — the duplicated keys, the values missing from
the target — which are kept in memory and joined back as helper columns. The raw version itself
is not cached: the run's pass scans its Parquet files once (GX's own validation once more, with
``--cross-check``), and a cache would need memory for the whole version.
"""

from __future__ import annotations

from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sandbox.domain.quality import Check, Suite
from sandbox.quality.checks import found_column, group_rows_column


def _small(frame: DataFrame) -> DataFrame:
    """Materialize a reduced set once; Spark broadcasts it to the joins when it is small enough."""
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    frame.count()
    return frame


def prepared_frame(
    spark: SparkSession, suite: Suite, raw_path: Path, targets: dict[str, Path]
) -> tuple[DataFrame, list[DataFrame]]:
    """The raw version with one helper column per uniqueness and reference rule.

    ``targets`` maps each referenced dataset to the raw directory of its current version. Also
    returns the reduced sets it keeps in memory, for the caller to release.
    """
    raw = spark.read.parquet(str(raw_path))
    frame, kept = raw, []
    for rule in suite.rules:
        if rule.check == Check.UNIQUE_KEY:
            rows = group_rows_column(rule)
            repeated = _small(
                raw.groupBy(*rule.columns).agg(F.count(F.lit(1)).alias(rows)).where(F.col(rows) > 1)
            ).alias("repeated")
            on = [frame[c].eqNullSafe(repeated[c]) for c in rule.columns]
            frame = frame.join(repeated, on, "left").select(
                frame["*"], F.coalesce(repeated[rows], F.lit(1)).alias(rows)
            )
            kept.append(repeated)
        elif rule.check == Check.REFERENCES:
            target_dataset, _, target_column = rule.target.partition(".")
            column, value = rule.columns[0], f"__shuyu_value_{rule.id}"
            known = spark.read.parquet(str(targets[target_dataset])).select(F.col(target_column).alias(value))
            missing = _small(
                raw.select(F.col(column).alias(value))
                .where(F.col(value).isNotNull())
                .distinct()
                .join(known, value, "left_anti")
            )
            flagged = missing.withColumn(found_column(rule), F.lit(False))
            frame = frame.join(flagged, frame[column] == flagged[value], "left").select(
                frame["*"], F.coalesce(flagged[found_column(rule)], F.lit(True)).alias(found_column(rule))
            )
            kept.append(missing)
    return frame, kept
