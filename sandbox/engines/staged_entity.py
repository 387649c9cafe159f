"""How staging stores a text entity: its 64-bit xxhash. The production runner writes it so; the gate
hashes an input's subject column the same way to check that every staged entity is a real one."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T


def entity_hash(column: Column) -> Column:
    """A text entity's 64-bit hash; a missing entity stays missing."""
    return F.when(column.isNull(), None).otherwise(F.xxhash64(column))


def as_staged(column: Column, data_type: T.DataType) -> Column:
    """An entity column of ``data_type`` as production staging stores it: a 64-bit integer."""
    return entity_hash(column) if isinstance(data_type, T.StringType) else column.cast("long")
