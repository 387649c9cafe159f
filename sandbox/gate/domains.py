"""Declared finite dimension domains: what cells an output can have, known before any data is read.

The cells of an output are the cross product of its dimensions' domains, so their number, the zero
cells and the size limit follow from the declaration alone — the data cannot add a cell.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import Counter

from sandbox.domain.gate import TOTAL_LABEL, Refusal
from sandbox.domain.job import OutputSpec
from sandbox.gate.errors import OutputRefused

Key = tuple[str | None, ...]  # one value per dimension; None marks a margin (total) over that dimension


def resolve_domains(
    output: OutputSpec, code_tables: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each dimension's values, from the manifest or a catalog code table; undeclared ones refuse the output."""
    resolved = {}
    for dim in output.dimensions:
        domain = output.domains.get(dim)
        if domain is None:
            values: tuple[str, ...] = ()
        elif domain.code_table is not None:
            if domain.code_table not in code_tables:
                raise OutputRefused(
                    Refusal.UNDECLARED_DOMAIN,
                    f"输出 {output.name} 的维度 {dim} 引用了不存在的代码表 {domain.code_table}",
                    f"dimension {dim} of output {output.name} refers to unknown code table {domain.code_table}",
                )
            values = code_tables[domain.code_table]
        else:
            values = domain.values
        values = tuple(dict.fromkeys(values))
        if not values:
            raise OutputRefused(
                Refusal.UNDECLARED_DOMAIN,
                f"输出 {output.name} 的维度 {dim} 没有声明有限取值域",
                f"dimension {dim} of output {output.name} has no declared finite domain",
            )
        if TOTAL_LABEL in values:
            raise OutputRefused(
                Refusal.UNDECLARED_DOMAIN,
                f"输出 {output.name} 的维度 {dim} 的取值域含保留值“{TOTAL_LABEL}”",
                f"the domain of dimension {dim} of output {output.name} holds the reserved label {TOTAL_LABEL!r}",
            )
        resolved[dim] = values
    return resolved


def cell_count(domains: dict[str, tuple[str, ...]]) -> int:
    return math.prod(len(v) for v in domains.values())


def check_size(output: OutputSpec, domains: dict[str, tuple[str, ...]], max_cells: int) -> None:
    """An output with more cells than ``max_cells`` is too fine to be aggregate."""
    cells = cell_count(domains)
    if cells > max_cells:
        raise OutputRefused(
            Refusal.TOO_LARGE,
            f"输出 {output.name} 有 {cells} 个单元格，超过上限 {max_cells}，不能视为汇总数据",
            f"output {output.name} has {cells} cells, more than the limit of {max_cells}: too large to be aggregate",
        )


def all_keys(domains: dict[str, tuple[str, ...]], *, totals: bool) -> list[Key]:
    """Every cell of the table, and with ``totals`` every margin over every subset of dimensions."""
    axes = [(*values, None) if totals else values for values in domains.values()]
    return list(itertools.product(*axes))


def meanings(dimensions: tuple[str, ...], domains: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """What each dimension means, whatever its column is called: a digest of its domain's values (a code
    table and a declared list of the same values mean the same), numbered when one output has several
    dimensions of one meaning. Tables are linked on these, so renaming a column links nothing away; two
    unrelated yes/no flags are linked too, which can only add suppression."""
    seen: Counter[str] = Counter()
    result = []
    for dim in dimensions:
        values = json.dumps(sorted(domains[dim]), ensure_ascii=False)
        digest = hashlib.sha256(values.encode("utf-8")).hexdigest()[:16]
        result.append(f"{digest}#{seen[digest]}")
        seen[digest] += 1
    return tuple(result)
