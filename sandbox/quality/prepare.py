"""The frame a run validates: a raw version plus the facts no single row can tell.

A key's multiplicity needs a window over the whole version and a reference needs the target
dataset's values; both are computed once here, as helper columns, and the frame is persisted so
GX's aggregation and the key extraction read it without going back to the raw files.
"""

from __future__ import annotations

from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sandbox.domain.quality import Check, Suite
from sandbox.quality.checks import found_column, group_rows_column


def prepared_frame(spark: SparkSession, suite: Suite, raw_path: Path, targets: dict[str, Path]) -> DataFrame:
    """The raw version with one helper column per uniqueness and reference rule, persisted.

    ``targets`` maps each referenced dataset to the raw directory of its current version.
    """
    frame = spark.read.parquet(str(raw_path))
    for rule in suite.rules:
        if rule.check == Check.UNIQUE_KEY:
            frame = frame.withColumn(
                group_rows_column(rule), F.count(F.lit(1)).over(Window.partitionBy(*rule.columns))
            )
        elif rule.check == Check.REFERENCES:
            target_dataset, _, target_column = rule.target.partition(".")
            value = f"__shuyu_value_{rule.id}"
            known = (
                spark.read.parquet(str(targets[target_dataset]))
                .select(F.col(target_column).alias(value))
                .where(F.col(value).isNotNull())
                .distinct()
                .withColumn(found_column(rule), F.lit(True))
            )
            frame = frame.join(known, frame[rule.columns[0]] == known[value], "left").drop(value)
    return frame.persist(StorageLevel.MEMORY_AND_DISK)
