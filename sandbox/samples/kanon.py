"""k-anonymity by generalization and local suppression, and the l-diversity that results.

Counting is per privacy unit: a class holds k *entities* (people, enterprises), not k rows,
so a person with five insurance rows is not a class of five. The search walks the lattice of
generalization levels best first, by the information the quasi-identifiers keep together (the
entropy of the partition into classes, in bits, so a community cut to its district adds nothing
beyond the district code), and stops at the first node where every class has k entities or
the entities of the small classes are few enough to suppress locally (their quasi-identifier
cells, within budget, and at least k of them so the suppressed class is k-anonymous too). A
column is thus suppressed whole only when that keeps more information than coarsening the
others: two genders weigh less than a birth date in 5-year bands. The hierarchies are nested,
so raising a level never adds information nor entities to small classes: the walk bounds a node
by the nodes it coarsens and by its columns' own bits, skips nodes finer than one already over
the budget, and stops once nothing left can beat the best node found; the result is the one an
exhaustive search picks. Everything is vectorized (each column's codes at every level computed
once from its distinct values, numpy counting); the sample is small enough to stay in memory.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.samples.hierarchies import Hierarchy


@dataclass
class KResult:
    k: int  # achieved: smallest class, in entities (0 for an empty table)
    levels: dict[str, int]
    suppressed_entities: int = 0
    suppressed_rows: int = 0
    dropped_rows: int = 0  # rows removed because the whole table had fewer than k entities
    classes: int = 0
    l_diversity: dict[str, int] = field(default_factory=dict)  # sensitive column -> smallest distinct count
    measured_nodes: int = 0  # lattice nodes whose classes the search counted


def _codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values; null is a value of its own."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values, null_encoding="encode").indices.to_numpy().astype(np.int64)


def _combine(columns: list[np.ndarray], n: int, radices: list[int] | None = None) -> np.ndarray:
    """One class id per row from several code columns: a mixed-radix number, factorized when sparse.

    Ids index count arrays, so some may go unused (count 0) but they stay below 4n. ``radices``
    (each column's largest code + 1), when known, save a pass over each column.
    """
    ids = np.zeros(n, dtype=np.int64)
    span = 1
    for i, codes in enumerate(columns):
        radix = radices[i] if radices is not None else int(codes.max(initial=0)) + 1
        if span * radix >= 2**62:  # too many combinations for one int64: renumber what we have so far
            ids = pd.factorize(ids)[0].astype(np.int64)
            span = int(ids.max(initial=0)) + 1
        ids = ids * radix + codes
        span *= radix
    return ids if span <= 4 * n + 1024 else pd.factorize(ids)[0]


def _class_ids(table: pa.Table, qis: list[str]) -> np.ndarray:
    """Dense class ids (0 … classes − 1), for measuring."""
    return pd.factorize(_combine([_codes(table.column(q)) for q in qis], table.num_rows))[0]


def distinct_per_class(class_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Number of distinct ``values`` in each class (index = class id)."""
    if not len(class_ids):
        return np.zeros(0, dtype=np.int64)
    pairs = pd.unique(class_ids * (int(values.max()) + 1) + values)
    return np.bincount(pairs // (int(values.max()) + 1), minlength=int(class_ids.max()) + 1)


def generalized(table: pa.Table, hierarchies: dict[str, Hierarchy], levels: dict[str, int]) -> pa.Table:
    """Each column at its level; the hierarchy runs on the column's distinct values, rows take theirs."""
    for column, hierarchy in hierarchies.items():
        index = table.schema.get_field_index(column)
        encoded = pc.dictionary_encode(table.column(column).combine_chunks(), null_encoding="encode")
        mapped = hierarchy.apply(encoded.dictionary, levels[column])
        table = table.set_column(index, column, mapped.take(encoded.indices))
    return table


class _Levels:
    """Every quasi-identifier's integer codes at every level from its floor to suppression, computed once.

    Each hierarchy is applied to the column's dictionary of distinct values (not to every row) and the
    row codes are looked up, so a level costs one ``take``. ``nested`` says whether each level's
    classes are unions of the level below's, which the search's pruning relies on.
    """

    def __init__(self, table: pa.Table, hierarchies: dict[str, Hierarchy], floor: dict[str, int]) -> None:
        self.n = table.num_rows
        self.codes: dict[str, dict[int, np.ndarray]] = {}
        self.radix: dict[str, dict[int, int]] = {}
        self.nested = True
        for q, hierarchy in hierarchies.items():
            values = table.column(q).combine_chunks()
            encoded = pc.dictionary_encode(values, null_encoding="encode")
            rows = encoded.indices.to_numpy(zero_copy_only=False)
            self.codes[q], self.radix[q], below = {}, {}, None
            for level in range(floor[q], hierarchy.top + 1):
                mapping = _codes(hierarchy.apply(encoded.dictionary, level)).astype(np.int32)
                radix = int(mapping.max(initial=0)) + 1
                self.codes[q][level], self.radix[q][level] = mapping[rows], radix
                if below is not None and len(mapping):  # one coarser code per finer code, or not nested
                    self.nested &= (
                        len(np.unique(below.astype(np.int64) * radix + mapping)) == int(below.max()) + 1
                    )
                below = mapping

    def ids(self, node: dict[str, int]) -> np.ndarray:
        """Class ids (not dense) of every row at the levels ``node``."""
        live = [(q, lv) for q, lv in node.items() if self.radix[q][lv] > 1]  # one code adds nothing
        return _combine([self.codes[q][lv] for q, lv in live], self.n, [self.radix[q][lv] for q, lv in live])

    def subset(self, rows: np.ndarray) -> _Levels:
        """The same levels for the rows ``rows`` only."""
        out = object.__new__(_Levels)
        out.n, out.radix, out.nested = len(rows), self.radix, self.nested
        out.codes = {q: {lv: codes[rows] for lv, codes in levels.items()} for q, levels in self.codes.items()}
        return out


def _entropy(counts: np.ndarray, n: int) -> float:
    """Bits of the partition of ``n`` rows into classes of ``counts`` rows (empty classes count nothing)."""
    shares = counts[counts > 0] / n
    return float(-(shares * np.log2(shares)).sum())


class _Search:
    """The lattice of generalization levels over the rows of ``levels``, whose entities are ``entities``."""

    def __init__(self, levels: _Levels, entities: np.ndarray, k: int) -> None:
        self.levels, self.entities, self.k = levels, entities, k
        self.n = levels.n
        self.one_row_each = len(pd.unique(entities)) == len(entities)  # then class sizes are row counts
        self.measured = 0

    def measure(self, node: dict[str, int]) -> tuple[float, int]:
        """Information kept (entropy of the partition into classes, in bits) and how many entities
        are in classes of fewer than k entities."""
        self.measured += 1
        ids = self.levels.ids(node)
        counts = np.bincount(ids)
        counts = counts[counts > 0]
        bits = round(_entropy(counts, self.n), 9)
        if self.one_row_each:
            return bits, int(counts[counts < self.k].sum())
        small = distinct_per_class(ids, self.entities)[ids] < self.k
        return bits, len(pd.unique(self.entities[small]))

    def column_bits(self, q: str, level: int) -> float:
        return _entropy(np.bincount(self.levels.codes[q][level]), self.n)

    def best(self, floor: dict[str, int], budget: int) -> dict[str, int]:
        """The most informative levels that are k-anonymous after suppressing at most ``budget`` entities
        (ties: fewer steps, then the smaller levels in column order).

        Best first over the lattice by an upper bound of each node's bits. Raising a column never
        adds information (the hierarchies are nested), so a node's bits are bounded by those of every
        measured node it coarsens, and by the sum of its columns' own bits and log2 of the rows
        (subadditivity of entropy); measured nodes leave the heap in order of information kept. Nor
        does raising a column ever add entities to small classes, so a node finer than a measured node
        that needs more than ``budget`` is rejected without counting, and the walk stops once nothing
        left can beat the best acceptable node found. The top node (everything suppressed) is one
        class of every entity, so the walk ends.
        """
        if not self.levels.nested:
            return self.exhaustive(floor, budget)
        qis = list(floor)
        tops = [max(self.levels.codes[q]) for q in qis]
        start = tuple(floor[q] for q in qis)
        cap = float(np.log2(max(self.n, 1))) + 1e-6
        single = [{lv: self.column_bits(q, lv) for lv in self.levels.codes[q]} for q in qis]
        measured: dict[tuple[int, ...], tuple[float, int]] = {}
        # The maximal measured nodes needing more than the budget: a node at or below one of them
        # needs more too. Only maximal ones are kept (a node below a dropped one is below its
        # successor), as rows of one array, so the test is one vectorized comparison per node.
        too_small = np.empty((0, len(qis)), dtype=np.int64)
        incumbent: tuple | None = None  # (-bits, steps, node) of the best acceptable node measured
        heap, seen = [(-np.inf, sum(start), start)], {start}

        def expand(key: float, steps: int, node: tuple[int, ...]) -> None:
            for i, top in enumerate(tops):
                if node[i] < top:
                    step = node[:i] + (node[i] + 1,) + node[i + 1 :]
                    if step not in seen:
                        seen.add(step)
                        heapq.heappush(heap, (key, steps + 1, step))

        while heap:
            entry = heapq.heappop(heap)
            if incumbent is not None and entry >= incumbent:
                break
            key, steps, node = entry
            if node in measured:  # rejected (an acceptable node is the incumbent or worse than it)
                expand(key, steps, node)
                continue
            bound = min(cap, sum(single[i][lv] for i, lv in enumerate(node)) + 1e-6)
            for i in range(len(node)):
                if node[i] > start[i]:
                    finer = node[:i] + (node[i] - 1,) + node[i + 1 :]
                    if finer in measured:  # (rounding slack: equal partitions may round apart)
                        bound = min(bound, measured[finer][0] + 1e-9)
            if -bound > key:  # a tighter bound than it was queued with: queue it again
                heapq.heappush(heap, (-bound, steps, node))
                continue
            if (too_small >= node).all(axis=1).any():
                expand(key, steps, node)
                continue
            bits, small = measured[node] = self.measure(dict(zip(qis, node, strict=True)))
            if small > budget:
                row = np.array(node, dtype=np.int64)
                too_small = np.vstack([too_small[~(too_small <= row).all(axis=1)], row])
            elif small == 0 or small >= self.k:
                incumbent = min(incumbent or (np.inf,), (-bits, steps, node))
            heapq.heappush(heap, (-bits, steps, node))
        return dict(zip(qis, incumbent[2], strict=True))

    def exhaustive(self, floor: dict[str, int], budget: int) -> dict[str, int]:
        """Every node measured: the reference the pruned walk must agree with."""
        qis = list(floor)
        ranges = [range(floor[q], max(self.levels.codes[q]) + 1) for q in qis]
        best = None
        for node in itertools.product(*ranges):
            bits, small = self.measure(dict(zip(qis, node, strict=True)))
            if small == 0 or self.k <= small <= budget:
                best = min(best or (np.inf,), (-bits, sum(node), node))
        return dict(zip(qis, best[2], strict=True))


def k_anonymize(
    table: pa.Table,
    hierarchies: dict[str, Hierarchy],
    *,
    k: int,
    entity: str | None,
    max_suppression: float,
    start: dict[str, int] | None = None,
    exhaustive: bool = False,
) -> tuple[pa.Table, KResult]:
    """Generalize and suppress the quasi-identifiers in ``hierarchies`` until every class has ≥ k entities."""
    qis = list(hierarchies)
    entities = _codes(table.column(entity)) if entity else np.arange(table.num_rows, dtype=np.int64)
    total = len(pd.unique(entities))
    if total < k:  # no generalization can hide fewer than k entities: nothing of the table goes out
        return table.slice(0, 0), KResult(
            0, {q: hierarchies[q].top for q in qis}, dropped_rows=table.num_rows
        )
    floor = {q: min((start or {}).get(q, 0), hierarchies[q].top) for q in qis}
    codes = _Levels(table, hierarchies, floor)
    # Rows repeating an entity's quasi-identifiers (duplicate records) change no class: search without them.
    keys = _combine([entities, *(codes.codes[q][floor[q]] for q in qis)], table.num_rows)
    distinct = np.flatnonzero(~pd.Series(keys).duplicated().to_numpy())
    search = _Search(codes.subset(distinct), entities[distinct], k)
    budget = int(max_suppression * total)
    levels = search.exhaustive(floor, budget) if exhaustive else search.best(floor, budget)
    ids = codes.ids(levels)
    suppress = distinct_per_class(ids, entities)[ids] < k
    result = generalized(table, hierarchies, levels)
    if suppress.any():
        mask = pa.array(suppress)
        for q in qis:
            column = result.column(q).combine_chunks()
            result = result.set_column(
                result.schema.get_field_index(q), q, pc.if_else(mask, pa.scalar(None, column.type), column)
            )
    sizes = distinct_per_class(_class_ids(result, qis), entities)
    return result, KResult(
        k=int(sizes.min()) if len(sizes) else 0,
        levels=levels,
        suppressed_entities=int(len(pd.unique(entities[suppress]))),
        suppressed_rows=int(suppress.sum()),
        classes=int(len(sizes)),
        measured_nodes=search.measured,
    )


def l_diversity(table: pa.Table, qis: list[str], sensitive: list[str]) -> dict[str, int]:
    """Per sensitive column, the fewest distinct values any quasi-identifier class holds."""
    ids = _class_ids(table, qis)
    out = {}
    for column in sensitive:
        counts = distinct_per_class(ids, _codes(table.column(column)))
        out[column] = int(counts.min()) if len(counts) else 0
    return out


def measure_k(table: pa.Table, qis: list[str], entity: str | None) -> int:
    """The k a table actually has over ``qis`` (entities per class; rows without an entity column)."""
    entities = _codes(table.column(entity)) if entity else np.arange(table.num_rows, dtype=np.int64)
    sizes = distinct_per_class(_class_ids(table, qis), entities)
    return int(sizes.min()) if len(sizes) else 0
