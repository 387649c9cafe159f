"""Which entities a sample holds: stratified by district, deterministic for a recorded seed.

Entities are people (resident ID) or enterprises (USCC), collected from every dataset of the
scenario whose privacy unit is of that kind. Within each district the entities are ordered by
SHA-256 of seed and identifier and the first ``fraction`` taken (at least one per district), so
the same seed always draws the same entities; the total is capped. Every requested dataset then
contributes the rows of exactly those entities, which keeps joins between samples intact.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from sandbox.domain.catalog import Dataset, PiiKind
from sandbox.samples.plan import entity_kind
from sandbox.samples.pseudonyms import normalized

DISTRICT = "district_code"


def _rank_key(seed: int, value):
    return F.sha2(F.concat(F.lit(f"{seed}:"), value), 256)


def entity_frame(frames: dict[str, tuple[Dataset, DataFrame]], kind: PiiKind) -> DataFrame | None:
    """Distinct entities of ``kind`` over the datasets, each with a district when any dataset gives one."""
    parts = []
    for dataset, frame in frames.values():
        if entity_kind(dataset) != kind:
            continue
        district = F.col(DISTRICT).cast("string") if DISTRICT in frame.columns else F.lit(None).cast("string")
        parts.append(
            frame.select(normalized(F.col(dataset.entity)).alias("entity"), district.alias("district"))
        )
    if not parts:
        return None
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    return (
        union.where(F.col("entity").isNotNull())
        .groupBy("entity")
        .agg(F.first("district", ignorenulls=True).alias("district"))
    )


def stratified(entities: DataFrame, *, fraction: float, cap: int, seed: int) -> DataFrame:
    """The sampled entities (column ``entity``), ``fraction`` of each district, at most ``cap`` in all."""
    total = entities.count()
    share = min(fraction, cap / total) if total else fraction
    stratum = F.coalesce(F.col("district"), F.lit("?"))
    by_district = Window.partitionBy(stratum)
    ranked = entities.withColumn("order", _rank_key(seed, F.col("entity"))).withColumn(
        "rank", F.row_number().over(by_district.orderBy("order"))
    )
    size = F.greatest(F.lit(1), F.round(F.count(F.lit(1)).over(by_district) * F.lit(share))).cast("long")
    chosen = ranked.withColumn("size", size).where(F.col("rank") <= F.col("size"))
    return chosen.orderBy("order").limit(cap).select("entity", "district")


def rows_of(
    frame: DataFrame, dataset: Dataset, chosen: DataFrame | None, *, fraction: float, seed: int
) -> DataFrame:
    """The dataset's rows of the chosen entities (or, for a dataset without entities, a seeded share of rows)."""
    if chosen is not None and dataset.entity:
        keyed = frame.withColumn("__sample_entity", normalized(F.col(dataset.entity)))
        picked = keyed.join(
            F.broadcast(chosen.select(F.col("entity").alias("__sample_entity"))),
            "__sample_entity",
            "left_semi",
        )
        return picked.drop("__sample_entity")
    keys = F.concat_ws("|", *[F.col(k).cast("string") for k in dataset.keys])
    bucket = F.conv(F.substring(_rank_key(seed, keys), 1, 8), 16, 10).cast("long")
    return frame.where(bucket < F.lit(int(fraction * 16**8)))
