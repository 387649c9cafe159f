"""A generated dataset before defects and writing, and the shorthand its catalog entry is written in."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sandbox.domain.catalog import Column, ColumnRole, ColumnType, DataGrade, PersonalInfo, PiiKind

PI_GENERAL = PersonalInfo.GENERAL.value
PI_SENSITIVE = PersonalInfo.SENSITIVE.value


def col(
    name: str,
    title: str,
    type: str,
    role: str,
    *,
    pii: str = "none",
    grade: str = DataGrade.GENERAL.value,
    personal_info: str = PersonalInfo.NONE.value,
    required: bool = False,
    references: str | None = None,
    code_table: str | None = None,
    value_range: tuple[float, float] | None = None,
) -> Column:
    """A catalog column from plain strings; the enums reject any value outside the vocabulary."""
    return Column(
        name=name,
        title=title,
        type=ColumnType(type),
        role=ColumnRole(role),
        pii=PiiKind(pii),
        grade=DataGrade(grade),
        personal_info=PersonalInfo(personal_info),
        required=required,
        references=references,
        code_table=code_table,
        value_range=value_range,
    )


@dataclass
class Planted:
    """Identifiers deliberately written into one free-text column: rows, PII kinds and exact values."""

    column: str
    rows: np.ndarray
    kinds: np.ndarray
    values: pa.Array


@dataclass
class Table:
    """One dataset's columns (Arrow arrays, catalog order) plus the PII planted in its free text."""

    columns: dict[str, pa.Array]
    planted: list[Planted] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values())))

    def take(self, order: np.ndarray) -> Table:
        """Rows reordered (or repeated) by ``order``; planted rows follow their first occurrence."""
        first = first_positions(order, self.num_rows)
        index = pa.array(order)
        return Table(
            {name: values.take(index) for name, values in self.columns.items()},
            [Planted(p.column, first[p.rows], p.kinds, p.values) for p in self.planted],
        )


def first_positions(order: np.ndarray, n: int) -> np.ndarray:
    """Where each of ``n`` old rows first appears in the reordered rows ``order``."""
    first = np.full(n, -1, dtype=np.int64)
    first[order[::-1]] = np.arange(len(order))[::-1]
    return first
