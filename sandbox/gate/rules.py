"""Primary disclosure rules on one cell: entity threshold, nk dominance, p-ratio, zero cells, group
attributes (a mean at a bound: everyone in the cell shares the value), and medians that are one
person's value.

A median is released exact, or not at all: when it is exactly the contribution of fewer than
threshold entities (always so for an odd-sized cell of distinct values) the cell is suppressed. A
rounded median would still be someone's value whenever values are round, and a noisy one would
need a privacy budget; a common value (a standard registered capital held by many) discloses no one.

Comparisons are exact (``Fraction``) on totals summed exactly (decimals, ``aggregate.exact_type``): a
cell exactly at a boundary gets the same decision on every machine and in every summation order,
and an exact tie is suppressed. An empty cell is reported under the threshold rule — saying "empty" would disclose the very
value that suppression hides.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from sandbox.domain.gate import Reason, Rule
from sandbox.domain.job import OutputSpec
from sandbox.gate.aggregate import CellStats
from sandbox.gate.policy import OutputRules

FLOAT_DIGITS = 6


def threshold_reason(threshold: int, measure: str | None = None) -> Reason:
    if measure is None:
        return Reason(Rule.THRESHOLD, f"主体数少于 {threshold}", f"fewer than {threshold} entities")
    return Reason(Rule.THRESHOLD, f"度量 {measure} 的贡献主体少于 {threshold}",
                  f"fewer than {threshold} entities contribute to measure {measure}")  # fmt: skip


def _dominance(
    measure: str, top: tuple[Decimal, ...], total_abs: Decimal, rules: OutputRules
) -> list[Reason]:
    total = Fraction(total_abs)
    if total == 0:
        return []
    reasons = []
    n, k, p = rules.dominance.n, Fraction(str(rules.dominance.k)), Fraction(str(rules.p_ratio))
    if sum(Fraction(t) for t in top[:n]) >= k * total:
        reasons.append(Reason(Rule.DOMINANCE, f"度量 {measure}：前 {n} 名主体的贡献达到合计的 {float(k) * 100:g}%",
                              f"measure {measure}: the top {n} entities contribute {float(k) * 100:g}% or more of the total"))  # fmt: skip
    largest = Fraction(top[0]) if top else Fraction(0)
    second = Fraction(top[1]) if len(top) > 1 else Fraction(0)
    if largest > 0 and total - largest - second < p * largest:
        reasons.append(Reason(Rule.P_RATIO, f"度量 {measure}：其余主体的贡献不足最大贡献的 {float(p) * 100:g}%（p 比例规则）",
                              f"measure {measure}: the other entities contribute less than {float(p) * 100:g}% of the "
                              "largest contribution (p-ratio rule)"))  # fmt: skip
    return reasons


def primary_reasons(stats: CellStats | None, output: OutputSpec, rules: OutputRules) -> list[Reason]:
    """Every primary rule the cell fails; an empty list means it may be released."""
    if stats is None or stats.entities == 0:
        return [threshold_reason(rules.threshold)] if rules.zeros_are_disclosive else []
    if stats.entities < rules.threshold:
        return [threshold_reason(rules.threshold)]
    reasons = []
    for measure in output.measures:
        if measure.column is None:
            continue
        values = stats.measures[measure.name]
        if values.contributors < rules.threshold:
            reasons.append(threshold_reason(rules.threshold, measure.name))
            continue
        if measure.agg.value in rules.dominance.applies_to:
            reasons += _dominance(measure.name, values.top, values.total_abs or Decimal(0), rules)
        if values.holders and values.holders < rules.threshold:
            reasons.append(Reason(Rule.MEDIAN, f"度量 {measure.name}：中位数恰为少于 {rules.threshold} 个主体的贡献值",
                                  f"measure {measure.name}: the median is exactly the value of fewer than "
                                  f"{rules.threshold} entities"))  # fmt: skip
        if rules.group_attribute and measure.agg.value == "mean" and values.value in measure.bounds:
            reasons.append(Reason(Rule.GROUP_ATTRIBUTE, f"度量 {measure.name}：均值等于其上限或下限，即单元内全体主体取值相同",
                                  f"measure {measure.name}: the mean equals a bound, so every entity in the cell "
                                  "has that same value"))  # fmt: skip
    return reasons


def released_values(stats: CellStats | None, output: OutputSpec) -> dict[str, float | int | None]:
    """The values a released cell shows; an empty (public) cell shows zero counts and sums."""
    values: dict[str, float | int | None] = {}
    for measure in output.measures:
        if stats is None or stats.entities == 0:
            values[measure.name] = 0 if measure.agg.value in ("count", "sum") else None
        else:
            value = stats.measures[measure.name].value
            if measure.agg.value == "count":
                values[measure.name] = int(value)
            else:  # Spark's summation order must not show in the last bits of a released number
                values[measure.name] = None if value is None else round(value, FLOAT_DIGITS)
    return values
