"""Known defects injected into clean data, and the ground truth that lists each one.

Each kind is detectable from the data and the catalog alone, by exactly one rule, and clean
rows never break any of them (rules ignore blank values except ``missing_required``):

- ``invalid_check_digit``: a resident ID (GB 11643 MOD 11-2) or USCC (GB 32100) column value
  whose check character is wrong. Only put on the owning dataset's key, and only on IDs that
  no other dataset references (see ``World``), so no orphan follows from it.
- ``missing_required``: a blank value in a ``required`` column.
- ``birth_date_mismatch``: ``birth_date`` differs from digits 7-14 of the row's resident ID.
- ``duplicate_key``: an extra row repeats an existing key (listed once per key, the column
  being the key columns joined by "|").
- ``orphan_reference``: a value of a ``references`` column that is absent from the referenced
  column; the stray value is itself a valid identifier.
- ``out_of_range``: a number outside the column's catalog ``range``.
- ``stale_record``: the timestamp column is older than AS_OF minus the update cycle's
  ``STALENESS_DAYS`` (see ``timeline``).
- ``code_not_in_table``: a value missing from the column's code table.
- ``field_order``: a pair of columns (see each dataset's ``FieldOrder``) whose lesser value
  exceeds the greater one; ground truth names the pair as "lesser|greater".

Per dataset and kind, ``count(rate, rows)`` rows are hit; a row carries at most one defect, and
every key stays unique except where ``duplicate_key`` repeats it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.domain.catalog import Dataset, PiiKind
from sandbox.synth import identifiers as ids
from sandbox.synth.strings import csv_text, join, text
from sandbox.synth.table import Table, first_positions
from sandbox.synth.timeline import AS_OF, stale_timestamps, window

if TYPE_CHECKING:
    from sandbox.synth.world import World

KINDS = (
    "invalid_check_digit", "missing_required", "birth_date_mismatch", "duplicate_key", "orphan_reference",
    "out_of_range", "stale_record", "code_not_in_table", "field_order",
)  # fmt: skip
PLANTED_PII = "planted_pii"
TRUTH_COLUMNS = ("dataset", "key", "column", "kind", "detail", "value")
_ID_ALPHABET = np.frombuffer(b"0123456789X", dtype=np.uint8)


def count(rate: float, rows: int) -> int:
    """Rows per dataset and kind: the rate's share, at least one so every kind shows up."""
    return 0 if rate <= 0 or rows == 0 else max(1, round(rate * rows))


@dataclass
class Hit:
    """Rows an injection changed, the column it changed and why (a literal or one text per row)."""

    rows: np.ndarray
    column: str
    detail: str | pa.Array


class Injection(ABC):
    kind: ClassVar[str]

    def eligible(self, world: World, table: Table) -> np.ndarray | None:
        """Rows this defect may go on (``None``: any row)."""
        return None

    @abstractmethod
    def apply(
        self, world: World, rng: np.random.Generator, dataset: Dataset, table: Table, rows: np.ndarray
    ) -> list[Hit]:
        """Corrupt ``rows`` of ``table`` in place."""


def _set(table: Table, column: str, rows: np.ndarray, values: pa.Array | np.ndarray | None) -> None:
    old = table.columns[column]
    mask = np.zeros(len(old), dtype=bool)
    mask[rows] = True
    if values is None:
        new = pc.if_else(pa.array(mask), pa.nulls(len(old), old.type), old)
    else:
        new = pc.replace_with_mask(old, pa.array(mask), pa.array(values, type=old.type))
    table.columns[column] = new


def _values(table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    return table.columns[column].take(pa.array(rows)).to_numpy(zero_copy_only=False)


def _split(
    rng: np.random.Generator, rows: np.ndarray, columns: tuple[str, ...]
) -> list[tuple[str, np.ndarray]]:
    which = rng.integers(0, len(columns), len(rows))
    return [(c, rows[which == i]) for i, c in enumerate(columns) if (which == i).any()]


@dataclass(frozen=True)
class InvalidCheckDigit(Injection):
    column: str
    reserved: Callable[[World], np.ndarray] | None = None  # rows whose key nobody references
    kind: ClassVar[str] = "invalid_check_digit"

    def eligible(self, world: World, table: Table) -> np.ndarray | None:
        return None if self.reserved is None else self.reserved(world)

    def apply(self, world, rng, dataset, table, rows):
        resident = dataset.column(self.column).pii == PiiKind.CN_RESIDENT_ID
        good = ids.to_matrix(_values(table, self.column, rows), 18)
        bad = ids.wrong_check(rng, good, _ID_ALPHABET if resident else ids.USCC_ALPHABET)
        _set(table, self.column, rows, ids.to_strings(bad))
        return [Hit(rows, self.column, join("check character should be ", ids.to_strings(good[:, 17:])))]


@dataclass(frozen=True)
class MissingRequired(Injection):
    columns: tuple[str, ...]
    kind: ClassVar[str] = "missing_required"

    def apply(self, world, rng, dataset, table, rows):
        hits = []
        for column, part in _split(rng, rows, self.columns):
            _set(table, column, part, None)
            hits.append(Hit(part, column, "required value is blank"))
        return hits


@dataclass(frozen=True)
class BirthDateMismatch(Injection):
    column: str
    id_column: str
    kind: ClassVar[str] = "birth_date_mismatch"

    def apply(self, world, rng, dataset, table, rows):
        old = _values(table, self.column, rows).astype("datetime64[D]")
        shift = rng.integers(1, 3650, len(rows)).astype("timedelta64[D]")
        new = np.where(old + shift < AS_OF, old + shift, old - shift)
        _set(table, self.column, rows, new)
        expected = pc.utf8_slice_codeunits(table.columns[self.id_column].take(pa.array(rows)), 6, 14)
        return [Hit(rows, self.column, join("the ID says ", expected))]


@dataclass(frozen=True)
class DuplicateKey(Injection):
    """Marks source rows; ``inject`` appends the copies once every other defect is in place."""

    kind: ClassVar[str] = "duplicate_key"

    def eligible(self, world, table):
        clean = np.ones(table.num_rows, dtype=bool)
        for planted in table.planted:
            clean[planted.rows] = False
        return clean

    def apply(self, world, rng, dataset, table, rows):
        return [Hit(rows, "|".join(dataset.keys), "key repeated by an extra row")]


@dataclass(frozen=True)
class OrphanReference(Injection):
    columns: tuple[str, ...]
    kind: ClassVar[str] = "orphan_reference"

    def apply(self, world, rng, dataset, table, rows):
        hits = []
        for column, part in _split(rng, rows, self.columns):
            spec = dataset.column(column)
            if spec.pii == PiiKind.CN_RESIDENT_ID:
                stray = world.unknown_resident_ids(rng, len(part))
            else:
                stray = world.unknown_usccs(rng, len(part))
            _set(table, column, part, stray)
            hits.append(Hit(part, column, f"not found in {spec.references}"))
        return hits


@dataclass(frozen=True)
class OutOfRange(Injection):
    column: str
    make: Callable[[np.random.Generator, np.ndarray], np.ndarray]
    kind: ClassVar[str] = "out_of_range"

    def apply(self, world, rng, dataset, table, rows):
        _set(table, self.column, rows, self.make(rng, _values(table, self.column, rows)))
        low, high = dataset.column(self.column).value_range
        return [Hit(rows, self.column, f"outside [{low:g}, {high:g}]")]


@dataclass(frozen=True)
class StaleRecord(Injection):
    column: str
    kind: ClassVar[str] = "stale_record"

    def apply(self, world, rng, dataset, table, rows):
        _set(table, self.column, rows, stale_timestamps(rng, len(rows), dataset.update_cycle))
        days = window(dataset.update_cycle)
        return [Hit(rows, self.column, f"older than {days} days before as_of ({dataset.update_cycle.value})")]


@dataclass(frozen=True)
class CodeNotInTable(Injection):
    column: str
    make: Callable[[np.random.Generator, np.ndarray], np.ndarray]
    kind: ClassVar[str] = "code_not_in_table"

    def apply(self, world, rng, dataset, table, rows):
        _set(table, self.column, rows, self.make(rng, _values(table, self.column, rows).astype(str)))
        return [Hit(rows, self.column, f"not in code table {dataset.column(self.column).code_table}")]


@dataclass(frozen=True)
class FieldOrder(Injection):
    """``low`` must not exceed ``high``; the defect moves ``high`` below ``low`` (or ``low`` above ``high``)."""

    low: str
    high: str
    move_low: bool = False
    kind: ClassVar[str] = "field_order"

    def eligible(self, world, table):
        return (table.columns[self.low].is_valid().to_numpy(zero_copy_only=False)) & (
            table.columns[self.high].is_valid().to_numpy(zero_copy_only=False)
        )

    def apply(self, world, rng, dataset, table, rows):
        low, high = _values(table, self.low, rows), _values(table, self.high, rows)
        if np.issubdtype(low.dtype, np.datetime64):
            gap = rng.integers(1, 366, len(rows)).astype("timedelta64[D]")
        else:
            gap = rng.integers(1, 30, len(rows))
        if self.move_low:
            _set(table, self.low, rows, high + gap)
        else:
            _set(table, self.high, rows, low - gap)
        return [Hit(rows, f"{self.low}|{self.high}", f"{self.low} exceeds {self.high}")]


def inject(
    world: World, dataset: Dataset, injections: tuple[Injection, ...], table: Table
) -> tuple[Table, pa.Table]:
    """Apply every injection at the world's rate; return the defective table and its ground truth."""
    rng = world.rng(f"defects:{dataset.id}")
    n = table.num_rows
    k = count(world.defect_rate, n)
    used = np.zeros(n, dtype=bool)
    found: list[tuple[str, Hit]] = []
    sources = np.zeros(0, dtype=np.int64)
    for injection in injections:
        allowed = ~used
        extra = injection.eligible(world, table)
        if extra is not None:
            allowed &= extra
        candidates = np.flatnonzero(allowed)
        rows = np.sort(rng.choice(candidates, min(k, len(candidates)), replace=False))
        if not len(rows):
            continue
        used[rows] = True
        if isinstance(injection, DuplicateKey):
            sources = rows
        found += [(injection.kind, hit) for hit in injection.apply(world, rng, dataset, table, rows)]
    order = np.arange(n)
    if len(sources):
        after = rng.integers(0, n, len(sources))
        order = np.r_[order, sources][np.argsort(np.r_[2 * order, 2 * after + 1], kind="stable")]
        table = table.take(order)
    return table, _truth(dataset, table, found, first_positions(order, n))


def _truth(dataset: Dataset, table: Table, found: list[tuple[str, Hit]], position: np.ndarray) -> pa.Table:
    """Ground-truth rows for the defects and the planted PII, in file order."""
    parts = []
    for kind, hit in found:
        value = _joined(table, hit.column.split("|"), pa.array(position[hit.rows]))
        detail = (
            hit.detail
            if isinstance(hit.detail, pa.Array)
            else pa.array([hit.detail] * len(hit.rows), pa.string())
        )
        parts.append((position[hit.rows], hit.column, kind, detail, value))
    for p in table.planted:
        parts.append((p.rows, p.column, PLANTED_PII, text(p.kinds), p.values))
    rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    column = np.concatenate([np.full(len(p[0]), p[1]) for p in parts]) if parts else np.zeros(0, dtype=str)
    kind = np.concatenate([np.full(len(p[0]), p[2]) for p in parts]) if parts else np.zeros(0, dtype=str)
    order = np.lexsort((kind, column, rows))
    index = pa.array(order, pa.int64())
    return pa.table({
        "dataset": text(np.full(len(rows), dataset.id)),
        "key": _joined(table, dataset.keys, pa.array(rows[order], pa.int64())),
        "column": text(column[order]),
        "kind": text(kind[order]),
        "detail": pa.concat_arrays([p[3] for p in parts] or [pa.array([], pa.string())]).take(index),
        "value": pa.concat_arrays([p[4] for p in parts] or [pa.array([], pa.string())]).take(index),
    })  # fmt: skip


def _joined(table: Table, columns: tuple[str, ...] | list[str], rows: pa.Array) -> pa.Array:
    """The rows' values of ``columns`` as CSV text joined by "|": how ground truth names keys and pairs."""
    texts = [csv_text(table.columns[c].take(rows)) for c in columns]
    return join(*[x for text in texts for x in ("|", text)][1:])
