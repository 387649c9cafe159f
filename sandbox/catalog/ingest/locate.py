"""Where a failing record sits in a text file — computed only after something failed.

The engines validate column-at-a-time and know only a record's index. Turning that into the
physical line a provider can open in an editor needs a sequential parse (quoted values may span
lines; blank lines are skipped), so it is done here, in plain Python, on the failure path only.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from sandbox.catalog.ingest.reasons import Where

CHUNK = 16 * 1024 * 1024

Source = Path | pa.Buffer


def open_text(source: Source, encoding: str) -> io.TextIOBase:
    codec = "utf-8-sig" if encoding == "utf-8" else encoding  # a leading BOM is not data
    if isinstance(source, Path):
        return source.open(encoding=codec, newline="", errors="replace")
    return io.TextIOWrapper(pa.BufferReader(source), encoding=codec, newline="", errors="replace")


def _records(stream: io.TextIOBase, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(start line, fields)`` of every non-blank record, header first."""
    csv.field_size_limit(max(csv.field_size_limit(), sys.maxsize >> 1))
    reader = csv.reader(stream, delimiter=delimiter)
    end = 0
    for fields in reader:
        start, end = end + 1, reader.line_num
        if fields:
            yield start, fields


def csv_header(source: Source, encoding: str, delimiter: str) -> list[str]:
    with open_text(source, encoding) as stream:
        try:
            return next((fields for _, fields in _records(stream, delimiter)), [])
        except csv.Error:
            return []


def csv_where(source: Source, encoding: str, delimiter: str, index: int) -> Where:
    """Position of data record ``index`` (0-based, header excluded)."""
    return csv_record(source, encoding, delimiter, index)[0]


def csv_record(
    source: Source,
    encoding: str,
    delimiter: str,
    index: int,
    *,
    offset: int = 0,
    first_line: int = 1,
    first_record: int = 0,
) -> tuple[Where, int | None]:
    """Position and field count of data record ``index``.

    The scan may start mid-file at byte ``offset``, a line start known to be line
    ``first_line`` and to begin data record ``first_record`` (how Spark splits files); from
    offset 0 the first record read is the header.
    """
    with open_text(source, encoding) as stream:
        if offset:
            stream.buffer.seek(offset)
        number = first_record if offset else -1
        try:
            for line, fields in _records(stream, delimiter):
                if number == index:
                    return Where(index + 1, first_line + line - 1), len(fields)
                number += 1
        except csv.Error:
            pass
    return Where(index + 1), None


def split_start(path: Path, block_start: int) -> tuple[int, int]:
    """Byte offset and line number of the first record of a split starting at ``block_start``.

    Hadoop's line reader gives a line starting exactly at a split's start to the previous
    split, so a split's first record begins after the first newline at or after its start.
    """
    if block_start == 0:
        return 0, 1
    newlines = 0
    with path.open("rb") as fh:
        while fh.tell() < block_start:
            newlines += fh.read(min(CHUNK, block_start - fh.tell())).count(b"\n")
        position = block_start
        while chunk := fh.read(CHUNK):
            found = chunk.find(b"\n")
            if found >= 0:
                return position + found + 1, newlines + 2
            position += len(chunk)
    return position, newlines + 1


def first_ragged(source: Source, encoding: str, delimiter: str) -> tuple[Where, int | None] | None:
    """The first data record whose field count differs from the header's, with that count."""
    with open_text(source, encoding) as stream:
        records = _records(stream, delimiter)
        try:
            _, header = next(records)
            for number, (line, fields) in enumerate(records, start=1):
                if len(fields) != len(header):
                    return Where(number, line), len(fields)
        except (StopIteration, csv.Error):
            return None
    return None


def first_oversized(
    source: Source, encoding: str, delimiter: str, max_chars: int
) -> tuple[Where, int] | None:
    """The first data record with a field longer than ``max_chars``, and that field's position.

    A quoted field left open runs on through the following lines: the record then starts at
    the line of the open quote, which is the line to report.
    """
    with open_text(source, encoding) as stream:
        records = _records(stream, delimiter)
        try:
            next(records)
            for number, (line, fields) in enumerate(records, start=1):
                long = next((i for i, f in enumerate(fields) if len(f) > max_chars), None)
                if long is not None:
                    return Where(number, line), long
        except (StopIteration, csv.Error):
            return None
    return None


def jsonl_where(data: pa.Buffer, index: int) -> Where:
    """Position of JSON Lines record ``index``: blank lines hold no record."""
    number = -1
    for line, raw in enumerate(io.BytesIO(data.to_pybytes()), start=1):
        if raw.strip():
            number += 1
            if number == index:
                return Where(index + 1, line)
    return Where(index + 1)
