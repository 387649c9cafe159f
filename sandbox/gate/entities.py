"""Real entities only: every staged entity must be in an input's subject column.

The gate counts entities to decide what is safe to release, so an entity the job made up (or one
person staged under ten names) would defeat every threshold. The plan verifier already requires the
entity column to be an input's subject column passed through unchanged; the gate does not take that
on trust. It reads each input's subject column itself (the raw version the run read, or the samples
of a dev run), normalised as staging stores it, and counts staged entities found in none of them.
Any stranger refuses the output, and the refusal gives their number, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sandbox.domain.gate import Refusal
from sandbox.domain.job import OutputSpec
from sandbox.engines.staged_entity import entity_hash
from sandbox.gate.errors import OutputRefused
from sandbox.gate.frames import ENTITY


@dataclass(frozen=True)
class EntitySource:
    """An input's data (a raw version or a sample) and its subject column, as the catalog declares it."""

    path: Path
    column: str

    @classmethod
    def parse(cls, text: str) -> EntitySource:
        """``PATH=COLUMN``, as the production runner passes it to the gate process."""
        path, _, column = text.rpartition("=")
        if not path or not column:
            raise ValueError(f"expected PATH=COLUMN, got {text!r}")
        return cls(Path(path), column)

    def __str__(self) -> str:
        return f"{self.path}={self.column}"


def _known(frame: DataFrame, column_name: str, staged: T.DataType) -> DataFrame:
    """An input's subject column as staging stores entities."""
    column = F.col(column_name)
    if isinstance(staged, T.LongType) and isinstance(frame.schema[column_name].dataType, T.StringType):
        column = entity_hash(column)  # production staging hashes text entities
    return frame.select(column.cast(staged).alias(ENTITY)).where(F.col(ENTITY).isNotNull())


#: Up to this many known keys (8 bytes each) the check broadcasts them and staging is not shuffled.
BROADCAST_MAX_KEYS = 20_000_000


def count_strangers(spark: SparkSession, frame: DataFrame, sources: list[EntitySource]) -> int:
    """Distinct entities of ``frame`` (the gate's columns) found in no source's subject column."""
    staged_type = frame.schema[ENTITY].dataType
    known, keys = None, 0
    for source in sources:
        data = spark.read.parquet(str(source.path))
        keys += data.count()  # from Parquet's footers: no scan
        part = _known(data, source.column, staged_type)
        known = part if known is None else known.unionByName(part)
    staged = frame.select(ENTITY).where(F.col(ENTITY).isNotNull())
    if known is None:
        return staged.distinct().count()
    known = F.broadcast(known) if keys <= BROADCAST_MAX_KEYS else known
    return staged.join(known, ENTITY, "left_anti").distinct().count()  # strangers are few: distinct after


def require_known(
    spark: SparkSession, frame: DataFrame, output: OutputSpec, sources: list[EntitySource]
) -> None:
    strangers = count_strangers(spark, frame, sources)
    if strangers:
        raise OutputRefused(
            Refusal.UNKNOWN_ENTITIES,
            f"输出 {output.name} 的贡献数据中有 {strangers} 个主体不在任何输入的主体列中",
            f"the contribution frame of output {output.name} holds {strangers} entities found in no input's "
            "subject column",
        )
