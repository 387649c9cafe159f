"""Reading a contribution frame from staging without trusting it.

The job wrote the frame; the gate checks its schema and types itself, keeps only the declared
columns, normalises them (dimensions to text, measures to doubles, NaN to null) and drops rows
without an entity or with a dimension value outside the declared domain — counting what it dropped
in the same pass as the aggregation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sandbox.domain.gate import Refusal
from sandbox.domain.job import OutputSpec
from sandbox.gate.errors import OutputRefused

ENTITY = "__entity"  # the entity column, renamed so no dimension or measure can shadow it
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_ENTITY_TYPES = (T.StringType, *_INTEGRAL)
_DIMENSION_TYPES = (T.StringType, T.BooleanType, T.DateType, *_INTEGRAL)
_MEASURE_TYPES = (T.BooleanType, T.FloatType, T.DoubleType, T.DecimalType, *_INTEGRAL)


@dataclass(frozen=True)
class FrameStats:
    rows_read: int
    dropped_null_entity: int
    dropped_outside_domain: dict[str, int]  # per dimension; a row outside two domains counts twice
    approx_entities: int  # HyperLogLog estimate over kept rows, for the identifying-dimension check


def measure_column(name: str) -> str:
    return f"__m_{name}"


def _invalid(output: OutputSpec, zh: str, en: str) -> OutputRefused:
    return OutputRefused(Refusal.INVALID_FRAME, f"输出 {output.name} 的贡献数据{zh}",
                         f"the contribution frame of output {output.name} {en}")  # fmt: skip


def _check_type(
    output: OutputSpec, frame: DataFrame, column: str, allowed: tuple, role_zh: str, role_en: str
):
    data_type = frame.schema[column].dataType
    if not isinstance(data_type, allowed):
        raise _invalid(output, f"中{role_zh}列 {column} 的类型 {data_type.simpleString()} 不被接受",
                       f"has {role_en} column {column} of unacceptable type {data_type.simpleString()}")  # fmt: skip


def read_frame(spark: SparkSession, staging_run_dir: Path, output: OutputSpec) -> DataFrame:
    """The declared columns only, type-checked, under the gate's own column names."""
    path = staging_run_dir / output.name
    if not path.is_dir():
        raise _invalid(output, "不存在", "is missing")
    try:
        frame = spark.read.parquet(str(path))
    except AnalysisException:
        raise _invalid(output, "无法读取", "cannot be read") from None
    measure_inputs = list(dict.fromkeys(m.column for m in output.measures if m.column))
    missing = [c for c in (output.entity, *output.dimensions, *measure_inputs) if c not in frame.columns]
    if missing:
        raise _invalid(output, f"缺少列 {', '.join(missing)}", f"lacks column(s) {', '.join(missing)}")
    _check_type(output, frame, output.entity, _ENTITY_TYPES, "主体", "entity")
    for dim in output.dimensions:
        _check_type(output, frame, dim, _DIMENSION_TYPES, "维度", "dimension")
    for column in measure_inputs:
        _check_type(output, frame, column, _MEASURE_TYPES, "度量", "measure")
    columns: list[Column] = [F.col(output.entity).alias(ENTITY)]
    columns += [F.col(d).cast("string").alias(d) for d in output.dimensions]
    for measure in output.measures:
        if measure.column:
            value = F.col(measure.column).cast("double")
            columns.append(F.when(F.isnan(value), None).otherwise(value).alias(measure_column(measure.name)))
    return frame.select(*columns)


def _domain_marks(spark: SparkSession, dim: str, values: tuple[str, ...]) -> DataFrame:
    """A one-column table of the domain (one JSON literal, not one call per value) with an in-domain mark."""
    values_json = F.lit(json.dumps(list(values), ensure_ascii=False))
    return spark.range(1).select(
        F.explode(F.from_json(values_json, "array<string>")).alias(dim), F.lit(True).alias(f"__in_{dim}")
    )


@dataclass(frozen=True)
class DomainFilter:
    """The kept rows, and how to learn what was dropped once the aggregation has run."""

    kept: DataFrame
    observation: Observation
    marked: DataFrame  # every row, with in-domain marks: for the fallback count
    metrics: tuple[Column, ...]


def keep_in_domain(
    spark: SparkSession, frame: DataFrame, output: OutputSpec, domains: dict[str, tuple[str, ...]]
) -> DomainFilter:
    """Drop rows without an entity or outside a declared domain (broadcast joins on the domain tables).

    What was dropped is counted by an :class:`Observation` during the aggregation's own pass — no extra
    scan; read it with :func:`frame_stats` once the aggregation has run.
    """
    for dim in output.dimensions:
        frame = frame.join(F.broadcast(_domain_marks(spark, dim, domains[dim])), on=dim, how="left")
    inside = {d: F.col(f"__in_{d}").isNotNull() for d in output.dimensions}
    has_entity = F.col(ENTITY).isNotNull()
    keep = has_entity
    for condition in inside.values():
        keep = keep & condition
    metrics = (
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(has_entity, 0).otherwise(1)).alias("null_entity"),
        *[F.sum(F.when(has_entity & ~c, 1).otherwise(0)).alias(f"out_{d}") for d, c in inside.items()],
        F.approx_count_distinct(F.when(keep, F.col(ENTITY)), rsd=0.02).alias("entities"),
    )
    observation = Observation(f"gate-{output.name}")
    kept = frame.observe(observation, *metrics).where(keep).drop(*[f"__in_{d}" for d in output.dimensions])
    return DomainFilter(kept, observation, frame, metrics)


def frame_stats(domain_filter: DomainFilter, output: OutputSpec) -> FrameStats:
    try:
        row = domain_filter.observation.get
    except (PySparkException, Py4JJavaError):  # Spark emits no metrics when it optimises an empty input away
        row = domain_filter.marked.agg(*domain_filter.metrics).first().asDict()
    return FrameStats(
        rows_read=row["rows"],
        dropped_null_entity=row["null_entity"] or 0,
        dropped_outside_domain={d: row[f"out_{d}"] or 0 for d in output.dimensions},
        approx_entities=row["entities"],
    )
