"""One dataset's sample: its rows of the sampled entities, profiled, desensitized, k-anonymized, written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from sandbox.domain.catalog import Dataset, PiiKind
from sandbox.samples.freetext import redact_arrays
from sandbox.samples.hierarchies import hierarchy_for, minimum_level
from sandbox.samples.kanon import KResult, k_anonymize, l_diversity
from sandbox.samples.plan import ColumnPlan, plan_dataset
from sandbox.samples.policy import SamplePolicy
from sandbox.samples.profiling import ColumnProfile, profile_table, profiled_columns
from sandbox.samples.structured import ENTITY, desensitize, with_entity


@dataclass
class DatasetSample:
    dataset: Dataset
    raw_version: int
    table: pa.Table  # what is written: desensitized, k-anonymous, no internal columns
    plans: list[ColumnPlan]
    profiles: list[ColumnProfile]
    k: KResult
    entities: int

    def card(self) -> dict:
        levels = self.k.levels
        hierarchies = {p.name: hierarchy_for(p.column) for p in self.plans if p.quasi_identifier}
        return {
            "raw_version": self.raw_version, "rows": self.table.num_rows, "entities": self.entities,
            "k": self.k.k, "suppressed_entities": self.k.suppressed_entities, "suppressed_rows": self.k.suppressed_rows,
            "dropped_rows": self.k.dropped_rows, "classes": self.k.classes, "l_diversity": self.k.l_diversity,
            "quasi_identifiers": list(hierarchies),
            "columns": [
                {"column": p.name, "role": p.column.role.value, "kind": p.kind.value, "operator": p.operator,
                 **({"level": hierarchies[p.name].describe(levels[p.name])} if p.name in hierarchies else {})}
                for p in self.plans
            ],
            "profile": [p.as_dict() for p in self.profiles],
        }  # fmt: skip


def profile(
    dataset: Dataset, raw: DataFrame, columns: list[str], policy: SamplePolicy
) -> list[ColumnProfile]:
    names = profiled_columns(dataset, columns)
    if not names:
        return []
    values = raw.select(*names).limit(policy.profile_values).toArrow()
    return profile_table(dataset, values, policy.flag_share)


@dataclass
class Prepared:
    """A dataset after the Spark stage: sampled rows, approved columns, structured operators applied."""

    dataset: Dataset
    raw_version: int
    plans: list[ColumnPlan]
    profiles: list[ColumnProfile]
    table: pa.Table

    @property
    def free_text(self) -> list[str]:
        return [p.name for p in self.plans if p.operator == "redact_free_text"]


def prepare(
    dataset: Dataset,
    raw_version: int,
    raw: DataFrame,
    rows: DataFrame,
    columns: list[str],
    key: bytes,
    policy: SamplePolicy,
) -> Prepared:
    profiles = profile(dataset, raw, columns, policy)
    detected = {p.column: PiiKind(p.detected) for p in profiles if p.flagged}
    plans = plan_dataset(dataset, columns, detected)
    spark_stage = desensitize(
        with_entity(rows, dataset.entity, key), plans, key, shift_days=policy.date_shift_days
    )
    return Prepared(dataset, raw_version, plans, profiles, spark_stage.toArrow())


def redact(ray_factory, prepared: list[Prepared]) -> None:
    """Every free-text column of every dataset through Presidio in one Ray job."""
    columns = [(p, name) for p in prepared for name in p.free_text if p.table.num_rows]
    if not columns:
        return
    redacted = redact_arrays(ray_factory(), [p.table.column(name).combine_chunks() for p, name in columns])
    for (p, name), values in zip(columns, redacted, strict=True):
        p.table = p.table.set_column(p.table.schema.get_field_index(name), name, values)


def anonymize(prepared: Prepared, policy: SamplePolicy) -> DatasetSample:
    """k-anonymity over the dataset's quasi-identifiers, l-diversity of its sensitive attributes."""
    plans, table = prepared.plans, prepared.table
    quasi = {p.name: hierarchy_for(p.column) for p in plans if p.quasi_identifier}
    start = {p.name: minimum_level(p.column) for p in plans if p.quasi_identifier}
    entity = ENTITY if prepared.dataset.entity else None
    entities = len(pc.unique(table.column(ENTITY))) if entity else table.num_rows
    table, k = k_anonymize(
        table, quasi, k=policy.k, entity=entity, max_suppression=policy.max_suppression, start=start
    )
    k.l_diversity = l_diversity(table, list(quasi), [p.name for p in plans if p.sensitive])
    return DatasetSample(
        prepared.dataset,
        prepared.raw_version,
        table.drop_columns([ENTITY]),
        plans,
        prepared.profiles,
        k,
        entities,
    )


def write_sample(table: pa.Table, target: Path) -> None:
    """Write by atomic rename, so a half-written sample is never visible."""
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=False)
    pq.write_table(table, partial / "part-0.parquet", compression="zstd")
    partial.rename(target)
