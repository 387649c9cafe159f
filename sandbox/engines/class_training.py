"""The class archive's training run: ``python -m sandbox.engines.class_training``, started by
``class_archive.build`` with the archive's path in ``SANDBOX_CLASS_ARCHIVE_TARGET``.

A driver JVM doing, small, the kinds of work Shuyu's drivers do; the JVM writes every class it loaded
into the archive when it exits.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from pyspark.sql import Window
from pyspark.sql import functions as F

from sandbox.engines.connect_planner import Planner
from sandbox.engines.spark import BATCH_DRIVER_JAVA_OPTIONS, spark_session


def train(target: str) -> None:
    """The kinds of work Shuyu's drivers do, small: Parquet in both codecs, aggregates, joins, windows,
    and planning a job's Spark Connect plan (without it, verifying a job's first plan costs 0.5 s more)."""
    with tempfile.TemporaryDirectory(prefix="shuyu-class-archive-") as work:
        spark = spark_session(app_name="shuyu-class-archive", local_dir=Path(work, "spark"),
                              java_options=f"{BATCH_DRIVER_JAVA_OPTIONS} -XX:ArchiveClassesAtExit={target}")  # fmt: skip
        frame = spark.range(20_000).select(
            F.col("id"),
            F.concat(F.lit("k"), (F.col("id") % 997).cast("string")).alias("key"),
            (F.col("id") % 7).cast("string").alias("band"),
            F.rand(1).alias("value"),
        )
        for codec in ("zstd", "lz4_raw"):
            frame.write.option("compression", codec).parquet(f"{work}/{codec}")
        read = spark.read.parquet(f"{work}/lz4_raw")
        bands = spark.createDataFrame([(str(b), b) for b in range(7)], "band string, rank int")
        joined = read.join(F.broadcast(bands), "band", "left").observe("metrics", F.count(F.lit(1)))
        joined.groupingSets([["key", "band"], ["band"]], "key", "band").agg(
            F.sum("value"), F.avg("value"), F.percentile("value", 0.5), F.stddev_samp("value"),
            F.max_by("value", "value", 2), F.approx_count_distinct("key"), F.countDistinct("id"),
        ).collect()  # fmt: skip
        ranked = read.withColumn("n", F.row_number().over(Window.partitionBy("band").orderBy("value")))
        ranked.where("n <= 3").toPandas()
        spark.createDataFrame(read.limit(100).toPandas()).write.parquet(f"{work}/back")
        planner = Planner(spark.newSession())  # a job's plans: Spark Connect's planner, analysis, toJSON
        planner.bind({"people": planner.spark.read.parquet(f"{work}/lz4_raw")})
        planner.warm_up("people", ["key", "band"])
        jvm = spark.sparkContext._gateway.proc  # the JVM itself: spark-submit execs it
        spark.stop()
        jvm.stdin.close()  # the gateway exits on end of input, writing the archive as it goes
        jvm.wait(timeout=600)


if __name__ == "__main__":
    train(os.environ["SANDBOX_CLASS_ARCHIVE_TARGET"])
    sys.exit(0)
