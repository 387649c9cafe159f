"""Listings and records as a table for people, or JSON or CSV for scripts (``--format``).

Rows are dictionaries of stored values (English slugs, UTC timestamps, numbers). JSON and CSV print
them as they are, times as ISO 8601 in Asia/Shanghai; a table shows labels (``已启用 active``),
local times and thousands separators. A ``show`` is fields plus listings (sections): JSON nests
them, CSV prints the fields as one row. A table never cuts a cell: identifier columns keep their
whole width, other columns wrap, and a listing too wide for the terminal (80 columns in a pipe)
is printed one record per block instead.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sandbox.display import shanghai_iso, shanghai_time


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    Format, typer.Option("--format", help="输出格式 / output format: table（表格）, json, csv")
]

#: A text column gets at least this many cells before a listing switches to one block per record.
_MIN_TEXT_WIDTH = 12


@dataclass(frozen=True)
class Col:
    """One column: its key in JSON/CSV, its bilingual header, and how a table shows a value.

    ``ident``: the value is something a user types (an id), never wrapped or cut.
    ``time``: a stored UTC timestamp, shown in Asia/Shanghai.
    """

    key: str
    zh: str
    en: str
    show: Callable[[Any], str] | None = None
    ident: bool = False
    time: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}" if self.zh != self.en else self.en

    def cell(self, value: Any) -> str:
        if value is None or value == "":
            return "—" if not self.ident else ""
        if self.show is not None:
            return self.show(value)
        if self.time:
            return shanghai_time(value)
        if isinstance(value, bool):
            return "是 yes" if value else "否 no"
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, list | tuple):
            return ", ".join(map(str, value))
        return str(value)

    def machine(self, value: Any) -> Any:
        return shanghai_iso(value) if self.time and value else value


def emit(
    console: Console,
    title: str,
    columns: Sequence[Col],
    rows: Iterable[Mapping[str, Any]],
    fmt: Format = Format.TABLE,
) -> None:
    """Print ``rows`` as a table (or one block per row when too wide), JSON or CSV."""
    rows = list(rows)
    if fmt is Format.JSON:
        write_json([{c.key: c.machine(r.get(c.key)) for c in columns} for r in rows])
    elif fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for r in rows:
            writer.writerow([_csv_value(c.machine(r.get(c.key))) for c in columns])
    else:
        cells = [[c.cell(r.get(c.key)) for c in columns] for r in rows]
        if _fits(console, columns, cells):
            console.print(_table(title, columns, cells))
        else:
            _blocks(console, title, columns, cells)


def emit_record(
    console: Console, title: str, fields: Sequence[tuple[Col, Any]], fmt: Format = Format.TABLE
) -> None:
    """One object: ``field: value`` lines for people, one JSON object or a one-row CSV for scripts."""
    if fmt is Format.JSON:
        write_json({c.key: c.machine(v) for c, v in fields})
    elif fmt is Format.CSV:
        emit(console, title, [c for c, _ in fields], [{c.key: v for c, v in fields}], fmt)
    else:
        _blocks(console, title, [c for c, _ in fields], [[c.cell(v) for c, v in fields]], numbered=False)


@dataclass(frozen=True)
class Section:
    """A listing inside a ``show`` (a dataset's columns, a scenario's consents…)."""

    key: str
    title: str
    columns: Sequence[Col]
    rows: Sequence[Mapping[str, Any]]


def emit_show(
    console: Console,
    title: str,
    fields: Sequence[tuple[Col, Any]],
    sections: Sequence[Section] = (),
    fmt: Format = Format.TABLE,
) -> None:
    """An object with listings inside: one JSON object with a list per section; CSV gets the fields."""
    if fmt is Format.JSON:
        write_json({
            **{c.key: c.machine(v) for c, v in fields},
            **{s.key: [{c.key: c.machine(r.get(c.key)) for c in s.columns} for r in s.rows] for s in sections},
        })  # fmt: skip
        return
    emit_record(console, title, fields, fmt)
    if fmt is Format.TABLE:
        for section in sections:
            emit(console, section.title, section.columns, section.rows, fmt)


def write_json(value: Any) -> None:
    """A document for scripts: UTF-8, Chinese as it is, never wrapped or styled."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def _csv_value(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _fits(console: Console, columns: Sequence[Col], cells: list[list[str]]) -> bool:
    need = 1 + 3 * len(columns)
    for i, column in enumerate(columns):
        widest = max((_widest_line(row[i]) for row in cells), default=0)
        header = max(cell_len(word) for word in column.header.split())
        need += max(widest, header) if column.ident else max(header, min(widest, _MIN_TEXT_WIDTH))
    return need <= console.width


def _widest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def _table(title: str, columns: Sequence[Col], cells: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.header, no_wrap=column.ident, overflow="fold")
    for row in cells:
        table.add_row(*(Text(value) for value in row))
    return table


def _blocks(
    console: Console, title: str, columns: Sequence[Col], cells: list[list[str]], *, numbered: bool = True
) -> None:
    """``header  value`` lines, never wrapped or cut by us (a terminal may wrap a long one; a pipe keeps it whole)."""
    console.print(Text(title, style="bold"), soft_wrap=True)
    pad = max((cell_len(c.header) for c in columns), default=0)
    for n, row in enumerate(cells, 1):
        if numbered:
            console.print(Text(f"— {n} —", style="dim"))
        for column, value in zip(columns, row, strict=True):
            key = column.header + " " * (pad - cell_len(column.header))
            lines = value.splitlines() or [""]
            console.print(Text(f"{key}  {lines[0]}"), soft_wrap=True)
            for line in lines[1:]:
                console.print(Text(f"{' ' * pad}  {line}"), soft_wrap=True)
    if not cells:
        console.print(Text("（无 / none）", style="dim"))
