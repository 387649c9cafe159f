"""Differential privacy for one output through OpenDP's calibrated noise mechanisms.

Spark computes, per cell of the declared domain, the entity count and each measure's sum after
contribution bounding (each entity's value clipped to the measure's bounds, at most
``max_cells_per_entity`` cells per entity). One entity then moves the count vector by at most L0 in
L1 norm (√L0 in L2) and a sum vector by L0·max(|low|, |high|) (√L0·… in L2). OpenDP adds discrete or
continuous Laplace noise (δ = 0) or Gaussian noise (δ > 0, zCDP converted to (ε, δ)), calibrated by
OpenDP's own parameter search; ε and δ are split evenly over the count and the sums. Means are noisy
sum / noisy count; margins are sums of noisy cells. Everything after the noise is post-processing.
Under DP a missing measure input counts as zero. Medians and standard deviations are not offered.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import opendp.prelude as dp

from sandbox.domain.gate import DPRule, Refusal
from sandbox.domain.job import Aggregate, DPSpec, OutputSpec
from sandbox.gate.domains import Key
from sandbox.gate.errors import OutputRefused

dp.enable_features("contrib")

DP_AGGREGATES = (Aggregate.COUNT, Aggregate.SUM, Aggregate.MEAN)


@dataclass(frozen=True)
class NoiseRelease:
    """Noisy values per cell (margins included) and how the noise was calibrated (for the report)."""

    cells: dict[Key, tuple[int, dict[str, float | int | None]]]
    mechanism: str
    scales: dict[str, float]


def required_by(rule: DPRule, grades: dict[str, str]) -> list[str]:
    """The input datasets (id -> data grade) whose outputs the policy makes differentially private."""
    return sorted(
        d for d, grade in grades.items() if d in rule.mandatory_datasets or grade in rule.mandatory_grades
    )


def check_required(output: OutputSpec, required_by: list[str]) -> None:
    """An exact output over data the policy makes DP-only is refused: with its noisy twin, or alone, it
    would give away what the noise protects."""
    if required_by and output.dp is None:
        raise OutputRefused(
            Refusal.DP_REQUIRED,
            f"输出 {output.name} 读取的数据集 {', '.join(required_by)} 按策略只能以差分隐私发布，请为该输出设置 dp",
            f"output {output.name} reads dataset(s) {', '.join(required_by)}, which the policy releases only "
            "with differential privacy: give the output a dp setting",
        )


def check_supported(output: OutputSpec) -> None:
    unsupported = [m.name for m in output.measures if m.agg not in DP_AGGREGATES]
    if unsupported:
        raise OutputRefused(
            Refusal.DP_UNSUPPORTED,
            f"输出 {output.name} 启用差分隐私时只支持 count、sum、mean（{', '.join(unsupported)} 不支持）",
            f"output {output.name} uses differential privacy, which supports only count, sum and mean "
            f"(not {', '.join(unsupported)})",
        )


def _measurement(spec: DPSpec, per_query: tuple[float, float], integer: bool):
    epsilon, delta = per_query
    if delta > 0:
        space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float)

        def make(scale):
            gaussian = dp.m.make_gaussian(*space, scale=scale)
            return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), delta)

        return make, (epsilon, delta), "gaussian"
    if integer:
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
        return (lambda scale: dp.m.make_laplace(*space, scale=scale)), epsilon, "discrete laplace"
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    return (lambda scale: dp.m.make_laplace(*space, scale=scale)), epsilon, "laplace"


def _noisy(
    values: list, sensitivity_l1: float, sensitivity_l2: float, spec: DPSpec, per_query, integer: bool
):
    make, d_out, name = _measurement(spec, per_query, integer)
    d_in = sensitivity_l2 if spec.delta > 0 else (int(sensitivity_l1) if integer else float(sensitivity_l1))
    scale = dp.binary_search_param(make, d_in=d_in, d_out=d_out)
    data = [float(v) for v in values] if spec.delta > 0 or not integer else [int(v) for v in values]
    return make(scale)(data), scale, name


def release(
    true_cells: dict[Key, tuple[int, dict[str, float]]],
    keys: list[Key],
    output: OutputSpec,
    spec: DPSpec,
    *,
    max_cells_per_entity: int,
) -> NoiseRelease:
    """Noise every cell of ``keys`` (the full declared domain, so the data cannot choose which cells exist)."""
    summed = [m for m in output.measures if m.column]
    queries = 1 + len(summed)
    per_query = (spec.epsilon / queries, spec.delta / queries)
    interior = [k for k in keys if None not in k]
    l0 = max_cells_per_entity
    counts, count_scale, mechanism = _noisy(
        [true_cells.get(k, (0, {}))[0] for k in interior], l0, math.sqrt(l0), spec, per_query, integer=True
    )
    noisy_counts = {k: max(0, round(c)) for k, c in zip(interior, counts, strict=True)}
    scales = {"count": count_scale}
    noisy_sums: dict[str, dict[Key, float]] = {}
    for m in summed:
        bound = max(abs(m.bounds[0]), abs(m.bounds[1]))
        values, scales[m.name], _ = _noisy([true_cells.get(k, (0, {}))[1].get(m.name, 0.0) for k in interior],
                                           l0 * bound, math.sqrt(l0) * bound, spec, per_query, integer=False)  # fmt: skip
        noisy_sums[m.name] = dict(zip(interior, values, strict=True))
    wanted = set(keys)
    counts_by_key: dict[Key, int] = dict.fromkeys(keys, 0)
    sums_by_key = {m.name: dict.fromkeys(keys, 0.0) for m in summed}
    for cell in interior:  # each interior cell adds to itself and to every margin over it
        for mask in itertools.product((False, True), repeat=len(cell)):
            key = tuple(None if masked else v for v, masked in zip(cell, mask, strict=True))
            if key in wanted:
                counts_by_key[key] += noisy_counts[cell]
                for m in summed:
                    sums_by_key[m.name][key] += noisy_sums[m.name][cell]
    cells = {}
    for key in keys:
        count = counts_by_key[key]
        values: dict[str, float | int | None] = {}
        for m in output.measures:
            if m.column is None:
                values[m.name] = count
                continue
            low, high = m.bounds
            total = min(max(sums_by_key[m.name][key], min(low, 0) * count), max(high, 0) * count)
            values[m.name] = total if m.agg is Aggregate.SUM else (
                min(max(total / count, low), high) if count else None
            )  # fmt: skip
        cells[key] = (count, values)
    return NoiseRelease(cells, f"OpenDP {mechanism}", scales)
