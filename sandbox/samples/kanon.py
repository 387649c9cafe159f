"""k-anonymity by generalization and local suppression, and the l-diversity that results.

Counting is per privacy unit: a class holds k *entities* (people, enterprises), not k rows,
so a person with five insurance rows is not a class of five. The search walks the lattice of
generalization levels best first, by the information the quasi-identifiers keep together (the
entropy of the partition into classes, in bits, so a community cut to its district adds nothing
beyond the district code), and stops at the first node where every class has k entities or
the entities of the small classes are few enough to suppress locally (their quasi-identifier
cells, within budget, and at least k of them so the suppressed class is k-anonymous too). A
column is thus suppressed whole only when that keeps more information than coarsening the
others: two genders weigh less than a birth date in 5-year bands. Everything is vectorized
(Arrow keys, numpy counting); the sample is small enough to stay in memory.
"""

from __future__ import annotations

import heapq
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


def _codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values; null is a value of its own."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values, null_encoding="encode").indices.to_numpy().astype(np.int64)


def _combine(columns: list[np.ndarray], n: int) -> np.ndarray:
    """One class id per row from several code columns: a mixed-radix number, factorized when sparse.

    Ids index count arrays, so some may go unused (count 0) but they stay below 4n.
    """
    ids = np.zeros(n, dtype=np.int64)
    span = 1
    for codes in columns:
        radix = int(codes.max(initial=0)) + 1
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
    for column, hierarchy in hierarchies.items():
        index = table.schema.get_field_index(column)
        values = table.column(column).combine_chunks()
        table = table.set_column(index, column, hierarchy.apply(values, levels[column]))
    return table


class _Search:
    """Classes for any combination of levels, with each generalized column coded once."""

    def __init__(
        self, table: pa.Table, hierarchies: dict[str, Hierarchy], entities: np.ndarray, k: int
    ) -> None:
        self.table, self.hierarchies, self.entities, self.k = table, hierarchies, entities, k
        self.one_row_each = len(pd.unique(entities)) == len(entities)  # then class sizes are row counts
        self._codes: dict[tuple[str, int], np.ndarray] = {}

    def codes(self, column: str, level: int) -> np.ndarray:
        if (column, level) not in self._codes:
            values = self.table.column(column).combine_chunks()
            self._codes[(column, level)] = _codes(self.hierarchies[column].apply(values, level))
        return self._codes[(column, level)]

    def measure(self, levels: dict[str, int]) -> tuple[float, np.ndarray, int]:
        """Information kept (entropy of the partition into classes, in bits), rows in classes with
        fewer than k entities, and how many entities those rows hold."""
        ids = _combine([self.codes(q, lv) for q, lv in levels.items()], self.table.num_rows)
        counts = np.bincount(ids)
        shares = counts[counts > 0] / self.table.num_rows
        if self.one_row_each:
            rows = counts[ids] < self.k
            entities = int(rows.sum())
        else:
            rows = distinct_per_class(ids, self.entities)[ids] < self.k
            entities = len(pd.unique(self.entities[rows]))
        return round(float(-(shares * np.log2(shares)).sum()), 9), rows, entities

    def best(self, floor: dict[str, int], budget: int) -> dict[str, int]:
        """The most informative levels that are k-anonymous after suppressing at most ``budget`` entities.

        Best first over the lattice: a node's successors raise one column one level, which never
        adds information, so the parent's bits bound a child's until the child is measured, and
        measured nodes leave the heap in order of information kept (ties: fewer steps). The top
        node (everything suppressed) is one class of every entity, so the walk ends.
        """
        qis = list(floor)
        tops = [self.hierarchies[q].top for q in qis]
        start = tuple(floor[q] for q in qis)
        heap, seen = [(-np.inf, sum(start), start)], {start}
        small: dict[tuple[int, ...], int] = {}  # measured nodes: entities in small classes
        while True:
            key, steps, node = heapq.heappop(heap)
            levels = dict(zip(qis, node, strict=True))
            if node not in small:
                bits, _, small[node] = self.measure(levels)
                heapq.heappush(heap, (-bits, steps, node))
                continue
            if small[node] == 0 or self.k <= small[node] <= budget:
                return levels
            for i, top in enumerate(tops):
                step = node[:i] + (node[i] + 1,) + node[i + 1 :]
                if node[i] < top and step not in seen:
                    seen.add(step)
                    heapq.heappush(heap, (key, steps + 1, step))


def k_anonymize(
    table: pa.Table,
    hierarchies: dict[str, Hierarchy],
    *,
    k: int,
    entity: str | None,
    max_suppression: float,
    start: dict[str, int] | None = None,
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
    # Rows repeating an entity's quasi-identifiers (duplicate records) change no class: search without them.
    floor_codes = [_codes(hierarchies[q].apply(table.column(q).combine_chunks(), floor[q])) for q in qis]
    distinct = ~pd.Series(_combine([entities, *floor_codes], table.num_rows)).duplicated().to_numpy()
    search = _Search(table.filter(pa.array(distinct)), hierarchies, entities[distinct], k)
    levels = search.best(floor, int(max_suppression * total))
    suppress = _Search(table, hierarchies, entities, k).measure(levels)[1]
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
