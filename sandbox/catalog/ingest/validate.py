"""Checking uploads against the registered schema, column-at-a-time with Arrow compute.

Values are judged by one grammar per :class:`ColumnType` (``PATTERNS`` plus the range and
calendar checks of a cast), so that both engines accept exactly the same uploads. Failing rows
are found with vectorized masks; only their index leaves this module.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc

from sandbox.catalog.ingest import hygiene, reasons
from sandbox.catalog.ingest.reasons import Where
from sandbox.domain.catalog import Column, ColumnType, Dataset

#: Naive timestamps are wall-clock time; zone-aware input is converted to this zone's clock.
LOCAL_ZONE = "Asia/Shanghai"

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.DOUBLE: pa.float64(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
    ColumnType.BOOLEAN: pa.bool_(),
}

#: The text each type accepts. Spark applies these literally; here Arrow's cast plus
#: ``_BEYOND_GRAMMAR`` accept the same language more cheaply (a test holds the two together).
#: NaN, infinities, hex, signs on integers and surrounding blanks are refused.
PATTERNS: dict[ColumnType, str] = {
    ColumnType.INTEGER: r"\A-?[0-9]+\z",
    ColumnType.DOUBLE: r"\A[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\z",
    ColumnType.DATE: r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\z",
    ColumnType.TIMESTAMP: r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?)?\z",
}
TRUE_VALUES = ("true", "True", "TRUE", "1", "是")
FALSE_VALUES = ("false", "False", "FALSE", "0", "否")


def arrow_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in dataset.columns])


def check_columns(dataset: Dataset, names: Sequence[str], file: str) -> None:
    """The file's columns must be exactly the declared set (any order)."""
    declared = dataset.column_names
    counts = Counter(names)
    duplicated = [n for n, k in counts.items() if k > 1]
    missing = [n for n in declared if n not in counts]
    unexpected = [n for n in counts if n not in declared]
    if missing and len(missing) == len(declared):
        raise reasons.no_header(file, dataset.id)
    if missing or unexpected or duplicated:
        raise reasons.schema_mismatch(
            file, dataset.id, missing=missing, unexpected=unexpected, duplicated=duplicated
        )


class BadValue(Exception):
    """Row ``index`` of a column holds a value outside its type's grammar (``kind`` "type"), or
    a text cell that fails :mod:`hygiene` (``kind`` its reason)."""

    def __init__(self, index: int, kind: str = "type") -> None:
        self.index = index
        self.kind = kind
        super().__init__(index)


class BadType(Exception):
    """A whole column has a (binary-format) type that cannot become the declared type."""


def conform(
    table: pa.Table,
    dataset: Dataset,
    file: str,
    where: Callable[[int], Where],
    *,
    max_field_chars: int = hygiene.MAX_FIELD_CHARS,
) -> pa.Table:
    """``table`` (the file's columns, text or native types) in declared order and types, with
    every text cell of a ``string`` column clean (:mod:`hygiene`).

    Columns convert in parallel (Arrow kernels release the GIL). Of several bad values the
    earliest row is reported, and within it the first declared column, as the Spark engine does.
    """

    def attempt(col: Column) -> pa.ChunkedArray | BadValue | BadType:
        try:
            if col.type is ColumnType.STRING:
                _check_clean(table[col.name], max_field_chars)
            return convert(table[col.name], col.type)
        except (BadValue, BadType) as failure:
            return failure

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(attempt, dataset.columns))
    for col, result in zip(dataset.columns, results, strict=True):
        if isinstance(result, BadType):
            found = str(table.schema.field(col.name).type)
            raise reasons.column_type_mismatch(file, col.name, found, col.type)
    bad = [(r.index, i, r.kind) for i, r in enumerate(results) if isinstance(r, BadValue)]
    if bad:
        index, i, kind = min(bad)
        col = dataset.columns[i]
        if kind == hygiene.CONTROL:
            raise reasons.control_character(file, col.name, where(index))
        if kind == hygiene.OVERSIZED:
            raise reasons.oversized_field(file, col.name, where(index), max_field_chars)
        raise reasons.type_mismatch(file, col.name, col.type, where(index))
    return pa.Table.from_arrays(results, schema=arrow_schema(dataset))


def _check_clean(arr: pa.ChunkedArray, max_chars: int) -> None:
    """Raise ``BadValue`` at the first unclean cell of a column read as text; native values
    (a Parquet integer declared ``string``) hold no characters to check."""
    kind = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        return
    if kind != arr.type or pa.types.is_string_view(kind):
        arr = arr.cast(pa.large_string())
    found = hygiene.first_unclean(arr, max_chars)
    if found is not None:
        raise BadValue(*found)


def convert(arr: pa.ChunkedArray, ctype: ColumnType) -> pa.ChunkedArray:
    kind = arr.type
    if pa.types.is_dictionary(kind):
        return convert(arr.cast(kind.value_type), ctype)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return parse_text(arr.cast(pa.string()), ctype)
    if pa.types.is_null(kind):
        return arr.cast(ARROW_TYPES[ctype])
    return _from_native(arr, ctype)


def blank_to_null(table: pa.Table) -> pa.Table:
    """Empty text is a missing value; readers whose parser does not do this call it."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            col = table.column(i)
            table = table.set_column(
                i, field, pc.if_else(pc.equal(col, ""), pa.scalar(None, field.type), col)
            )
    return table


def parse_text(arr: pa.ChunkedArray, ctype: ColumnType) -> pa.ChunkedArray:
    """Text (blanks already null) → declared type, by ``PATTERNS``.

    Arrow's cast already parses dates and timestamps exactly by that grammar; for numbers it
    is wider (hex integers, NaN and infinities), so those are refused after the cast.
    """
    if ctype is ColumnType.STRING:
        return arr
    if ctype is ColumnType.BOOLEAN:
        true = pc.is_in(arr, value_set=pa.array(TRUE_VALUES))
        false = pc.is_in(arr, value_set=pa.array(FALSE_VALUES))
        _raise_first(pc.and_(pc.is_valid(arr), pc.invert(pc.or_(true, false))))
        return pc.if_else(pc.is_valid(arr), true, pa.scalar(None, pa.bool_()))
    return _cast(arr, ARROW_TYPES[ctype], _BEYOND_GRAMMAR.get(ctype))


_BEYOND_GRAMMAR: dict[ColumnType, Callable[[pa.ChunkedArray, pa.ChunkedArray], pa.ChunkedArray]] = {
    ColumnType.INTEGER: lambda text, _: pc.or_(pc.starts_with(text, "0x"), pc.starts_with(text, "0X")),
    ColumnType.DOUBLE: lambda _, number: pc.invert(pc.is_finite(number)),
}


def _from_native(arr: pa.ChunkedArray, ctype: ColumnType) -> pa.ChunkedArray:
    kind = arr.type
    types = pa.types
    numeric = types.is_integer(kind) or types.is_floating(kind) or types.is_decimal(kind)
    if ctype is ColumnType.STRING and (types.is_integer(kind) or types.is_boolean(kind)):
        return arr.cast(pa.string())
    if ctype is ColumnType.INTEGER and numeric:
        return _cast(arr, pa.int64())
    if ctype is ColumnType.DOUBLE and numeric:
        return _cast(arr, pa.float64(), _BEYOND_GRAMMAR[ColumnType.DOUBLE])
    if ctype is ColumnType.BOOLEAN and types.is_boolean(kind):
        return arr
    if ctype is ColumnType.BOOLEAN and types.is_integer(kind):
        _raise_first(pc.invert(pc.is_in(arr, value_set=pa.array([0, 1], kind), skip_nulls=True)))
        return pc.not_equal(arr, pa.scalar(0, kind))
    if ctype in (ColumnType.DATE, ColumnType.TIMESTAMP) and types.is_timestamp(kind):
        if kind.tz is not None:
            arr = pc.local_timestamp(arr.cast(pa.timestamp(kind.unit, tz=LOCAL_ZONE)))
        if ctype is ColumnType.TIMESTAMP:
            return arr.cast(pa.timestamp("us"), safe=False)  # sub-microsecond digits are dropped
        _raise_first(pc.not_equal(pc.floor_temporal(arr, unit="day"), arr))
        return arr.cast(pa.date32())
    if ctype in (ColumnType.DATE, ColumnType.TIMESTAMP) and types.is_date(kind):
        return arr.cast(ARROW_TYPES[ctype])
    raise BadType


def _raise_first(bad: pa.ChunkedArray) -> None:
    index = pc.index(bad, True).as_py()
    if index >= 0:
        raise BadValue(index)


def _cast(
    arr: pa.ChunkedArray,
    target: pa.DataType,
    refuse: Callable[[pa.ChunkedArray, pa.ChunkedArray], pa.ChunkedArray] | None = None,
) -> pa.ChunkedArray:
    """Safe cast that reports the first row it refuses, or that ``refuse(source, result)`` flags.

    A failed cast names no row, so the prefix that does cast is found by bisection.
    """
    end = len(arr)
    try:
        out = pc.cast(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        lo, end = 0, len(arr)  # invariant: arr[:lo] casts, arr[:end] does not
        while end - lo > 1:
            mid = (lo + end) // 2
            try:
                pc.cast(arr.slice(lo, mid - lo), target)
                lo = mid
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                end = mid
        end = lo
        out = pc.cast(arr.slice(0, end), target)
    if refuse is not None:
        _raise_first(refuse(arr.slice(0, end), out))
    if end < len(arr):
        raise BadValue(end)
    return out


def duplicate_key_count(table: pa.Table, keys: Sequence[str]) -> int:
    """Rows repeating the key of an earlier row; rows with a missing key part are not counted
    (a missing key is a completeness defect, left to the quality suites)."""
    if not keys:
        return 0
    keyed = table.select(list(keys)).drop_null()
    if len(keys) == 1:
        distinct = len(pc.unique(keyed.column(0)))
    else:
        distinct = keyed.group_by(list(keys)).aggregate([]).num_rows
    return keyed.num_rows - distinct


def check_duplicates(dataset: Dataset, count: int, rows: int) -> None:
    rate = count / rows if rows else 0.0
    if rate > dataset.max_duplicate_key_rate:
        raise reasons.duplicate_keys(dataset.id, dataset.keys, count, rate, dataset.max_duplicate_key_rate)
