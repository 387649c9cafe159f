"""The session factory's scoped settings: planned with inside the block, gone after it, even on error."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from sandbox.engines.spark import session_conf

BYPASS = "spark.sql.execution.bypassPartialAggregation"


def _partial_aggregation(spark) -> bool:
    grouped = spark.range(100).groupBy((F.col("id") % 10).alias("k")).count()
    return "partial_count" in grouped._jdf.queryExecution().executedPlan().toString()


def test_settings_hold_inside_the_block_and_are_restored(spark):
    assert _partial_aggregation(spark)
    spark.conf.set("spark.sql.shuffle.partitions", "8")
    with session_conf(spark, {BYPASS: "true", "spark.sql.shuffle.partitions": "3"}):
        assert not _partial_aggregation(spark)
        assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
    assert _partial_aggregation(spark)
    assert spark.conf.get("spark.sql.shuffle.partitions") == "8"
    assert spark.conf.get(BYPASS) == "false"


def test_settings_are_restored_when_the_block_fails(spark):
    with pytest.raises(RuntimeError), session_conf(spark, {BYPASS: "true"}):
        raise RuntimeError("query failed")
    assert _partial_aggregation(spark)
