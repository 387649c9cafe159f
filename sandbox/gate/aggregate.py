"""Aggregation in Spark with contribution bounding; only per-cell aggregates reach the driver.

Each entity's rows in a cell are summed, then clipped to the measure's bounds, so one entity moves a
cell's sum by at most the bound's width and counts once. Margins come from Spark grouping sets over
those entity-level contributions, so a margin's entity count is distinct entities, not a sum of cells.
Medians are exact (Spark ``percentile``, linear interpolation between the middle values); standard
deviations are sample standard deviations (``stddev_samp``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sandbox.domain.job import Aggregate, OutputSpec
from sandbox.engines.staged_entity import as_staged
from sandbox.gate.domains import Key
from sandbox.gate.frames import ENTITY, measure_column

MEDIAN_METHOD = (
    "exact: Spark percentile(0.5), linear interpolation; withheld when it is exactly the value of fewer "
    "than threshold entities / 精确中位数；恰为少数主体的贡献值时不发布"
)
STD_METHOD = "sample standard deviation (stddev_samp) / 样本标准差"
GROUPING = "__grouping"


#: Entities a cell may hold, for sizing the exact sums below (ten billion: every person, many times).
_MAX_ENTITIES_DIGITS = 10


def exact_type(bounds: tuple[float, float] | None) -> T.DecimalType:
    """A decimal that sums a measure's contributions exactly: the dominance and p-ratio decisions must
    not depend on the order Spark adds doubles in. Each contribution becomes its shortest decimal
    form; the scale is as fine as the integer digits the bounds need leave room for (at most 20)."""
    largest = max((abs(b) for b in bounds or ()), default=1.0)
    integer_digits = len(str(int(largest))) + _MAX_ENTITIES_DIGITS
    return T.DecimalType(38, max(0, min(20, 38 - integer_digits)))


@dataclass
class MeasureStats:
    contributors: int  # entities with a value for this measure
    value: float | None  # the aggregate itself
    total_abs: Decimal | None = None  # exact sum of absolute contributions (dominance measures only)
    top: tuple[Decimal, ...] = ()  # largest absolute contributions, largest first (dominance measures only)
    holders: int | None = None  # medians only: entities whose contribution is exactly the median


@dataclass
class CellStats:
    entities: int
    measures: dict[str, MeasureStats] = field(default_factory=dict)
    fingerprint: Decimal | None = None  # with a seed: the exact sum of the members' keyed hashes


def _clip(value, low: float, high: float):
    """Clip into [low, high]; a missing value stays missing (``greatest`` alone would turn it into ``low``)."""
    return F.when(value.isNull(), None).otherwise(F.least(F.greatest(value, F.lit(low)), F.lit(high)))


def entity_contributions(kept: DataFrame, output: OutputSpec) -> DataFrame:
    """One row per entity and cell: its rows summed, then clipped to each measure's bounds.

    Rows are shuffled by entity alone, which also serves the per-entity cell bound (``bound_cells``)
    without a second shuffle.
    """
    valued = [m for m in output.measures if m.column]
    keys = [ENTITY, *output.dimensions]
    kept = kept.repartition(ENTITY)
    if not valued:
        return kept.select(*keys).distinct()
    summed = kept.groupBy(*keys).agg(
        *[F.sum(measure_column(m.name)).alias(measure_column(m.name)) for m in valued]
    )
    clipped = [_clip(F.col(measure_column(m.name)), *m.bounds).alias(measure_column(m.name)) for m in valued]
    return summed.select(*keys, *clipped)


def bound_cells(contributions: DataFrame, output: OutputSpec, max_cells: int, *, seed: int = 0) -> DataFrame:
    """Each entity's first ``max_cells`` cells only, in an order of cells set by ``seed`` (a hash of the
    seed and the key, then the key): one entity's weight in the table and its margins stays bounded.
    The fixed seed 0 keeps the same cells on a rerun; differential privacy passes a random one."""
    if not output.dimensions:
        return contributions
    dims = [F.col(d) for d in output.dimensions]
    order = Window.partitionBy(ENTITY).orderBy(F.xxhash64(F.lit(seed), *dims), *dims)
    ranked = contributions.withColumn("__cell", F.row_number().over(order))
    return ranked.where(F.col("__cell") <= max_cells).drop("__cell")


def _value(agg: Aggregate, column: str):
    return {
        Aggregate.SUM: F.sum(column),
        Aggregate.MEAN: F.avg(column),
        Aggregate.MEDIAN: F.percentile(column, 0.5),
        Aggregate.STD: F.stddev_samp(column),
    }[agg]


def _with_margins(contributions: DataFrame, output: OutputSpec) -> DataFrame:
    """Add every margin: entity-level contributions summed over each subset of dimensions."""
    dims = list(output.dimensions)
    subsets = [
        [ENTITY, *combo] for r in range(len(dims), -1, -1) for combo in itertools.combinations(dims, r)
    ]
    valued = [measure_column(m.name) for m in output.measures if m.column]
    return contributions.groupingSets(subsets, ENTITY, *dims).agg(
        *[F.sum(c).alias(c) for c in valued], F.grouping_id().alias(GROUPING)
    )


def fingerprint(seed: int, entity: Column) -> Column:
    """A set's fingerprint: the exact sum of its members' 64-bit hashes keyed by ``seed`` (the release
    register's secret), over entities as staging stores them."""
    return F.sum(F.xxhash64(F.lit(seed).cast("long"), entity).cast(T.DecimalType(38, 0)))


def cell_members(contributions: DataFrame, output: OutputSpec) -> DataFrame:
    """One row per entity and cell it counts in, every margin included even when the output shows none:
    (grouping id, dimensions, entity). The release register keeps the released cells' rows and compares
    margins too: an earlier release may have shown one."""
    dims = list(output.dimensions)
    subsets = [
        [ENTITY, *combo] for r in range(len(dims), -1, -1) for combo in itertools.combinations(dims, r)
    ]
    return contributions.groupingSets(subsets, ENTITY, *dims).agg(F.grouping_id().alias(GROUPING))


def _key(row, dims: tuple[str, ...]) -> Key:
    grouping = row[GROUPING]
    width = len(dims)
    return tuple(None if (grouping >> (width - 1 - i)) & 1 else row[d] for i, d in enumerate(dims))


def cell_stats(
    contributions: DataFrame,
    output: OutputSpec,
    *,
    totals: bool,
    dominance_n: int,
    dominance_aggs: tuple[str, ...],
    fingerprint_seed: int | None = None,
) -> dict[Key, CellStats]:
    """Per-cell entity counts, aggregates and top contributions; the one collect is of cells, not rows.
    With ``fingerprint_seed`` (the release register's), each cell's fingerprint too, in the same pass."""
    frame = _with_margins(contributions, output) if totals else contributions.withColumn(GROUPING, F.lit(0))
    aggs = [F.count(F.lit(1)).alias("__n")]
    if fingerprint_seed is not None:
        entity = as_staged(F.col(ENTITY), frame.schema[ENTITY].dataType)
        aggs.append(fingerprint(fingerprint_seed, entity).alias("__fingerprint"))
    for m in output.measures:
        if m.column is None:
            continue
        column = measure_column(m.name)
        aggs += [F.count(column).alias(f"{column}__c"), _value(m.agg, column).alias(f"{column}__v")]
        if m.agg.value in dominance_aggs:
            magnitude = F.abs(F.col(column)).cast(exact_type(m.bounds))
            aggs += [F.sum(magnitude).alias(f"{column}__abs"),
                     F.max_by(magnitude, magnitude, dominance_n).alias(f"{column}__top")]  # fmt: skip
    rows = frame.groupBy(GROUPING, *output.dimensions).agg(*aggs).collect()
    cells = {}
    for row in rows:
        stats = CellStats(
            entities=row["__n"], fingerprint=row["__fingerprint"] if fingerprint_seed is not None else None
        )
        for m in output.measures:
            if m.column is None:
                stats.measures[m.name] = MeasureStats(row["__n"], row["__n"])
                continue
            column = measure_column(m.name)
            measure = MeasureStats(row[f"{column}__c"], row[f"{column}__v"])
            if m.agg.value in dominance_aggs:
                measure.total_abs = row[f"{column}__abs"]
                measure.top = tuple(row[f"{column}__top"] or ())
            stats.measures[m.name] = measure
        cells[_key(row, output.dimensions)] = stats
    _count_median_holders(frame, output, rows, cells)
    return cells


def _count_median_holders(frame: DataFrame, output: OutputSpec, rows, cells: dict[Key, CellStats]) -> None:
    """For each median: how many entities of its cell contributed exactly that value (a second pass,
    only for outputs with medians). An exact median of an odd-sized cell is one person's value."""
    medians = [m for m in output.measures if m.agg is Aggregate.MEDIAN]
    if not medians:
        return
    dims = list(output.dimensions)
    for m in medians:
        column = measure_column(m.name)
        found = [(row[GROUPING], *[row[d] for d in dims], row[f"{column}__v"]) for row in rows
                 if row[f"{column}__v"] is not None]  # fmt: skip
        if not found:
            continue
        schema = ", ".join([f"{GROUPING} bigint", *[f"`{d}` string" for d in dims], "__median double"])
        values = frame.sparkSession.createDataFrame(found, schema)
        on = [frame[GROUPING] == values[GROUPING], *[frame[d].eqNullSafe(values[d]) for d in dims]]
        holders = (
            frame.join(F.broadcast(values), on)
            .where(frame[column] == values["__median"])
            .groupBy(values[GROUPING], *[values[d] for d in dims])
            .count()
            .collect()
        )
        for key in cells:
            cells[key].measures[m.name].holders = 0
        for row in holders:
            cells[_key(row, output.dimensions)].measures[m.name].holders = row["count"]


def bounded_cell_sums(contributions: DataFrame, output: OutputSpec, *, max_cells_per_entity: int, seed: int):
    """For differential privacy: keep at most ``max_cells_per_entity`` cells per entity (chosen at random),
    then per cell the entity count and each measure's sum. Returns ``{key: (count, {measure: sum})}``."""
    bounded = bound_cells(contributions, output, max_cells_per_entity, seed=seed)
    valued = [m for m in output.measures if m.column]
    rows = (
        bounded.groupBy(*output.dimensions)
        .agg(F.count(F.lit(1)).alias("__n"), *[F.sum(measure_column(m.name)).alias(m.name) for m in valued])
        .collect()
    )
    return {
        tuple(row[d] for d in output.dimensions): (row["__n"], {m.name: row[m.name] or 0.0 for m in valued})
        for row in rows
    }
