"""Protection intervals: how closely an attacker can pin each suppressed cell by linear programming over
everything released beside it — τ-ARGUS's audit of a suppression pattern, run after secondary suppression.

The attacker knows every released cell of the tables of one privacy unit, their margins, that entity
counts and sums add up along every line, that a cell of another output with the same key (by what the
dimensions mean) and the same people holds the same count, that no count is negative, that a sum lies
between the measure's bounds times its count, and that a rounded value was within half a base of the
truth; and the exact count of any cell whose very population an earlier release showed (the release
register says which). For each suppressed cell the gate solves the least and the greatest value those
facts allow (SciPy's HiGHS) and requires:

- a cell suppressed for the threshold: values on both sides of the threshold (one below it, one at or
  above it), so nobody learns the cell was small;
- a cell suppressed for dominance or the p-ratio: ±p % of each dominance measure's sum around the truth;
- a cell suppressed for differencing, its median, a group attribute or too few contributors to a
  measure: not pinned (an interval of at least one entity; its sums' of positive width);
- a cell suppressed only to protect others: nothing of its own (τ-ARGUS sets protection levels on the
  sensitive cells); it may be pinned as long as the cells it protects are not.

Means, medians and standard deviations are not linear in what is released and take no part.
Suppressing a cell only ever turns a known value into an unknown, so an interval that holds stays held:
a cell short of its protection gets one more cell of its lines suppressed (the smallest large enough to
cover the shortfall, else the largest), secondary suppression closes the lines again, and the audit goes
on. With no candidate left, or out of time, the cell's output is refused.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse

from sandbox.domain.gate import Reason, Rule
from sandbox.domain.job import Aggregate, Measure
from sandbox.gate.domains import Key
from sandbox.gate.rules import FLOAT_DIGITS
from sandbox.gate.suppression import Table, TableCell, protect

METHOD = (
    "audited by linear programming (SciPy HiGHS) over every released cell of the privacy unit: each suppressed "
    "cell's feasible interval straddles the threshold (counts), holds ±p_ratio (dominance), or is not pinned / "
    "线性规划审计被抑制单元格的可推算区间"
)
#: Half the last digit a released sum shows (``rules.FLOAT_DIGITS``): sums add up only to within it.
_SHOWN = 0.5 * 10.0**-FLOAT_DIGITS
#: Slack for the solver's floating point: a bound this close to a requirement meets it.
_TOLERANCE = 1e-6
_PRIMARY_MAGNITUDE = (Rule.DOMINANCE, Rule.P_RATIO)
#: Rules whose cells need only not be pinned; a cell suppressed only to protect others needs nothing.
_NOT_PINNED = (Rule.DIFFERENCING, Rule.MEDIAN, Rule.GROUP_ATTRIBUTE)


@dataclass
class AuditedTable:
    """One exact output as the attacker sees it, with the truth the requirements are measured against."""

    table: Table
    measures: tuple[Measure, ...]
    values: dict[Key, dict[str, float | int | None]]  # true values of every cell, before rounding
    rounding_base: int | None
    p_ratio: float
    dominance_aggs: tuple[str, ...]
    published_counts: dict[Key, int] = field(default_factory=dict)  # exact counts an earlier release showed

    @property
    def counts_released(self) -> bool:
        return any(m.agg is Aggregate.COUNT for m in self.measures)

    @property
    def sums(self) -> list[Measure]:
        return [m for m in self.measures if m.agg is Aggregate.SUM]

    def scale(self, measure: str | None) -> float:
        """The unit a quantity is solved in: entities for counts, a measure's largest bound for its sums
        (HiGHS takes coefficients of 1e15 or more for infinite, and a resident ID makes a fine bound)."""
        if measure is None:
            return 1.0
        bounds = next(m.bounds for m in self.measures if m.name == measure) or (1.0,)
        return max(1.0, *(abs(b) for b in bounds))

    def truth(self, cell: TableCell, measure: str | None) -> float:
        """The true value of a quantity, in the unit it is solved in."""
        raw = cell.entities if measure is None else self.values[cell.key][measure] or 0.0
        return float(raw) / self.scale(measure)


@dataclass
class Audit:
    """What the audit did: outputs refused (with their refusal's text) and how long it took."""

    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Quantity:
    """One unknown of the program: a cell's entity count (``measure`` None) or one measure's sum."""

    output: str
    key: Key
    measure: str | None = None


def _protection_reason() -> Reason:
    return Reason(Rule.SECONDARY, "次级抑制：使另一被抑制单元格的可推算区间达到保护宽度（线性规划审计）",
                  "secondary suppression: widens the interval an attacker can solve for another suppressed cell "
                  "(linear-programming audit)")  # fmt: skip


class _Program:
    """The attacker's linear program over one family of tables; rebuilt whenever a cell is suppressed."""

    def __init__(self, tables: list[AuditedTable]):
        self.tables = {t.table.output: t for t in tables}
        self.index: dict[_Quantity, int] = {}
        self.bounds: list[tuple[float | None, float | None]] = []
        self.equalities: list[dict[int, float]] = []  # sum of coefficient * variable == rhs
        self.equality_rhs: list[float] = []
        self.inequalities: list[dict[int, float]] = []  # sum of coefficient * variable <= rhs
        self.inequality_rhs: list[float] = []
        #: id(cell) -> the cells of each equation the cell is in
        self.equations_of: dict[int, list[list[TableCell]]] = {}
        for audited in tables:
            self._add_table(audited)
        self._add_links(tables)
        n = len(self.bounds)
        self._constrained = {v for row in (*self.equalities, *self.inequalities) for v in row}
        self._a_eq = _matrix(self.equalities, n) if self.equalities else None
        self._a_ub = _matrix(self.inequalities, n) if self.inequalities else None

    # -- building --------------------------------------------------------------------------------

    def _variable(
        self, audited: AuditedTable, cell: TableCell, measure: str | None
    ) -> tuple[int | None, float]:
        """A quantity as (variable, constant), in its solving unit: a released exact value is a constant,
        anything else a variable (a rounded released value: within half a base of what was shown)."""
        if measure is None and cell.key in audited.published_counts:
            return None, float(audited.published_counts[cell.key])
        known = not cell.suppressed and (measure is not None or audited.counts_released)
        base = audited.rounding_base
        if known and not base:
            return None, audited.truth(cell, measure)
        quantity = _Quantity(cell.output, cell.key, measure)
        if quantity not in self.index:
            self.index[quantity] = len(self.bounds)
            if known:  # shown = round_to_base(truth), half up: the truth is within b/2 of it
                scale = audited.scale(measure)
                shown = base * math.floor(audited.truth(cell, measure) * scale / base + 0.5)
                low, high = (shown - base / 2) / scale, (shown + base / 2) / scale
                self.bounds.append((max(low, 0.0) if measure is None else low, high))
            else:
                self.bounds.append((0.0, None) if measure is None else (None, None))
        return self.index[quantity], 0.0

    def _relation(self, terms: list[tuple[TableCell, AuditedTable, str | None, float]], total: float = 0.0, *,
                  slack: float = 0.0, at_least: bool = False) -> None:  # fmt: skip
        """``sum of sign * quantity == total`` over ``terms`` of (cell, table, measure or None, sign); within
        ``slack`` either way (values shown to six decimals), or ``>= total`` when ``at_least``."""
        row: dict[int, float] = {}
        rhs = total
        for cell, audited, measure, sign in terms:
            var, constant = self._variable(audited, cell, measure)
            if var is None:
                rhs -= sign * constant
            else:
                row[var] = row.get(var, 0.0) + sign
        if not row:
            return
        if at_least or slack:  # -sum <= -(rhs - slack)
            self.inequalities.append({k: -v for k, v in row.items()})
            self.inequality_rhs.append(slack - rhs)
        if slack and not at_least:  # sum <= rhs + slack
            self.inequalities.append(row)
            self.inequality_rhs.append(rhs + slack)
        if not (at_least or slack):
            self.equalities.append(row)
            self.equality_rhs.append(rhs)
        cells = [cell for cell, *_ in terms]
        for cell in cells:
            self.equations_of.setdefault(id(cell), []).append(cells)

    def _line(self, audited: AuditedTable, children: list[TableCell], total: TableCell | int) -> None:
        """A total and the cells under it, for counts and every sum. Counts add up only when no entity of the
        total is in two of its cells (else they add up to more); sums always add up, to the six decimals
        they are shown with. ``total``: the margin's cell, or an exact count an earlier release showed."""
        shown = isinstance(total, TableCell)
        terms = [(c, audited, None, 1.0) for c in children] + (
            [(total, audited, None, -1.0)] if shown else []
        )
        additive = sum(c.entities for c in children) == (total.entities if shown else total)
        self._relation(terms, 0.0 if shown else float(total), at_least=not additive)
        if not shown:
            return
        for m in audited.sums:
            terms = [(c, audited, m.name, 1.0) for c in children] + [(total, audited, m.name, -1.0)]
            self._relation(terms, slack=(len(children) + 1) * _SHOWN / audited.scale(m.name))

    def _add_table(self, audited: AuditedTable) -> None:
        table = audited.table
        for cell in table.cells.values():
            count = self._variable(audited, cell, None)
            for m in audited.sums:
                total = self._variable(audited, cell, m.name)
                low, high = (b / audited.scale(m.name) for b in m.bounds or (0.0, 0.0))
                # a missing contribution adds nothing: per entity the sum moves within min(low,0)..max(high,0)
                self._non_positive([(total, 1.0), (count, -max(high, 0.0))])  # sum <= high * count
                self._non_positive([(count, min(low, 0.0)), (total, -1.0)])  # low * count <= sum
        if not table.totals:  # no margins shown; an earlier release may have shown one's exact count
            for parent, count in audited.published_counts.items():
                children = [c for k, c in table.cells.items()
                            if None in parent and all(p is None or p == v for p, v in zip(parent, k, strict=True))]  # fmt: skip
                if children:
                    self._line(audited, children, count)
            return
        for i, dim in enumerate(table.dimensions):
            others = [(*table.domains[d], None) for j, d in enumerate(table.dimensions) if j != i]
            for rest in itertools.product(*others):
                parent = table.cells[(*rest[:i], None, *rest[i:])]
                children = [table.cells[(*rest[:i], v, *rest[i:])] for v in table.domains[dim]]
                self._line(audited, children, parent)

    def _non_positive(self, terms: list[tuple[tuple[int | None, float], float]]) -> None:
        """``sum of coefficient * quantity <= 0``, each quantity a (variable, constant) pair from ``_variable``."""
        row: dict[int, float] = {}
        rhs = 0.0
        for (var, value), coefficient in terms:
            if var is None:
                rhs -= coefficient * value
            elif coefficient:
                row[var] = row.get(var, 0.0) + coefficient
        if row:
            self.inequalities.append(row)
            self.inequality_rhs.append(rhs)

    def _add_links(self, tables: list[AuditedTable]) -> None:
        """Cells of two outputs with the same key and the same people (equal true counts) are equal; so are
        their sums of one column within the same bounds when the true sums agree too."""
        by_key: dict[frozenset, list[tuple[AuditedTable, TableCell]]] = {}
        for audited in tables:
            for key, cell in audited.table.cells.items():
                by_key.setdefault(audited.table.canonical(key), []).append((audited, cell))
        for group in by_key.values():
            for (ta, a), (tb, b) in itertools.combinations(group, 2):
                if ta is tb or a.entities != b.entities:
                    continue
                self._relation([(a, ta, None, 1.0), (b, tb, None, -1.0)])
                for ma in ta.sums:
                    for mb in tb.sums:
                        if (ma.column, ma.bounds) == (mb.column, mb.bounds) and \
                                ta.values[a.key][ma.name] == tb.values[b.key][mb.name]:  # fmt: skip
                            self._relation(
                                [(a, ta, ma.name, 1.0), (b, tb, mb.name, -1.0)],
                                slack=2 * _SHOWN / ta.scale(ma.name),
                            )

    # -- solving ---------------------------------------------------------------------------------

    def interval(self, quantity: _Quantity, time_limit: float) -> tuple[float, float] | str:
        """The least and greatest value of ``quantity``, or why there is none: "time" when the solver ran
        out of it, "unsolved" when it could not solve the program (never so for a consistent table)."""
        variable = self.index[quantity]
        if variable not in self._constrained:  # in no relation: its own bounds, no program to solve
            low, high = self.bounds[variable]
            return (-math.inf if low is None else low), (math.inf if high is None else high)
        found = []
        for sense in (1.0, -1.0):
            objective = np.zeros(len(self.bounds))
            objective[variable] = sense
            started = time.monotonic()
            result = optimize.linprog(
                objective, A_ub=self._a_ub, b_ub=np.array(self.inequality_rhs) if self.inequalities else None,
                A_eq=self._a_eq, b_eq=np.array(self.equality_rhs) if self.equalities else None,
                bounds=self.bounds, method="highs", options={"time_limit": max(time_limit, 1e-3)},
            )  # fmt: skip
            time_limit -= time.monotonic() - started
            if result.status == 3:  # unbounded
                found.append(-sense * math.inf)
            elif result.status == 0:
                found.append(sense * result.fun)
            else:
                return "time" if result.status == 1 else "unsolved"
        return found[0], found[1]


def _matrix(rows: list[dict[int, float]], n: int) -> sparse.csr_array:
    data, row_index, col_index = [], [], []
    for r, row in enumerate(rows):
        for c, v in row.items():
            row_index.append(r)
            col_index.append(c)
            data.append(v)
    return sparse.csr_array((data, (row_index, col_index)), shape=(len(rows), n))


@dataclass(frozen=True)
class _Requirement:
    """What one quantity's interval [lo, hi] must reach: lo <= ``below`` and hi >= ``above`` (both sides
    of a value), or hi - lo >= ``width`` (not pinned)."""

    quantity: _Quantity
    below: float = math.inf
    above: float = -math.inf
    width: float = 0.0

    def shortfall(self, lo: float, hi: float) -> float:
        """How far the interval falls short (in the quantity's units); zero or less when it is met."""
        return max(lo - self.below, self.above - hi, self.width - (hi - lo)) - _TOLERANCE


def _requirements(audited: AuditedTable, cell: TableCell, threshold: int) -> list[_Requirement]:
    """The protection each quantity of a suppressed cell needs (see the module's docstring)."""
    rules = {r.rule for r in cell.reasons}
    count = _Quantity(cell.output, cell.key)
    sums = [(m, _Quantity(cell.output, cell.key, m.name), audited.truth(cell, m.name)) for m in audited.sums]
    required = []
    if Rule.THRESHOLD in rules and cell.entities < threshold:
        required.append(_Requirement(count, below=threshold - 1.0, above=float(threshold)))
    if rules & set(_PRIMARY_MAGNITUDE):
        required += [_Requirement(q, below=v - audited.p_ratio * abs(v), above=v + audited.p_ratio * abs(v))
                     for m, q, v in sums if m.agg.value in audited.dominance_aggs]  # fmt: skip
    if rules & set(_NOT_PINNED) or (Rule.THRESHOLD in rules and cell.entities >= threshold):
        required.append(_Requirement(count, width=1.0))
        required += [_Requirement(q, width=_TOLERANCE * 10 * max(1.0, abs(v))) for _, q, v in sums]
    return required


def _candidates(program: _Program, cell: TableCell) -> list[TableCell]:
    """Released cells that share the shortest equation with ``cell`` that has any (its own line before a
    grand total); failing that, those of the cells it shares equations with, and so on."""
    seen = {id(cell)}
    frontier = [cell]
    while frontier:
        equations = sorted((e for c in frontier for e in program.equations_of.get(id(c), [])), key=len)
        for cells in equations:
            found = [c for c in cells if not c.suppressed and id(c) not in seen]
            if found:
                return found
        frontier = [c for cells in equations for c in cells if c.suppressed and id(c) not in seen]
        seen.update(id(c) for c in frontier)
    return []


def _pick(candidates: list[TableCell], program: _Program, quantity: _Quantity, shortfall: float) -> TableCell:
    """The smallest candidate at least as large as the shortfall, else the largest."""

    def size(cell: TableCell) -> float:
        if quantity.measure is None or cell.output != quantity.output:
            return float(cell.entities)
        return abs(program.tables[cell.output].truth(cell, quantity.measure))

    large_enough = [c for c in candidates if size(c) >= shortfall]
    if large_enough:
        return min(large_enough, key=lambda c: (size(c), str(c.key)))
    return max(candidates, key=lambda c: (size(c), str(c.key)))


def _refusal(output: str, why: str) -> tuple[str, str]:
    if why == "time":
        return (f"输出 {output} 的保护区间审计超出时间预算，无法确认被抑制单元格不可推算",
                f"the protection-interval audit of output {output} ran out of its time budget: the gate cannot "
                "confirm that its suppressed cells cannot be solved for")  # fmt: skip
    if why == "unsolved":
        return (f"输出 {output} 的保护区间审计无法求解，无法确认被抑制单元格不可推算",
                f"the protection-interval audit of output {output} could not be solved: the gate cannot confirm "
                "that its suppressed cells cannot be solved for")  # fmt: skip
    return (f"输出 {output} 的被抑制单元格无法通过扩大抑制达到保护宽度",
            f"no further suppression gives the suppressed cells of output {output} their protection width")  # fmt: skip


def audit(tables: list[AuditedTable], *, threshold_of: dict[str, int], max_seconds: float) -> Audit:
    """Audit every suppressed cell of ``tables`` (one privacy unit), suppressing more until each interval
    holds; outputs that cannot be protected, or not within ``max_seconds``, are refused (and dropped)."""
    result = Audit()
    started = time.monotonic()
    deadline = started + max_seconds
    live = list(tables)
    pending: deque[TableCell] = deque(c for t in live for c in t.table.cells.values() if c.suppressed)
    program = _Program(live)

    def refuse(output: str, why: str) -> None:
        nonlocal live, program
        result.refused[output] = _refusal(output, why)
        live = [t for t in live if t.table.output != output]
        program = _Program(live)

    while pending:
        cell = pending[0]
        if cell.output in result.refused:
            pending.popleft()
            continue
        short = None
        for requirement in _requirements(program.tables[cell.output], cell, threshold_of[cell.output]):
            remaining = deadline - time.monotonic()
            bounds = program.interval(requirement.quantity, remaining) if remaining > 0 else "time"
            if isinstance(bounds, str):
                refuse(cell.output, bounds)
                break
            if (shortfall := requirement.shortfall(*bounds)) > 0:
                short = (requirement.quantity, shortfall)
                break
        else:  # every requirement met: further suppression only widens intervals, so it stays met
            pending.popleft()
            continue
        if short is None:  # refused: out of time or unsolved
            continue
        candidates = _candidates(program, cell)
        if not candidates:
            refuse(cell.output, "unprotectable")
            continue
        before = {id(c) for t in live for c in t.table.cells.values() if c.suppressed}
        _pick(candidates, program, *short).reasons.append(_protection_reason())
        protect([t.table for t in live], differencing=False)
        pending.extend(
            c for t in live for c in t.table.cells.values() if c.suppressed and id(c) not in before
        )
        program = _Program(live)
    result.seconds = time.monotonic() - started
    return result
