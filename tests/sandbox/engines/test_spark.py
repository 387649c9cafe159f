"""The session factory: scoped settings (planned with inside the block, gone after it, even on error), and
the one context a process has, kept where it serves and replaced where it does not."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from sandbox.engines.spark import _bind_address, session_conf, spark_from_settings
from sandbox.settings import Settings

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


def test_a_running_local_context_serves_local_work_and_is_kept(spark, tmp_path):
    """Work that must stay local (an ingest: ``master="local[*]"``) in a process whose Spark is local
    already gets that Spark, not a new one: only a context on a cluster is stopped for it (and the
    reverse), which tests/sandbox/cluster shows on a real cluster."""
    settings = Settings(home=tmp_path, spark_master="local[*]")
    assert spark_from_settings(settings, master="local[*]") is spark
    assert not spark.sparkContext._jsc.sc().isStopped()


def test_a_driver_listens_on_its_own_address_and_on_every_interface_only_for_a_container_name():
    """The gate's driver on a local cluster listens on the segment's host-only address, never on every
    interface of this machine (where it would be reachable from off the machine)."""
    assert _bind_address("127.0.0.1") == "127.0.0.1"
    assert _bind_address("10.213.44.1") == "10.213.44.1"
    assert _bind_address("worker") == "0.0.0.0"
