"""Spark Connect messages into DataFrames of a trusted classic session, through Spark's own planner.

The job process sends ``Plan`` messages; Spark Connect's planner (``SparkConnectPlanner``, in the
``spark-connect`` jar pip's pyspark ships) turns each into a logical plan of this session, exactly as
a Connect server would, without a server. Inputs are the session's temporary views named by alias;
the session reads no file by name (``runSQLOnFiles`` off) and fails no row on a bad cast or an
overflow (ANSI off: such values become null), so data cannot decide whether a plan succeeds.
"""

from __future__ import annotations

import uuid

from pyspark.sql import DataFrame, SparkSession

#: Session settings for every session that plans or runs job plans.
PLAN_CONF = {"spark.sql.runSQLOnFiles": "false", "spark.sql.ansi.enabled": "false"}


class Planner:
    def __init__(self, spark: SparkSession) -> None:
        for key, value in PLAN_CONF.items():
            spark.conf.set(key, value)
        self.spark = spark
        jvm = spark._jvm
        self._holder = jvm.org.apache.spark.sql.connect.service.SessionHolder.apply(
            "shuyu-job", str(uuid.uuid4()), spark._jsparkSession
        )

    def bind(self, frames: dict[str, DataFrame]) -> None:
        """Make each frame the input the job's ``ctx.input(alias)`` names."""
        for alias, frame in frames.items():
            frame.createOrReplaceTempView(alias)

    def dataframe(self, plan: bytes) -> DataFrame:
        """The message's root relation as an analyzed DataFrame of this session."""
        jvm = self.spark._jvm
        message = jvm.org.apache.spark.connect.proto.Plan.parseFrom(bytearray(plan))
        planner = jvm.org.apache.spark.sql.connect.planner.SparkConnectPlanner(
            self._holder, jvm.scala.Option.empty()
        )
        logical = planner.transformRelation(message.getRoot())
        return DataFrame(
            jvm.org.apache.spark.sql.classic.Dataset.ofRows(self.spark._jsparkSession, logical), self.spark
        )


def analyzed(frame: DataFrame) -> tuple[str, list[tuple[str, int]]]:
    """The analyzed plan as ``TreeNode.toJSON`` and its output columns as (name, exprId)."""
    plan = frame._jdf.queryExecution().analyzed()
    output = plan.output()
    columns = [(output.apply(i).name(), output.apply(i).exprId().id()) for i in range(output.size())]
    return plan.toJSON(), columns
