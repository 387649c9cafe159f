"""Secondary suppression and differencing across the tables of one job, iterated to a fixed point.

A *line* is a set of cells whose sum is known: the cells along one dimension plus their total. If a
line holds exactly one suppressed cell, subtraction recovers it, so its smallest other cell (with
entities, if there is one) is suppressed too. Totals come from the table's own margins and from any
other output of the job (same privacy unit) with a cell of the same key — same values of dimensions
that mean the same (``domains.meanings``), whatever the columns are called — which also blocks
recomputation through a second, coarser table.

A cell with the same key and entity count as a suppressed cell of another output is taken to be the
same people and suppressed too, or it would give the hidden cell away.

*Differencing*: two outputs with a cell of the same key whose entity counts differ by 0 < d < threshold
would reveal the d entities that differ; both cells are suppressed, and secondary suppression then
protects them like any other suppressed cell.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from sandbox.domain.gate import Reason, Rule
from sandbox.gate.domains import Key, meanings


@dataclass(eq=False)
class TableCell:
    output: str
    key: Key
    entities: int  # true distinct entities; never leaves the gate
    reasons: list[Reason] = field(default_factory=list)
    fingerprint: Decimal | None = None  # the members' keyed-hash sum, for the release register

    @property
    def suppressed(self) -> bool:
        return bool(self.reasons)


@dataclass
class Table:
    output: str
    entity: str  # the privacy unit's column: only tables of one unit are compared
    dimensions: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]
    totals: bool
    threshold: int
    cells: dict[Key, TableCell]

    @cached_property
    def meanings(self) -> tuple[str, ...]:
        return meanings(self.dimensions, self.domains)

    def canonical(self, key: Key) -> frozenset[tuple[str, str]]:
        """The cell's key by what its dimensions mean (``domains.meanings``), not by their names."""
        return frozenset((m, v) for m, v in zip(self.meanings, key, strict=True) if v is not None)


@dataclass
class _Line:
    children: list[TableCell]
    total: TableCell
    dimension: str

    @property
    def members(self) -> list[TableCell]:
        return [*self.children, self.total]


def _index(tables: list[Table]) -> dict[tuple[str, frozenset], list[TableCell]]:
    index: dict[tuple[str, frozenset], list[TableCell]] = {}
    for table in tables:
        for key, cell in table.cells.items():
            index.setdefault((table.entity, table.canonical(key)), []).append(cell)
    return index


def _lines(tables: list[Table], index) -> list[_Line]:
    lines = []
    for table in tables:
        for i, dim in enumerate(table.dimensions):
            others = [
                (*table.domains[d], None) if table.totals else table.domains[d]
                for j, d in enumerate(table.dimensions)
                if j != i
            ]
            for rest in itertools.product(*others):
                parent = (*rest[:i], None, *rest[i:])
                children = [table.cells[(*rest[:i], v, *rest[i:])] for v in table.domains[dim]]
                for total in index.get((table.entity, table.canonical(parent)), []):
                    lines.append(_Line(children, total, dim))
    return lines


def _complement(line: _Line) -> TableCell | None:
    """The cell to suppress next: the smallest open child with entities, else any open child, else the total."""
    open_children = [c for c in line.children if not c.suppressed]
    if open_children:
        return min(open_children, key=lambda c: (c.entities == 0, c.entities, str(c.key)))
    return None if line.total.suppressed else line.total


def _secondary(line: _Line) -> Reason:
    where_zh = f"输出 {line.total.output} 的" if line.total.output != line.children[0].output else ""
    where_en = f" of output {line.total.output}" if line.total.output != line.children[0].output else ""
    return Reason(Rule.SECONDARY, f"次级抑制：防止借助{where_zh}维度 {line.dimension} 的合计反推其他被抑制单元格",
                  f"secondary suppression: keeps another suppressed cell from being recomputed from the "
                  f"{line.dimension} totals{where_en}")  # fmt: skip


def _differencing(tables: list[Table], index) -> None:
    """Suppress both cells of every released pair whose entity counts differ by 0 < d < threshold."""
    thresholds = {t.output: t.threshold for t in tables}
    for cells in index.values():
        for a, b in itertools.combinations(cells, 2):
            threshold = max(thresholds[a.output], thresholds[b.output])
            if a.output == b.output or a.suppressed or b.suppressed:
                continue
            if 0 < abs(a.entities - b.entities) < threshold:
                for cell, other in ((a, b), (b, a)):
                    cell.reasons.append(Reason(
                        Rule.DIFFERENCING, f"差分保护：与输出 {other.output} 的同一单元格主体数相差不足 {threshold}",
                        f"differencing: its entity count differs from the same cell of output {other.output} "
                        f"by less than {threshold}",
                    ))  # fmt: skip


def _aliases(index) -> dict[TableCell, list[TableCell]]:
    """Cells of other outputs with the same key and the same entity count: most likely the same people."""
    aliases: dict[TableCell, list[TableCell]] = {}
    for cells in index.values():
        for a, b in itertools.combinations(cells, 2):
            if a.output != b.output and a.entities == b.entities:
                aliases.setdefault(a, []).append(b)
                aliases.setdefault(b, []).append(a)
    return aliases


def _alias_reason(other: TableCell) -> Reason:
    return Reason(Rule.SECONDARY, f"次级抑制：输出 {other.output} 的同一单元格主体数相同且已被抑制",
                  f"secondary suppression: the same cell of output {other.output} has the same entity count "
                  "and is suppressed")  # fmt: skip


def protect(tables: list[Table], *, differencing: bool) -> None:
    """Add differencing, then secondary suppressions to ``tables`` in place, until no line gives a cell away.

    Differencing runs once, first: suppressing cells never makes a pair of released cells appear.
    Secondary suppression works through a queue: a line with one suppressed cell gets its complement
    suppressed, and a suppressed cell takes its aliases (same key and count in another output) along;
    each newly suppressed cell re-queues its lines and aliases.
    """
    index = _index(tables)
    if differencing:
        _differencing(tables, index)
    lines = _lines(tables, index)
    aliases = _aliases(index)
    lines_of: dict[TableCell, list[_Line]] = {}
    for line in lines:
        for cell in line.members:
            lines_of.setdefault(cell, []).append(line)
    queue: deque[_Line | TableCell] = deque([*lines, *(c for c in aliases if c.suppressed)])

    def suppress(cell: TableCell, reason: Reason) -> None:
        cell.reasons.append(reason)
        queue.extend(lines_of.get(cell, []))
        queue.append(cell)

    while queue:
        item = queue.popleft()
        if isinstance(item, TableCell):
            for alias in aliases.get(item, []):
                if not alias.suppressed:
                    suppress(alias, _alias_reason(item))
        elif sum(c.suppressed for c in item.members) == 1 and (cell := _complement(item)) is not None:
            suppress(cell, _secondary(item))
