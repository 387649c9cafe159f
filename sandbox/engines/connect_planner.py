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
from pyspark.sql.connect.proto import base_pb2 as pb2
from pyspark.sql.connect.proto import expressions_pb2 as ex
from pyspark.sql.connect.proto import relations_pb2 as rel

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

    def warm_up(self, alias: str, columns: list[str]) -> None:
        """Plan, analyze and serialize a plan like a job's over a bound input, reading no row.

        The class archive's training runs it (``class_archive``): a new JVM then finds Spark
        Connect's planner, the analyzer's rules and ``toJSON`` already loaded, and verifying a job's
        first plan costs about 0.5 s less.
        """
        first, second = columns[0], columns[-1]
        read = rel.Relation(read=rel.Read(named_table=rel.Read.NamedTable(unparsed_identifier=alias)))
        text = _call("concat", _cast(first), _call("coalesce", _cast(second), _literal("-")))
        rank = ex.Expression(window=ex.Expression.Window(
            window_function=_call("row_number"), partition_spec=[_column(first)],
            order_spec=[ex.Expression.SortOrder(child=_column(second), direction=1, null_ordering=1)]))  # fmt: skip
        rows = rel.Relation(project=rel.Project(input=read, expressions=[
            _column(first), _named(_call("upper", text), "text"), _named(rank, "rank")]))  # fmt: skip
        kept = rel.Relation(
            filter=rel.Filter(input=rows, condition=_call("==", _column("rank"), _literal(1)))
        )
        counts = rel.Relation(aggregate=rel.Aggregate(
            input=read, group_type=rel.Aggregate.GROUP_TYPE_GROUPBY, grouping_expressions=[_column(first)],
            aggregate_expressions=[_named(_call("count", _literal(1)), "n")]))  # fmt: skip
        joined = rel.Relation(join=rel.Join(left=kept, right=counts, join_type=rel.Join.JOIN_TYPE_LEFT_OUTER,
                                            using_columns=[first]))  # fmt: skip
        analyzed(self.dataframe(pb2.Plan(root=joined).SerializeToString()))


def _column(name: str) -> ex.Expression:
    return ex.Expression(unresolved_attribute=ex.Expression.UnresolvedAttribute(unparsed_identifier=name))


def _call(function: str, *arguments: ex.Expression) -> ex.Expression:
    call = ex.Expression.UnresolvedFunction(function_name=function, arguments=arguments)
    return ex.Expression(unresolved_function=call)


def _literal(value: str | int) -> ex.Expression:
    literal = (
        ex.Expression.Literal(string=value)
        if isinstance(value, str)
        else ex.Expression.Literal(integer=value)
    )
    return ex.Expression(literal=literal)


def _cast(name: str) -> ex.Expression:
    return ex.Expression(cast=ex.Expression.Cast(expr=_column(name), type_str="string"))


def _named(expression: ex.Expression, name: str) -> ex.Expression:
    return ex.Expression(alias=ex.Expression.Alias(expr=expression, name=[name]))


def analyzed(frame: DataFrame) -> tuple[str, list[tuple[str, int]]]:
    """The analyzed plan as ``TreeNode.toJSON`` and its output columns as (name, exprId)."""
    plan = frame._jdf.queryExecution().analyzed()
    output = plan.output()
    columns = [(output.apply(i).name(), output.apply(i).exprId().id()) for i in range(output.size())]
    return plan.toJSON(), columns
