"""One reader per format: upload bytes → an Arrow table of the file's columns, plus a way back
from a row index to a position the provider can find.

Text formats arrive as strings and are typed later by :mod:`validate`, so one grammar judges
every format; binary formats keep their native types. Each reader checks the column names as
soon as it knows them, before parsing the rest, and turns parser failures into rejections
without passing the parser's message on (it quotes raw values).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.json as pj
import pyarrow.parquet as pq
from openpyxl.utils.escape import unescape

from sandbox.catalog.ingest import locate, reasons
from sandbox.catalog.ingest.detect import Detected, Format, to_utf8, utf8_failure
from sandbox.catalog.ingest.hygiene import MAX_FIELD_CHARS
from sandbox.catalog.ingest.reasons import Where
from sandbox.catalog.ingest.validate import blank_to_null, check_columns
from sandbox.domain.catalog import ColumnType, Dataset
from sandbox.domain.errors import IngestRejected


@dataclass(frozen=True)
class Raw:
    table: pa.Table
    where: Callable[[int], Where]


def read(
    data: pa.Buffer, detected: Detected, name: str, dataset: Dataset, max_field_chars: int = MAX_FIELD_CHARS
) -> Raw:
    """``max_field_chars`` only helps locate a field too long to parse; :func:`validate.conform`
    refuses every overlong cell that did parse."""
    if detected.format is Format.CSV:
        raw = _csv(data, detected, name, dataset, max_field_chars)
    else:
        readers = {Format.JSONL: _jsonl, Format.PARQUET: _parquet, Format.XLSX: _xlsx}
        raw = readers[detected.format](data, detected, name, dataset)
    if raw.table.num_rows == 0:
        raise reasons.empty(name)
    return raw


def _csv(data: pa.Buffer, detected: Detected, name: str, dataset: Dataset, max_field_chars: int) -> Raw:
    text = to_utf8(data, detected.encoding, name)
    delimiter = detected.delimiter
    header = locate.csv_header(text, "utf-8", delimiter)
    if not header:
        raise reasons.empty(name)
    check_columns(dataset, [h.strip() for h in header], name)
    try:
        table = _parse_csv(text, header, delimiter)
    except pa.ArrowInvalid:
        raise _csv_failure(text, detected, name, header, max_field_chars) from None
    if table.column_names != header:
        raise reasons.unparseable(name, "CSV")
    table = table.rename_columns([h.strip() for h in header])
    return Raw(table, lambda i: locate.csv_where(text, "utf-8", delimiter, i))


def _parse_csv(text: pa.Buffer, header: list[str], delimiter: str) -> pa.Table:
    """All columns as text. Arrow splits the file into blocks at newlines; allowing newlines
    inside quoted values makes that split slower, so it is allowed only on a second try — a
    quoted newline at a block boundary makes the first try fail, never silently mis-split."""
    convert = pv.ConvertOptions(
        column_types={h: pa.string() for h in header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )

    def parse(newlines_in_values: bool) -> pa.Table:
        options = pv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values)
        return pv.read_csv(pa.BufferReader(text), parse_options=options, convert_options=convert)

    try:
        return parse(False)
    except pa.ArrowInvalid:
        return parse(True)


def _csv_failure(
    text: pa.Buffer, detected: Detected, name: str, header: list[str], max_field_chars: int
) -> IngestRejected:
    """Why Arrow could not parse: bad bytes, a ragged record, or a field so long (an unclosed
    quote, typically) that it straddles Arrow's parse blocks."""
    if detected.encoding in ("utf-8", "utf-8-sig") and (bad := utf8_failure(text, name)):
        return bad
    ragged = locate.first_ragged(text, "utf-8", detected.delimiter)
    if ragged is not None:
        where, found = ragged
        return reasons.malformed_row(name, where, found, len(header))
    oversized = locate.first_oversized(text, "utf-8", detected.delimiter, max_field_chars)
    if oversized is not None:
        where, index = oversized
        return reasons.oversized_field(name, header[index].strip(), where, max_field_chars)
    return reasons.unparseable(name, "CSV")


def _jsonl(data: pa.Buffer, detected: Detected, name: str, dataset: Dataset) -> Raw:
    text = to_utf8(data, detected.encoding, name)
    # Keep text as text where Arrow would otherwise guess timestamps out of strings.
    explicit = pa.schema(
        [
            (c.name, pa.string())
            for c in dataset.columns
            if c.type in (ColumnType.STRING, ColumnType.DATE, ColumnType.TIMESTAMP)
        ]
    )
    try:
        table = pj.read_json(
            pa.BufferReader(text),
            parse_options=pj.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer"),
        )
    except pa.ArrowInvalid:
        if detected.encoding in ("utf-8", "utf-8-sig") and (bad := utf8_failure(text, name)):
            raise bad from None
        table = _jsonl_as_text(text, name, dataset)
    absent = [
        n
        for n in explicit.names
        if n in table.column_names and table[n].null_count == table.num_rows and not _has_key(text, n)
    ]
    table = table.drop_columns(absent)
    check_columns(dataset, table.column_names, name)
    return Raw(blank_to_null(table), lambda i: locate.jsonl_where(text, i))


def _has_key(text: pa.Buffer, key: str) -> bool:
    raw = text.to_pybytes()
    return any(json.dumps(key, ensure_ascii=a).encode() in raw for a in (True, False))


def _jsonl_as_text(text: pa.Buffer, name: str, dataset: Dataset) -> pa.Table:
    """Slow path for what Arrow's JSON reader refuses (mixed value kinds in a column, stray
    lines): every scalar becomes its JSON text, so :mod:`validate` judges it like CSV."""
    columns: dict[str, list[str | None]] = {}
    nested: tuple[str, Where] | None = None
    count = 0
    for line, raw in enumerate(io.BytesIO(text.to_pybytes()), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise reasons.malformed_row(name, Where(count + 1, line), None, 0)
        for key, value in record.items():
            if isinstance(value, dict | list) and nested is None:
                nested = (key, Where(count + 1, line))
            cells = columns.setdefault(key, [None] * count)
            cells.append(value if isinstance(value, str) or value is None else json.dumps(value))
        count += 1
        for cells in columns.values():
            cells.extend([None] * (count - len(cells)))
    check_columns(dataset, list(columns), name)
    if nested is not None:
        column, where = nested
        raise reasons.type_mismatch(name, column, dataset.column(column).type, where)
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _parquet(data: pa.Buffer, detected: Detected, name: str, dataset: Dataset) -> Raw:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        names = parquet.schema_arrow.names
    except (pa.ArrowException, OSError):
        raise reasons.corrupt_file(name, "Parquet") from None
    check_columns(dataset, names, name)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError):
        raise reasons.corrupt_file(name, "Parquet") from None
    return Raw(blank_to_null(table), lambda i: Where(i + 1))


def _xlsx(data: pa.Buffer, detected: Detected, name: str, dataset: Dataset) -> Raw:
    """First sheet, first row is the header; Excel's own cell types are rendered as text."""
    try:
        book = openpyxl.load_workbook(pa.BufferReader(data), read_only=True, data_only=True)
        try:
            columns, lines = _sheet_columns(book.worksheets[0], name, dataset)
        finally:
            book.close()
    except IngestRejected:
        raise
    except Exception:  # openpyxl/zipfile/XML raise many types for a damaged workbook
        raise reasons.corrupt_file(name, "XLSX") from None
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return Raw(table, lambda i: Where(i + 1, lines[i]))


def _sheet_columns(sheet, name: str, dataset: Dataset) -> tuple[dict[str, list[str | None]], list[int]]:
    rows = sheet.iter_rows(values_only=True)
    header = [("" if v is None else str(v)).strip() for v in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise reasons.empty(name)
    check_columns(dataset, header, name)
    width = len(header)
    types = [dataset.column(h).type for h in header]
    cells: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    for line, row in enumerate(rows, start=2):
        filled = [i for i, v in enumerate(row) if v not in (None, "")]
        if filled and filled[-1] >= width:
            raise reasons.malformed_row(name, Where(len(lines) + 1, line), filled[-1] + 1, width)
        if not filled:
            continue
        for j, column in enumerate(cells):
            column.append(_cell_text(row[j] if j < len(row) else None, types[j]))
        lines.append(line)
    return dict(zip(header, cells, strict=True)), lines


def _cell_text(value: object, ctype: ColumnType) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return unescape(value)  # OOXML writes a control character as _xHHHH_; openpyxl keeps the escape
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if ctype is ColumnType.DATE and value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and ctype is not ColumnType.DOUBLE:
        return str(int(value))  # Excel stores 13800138000 and 42 as floats
    return str(value)
