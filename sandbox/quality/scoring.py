"""Scores out of 100: per rule the share of the version's records that pass, per GB/T 36344
dimension and overall a severity-weighted mean, so one failing high-severity rule weighs three
low-severity ones.

A record is a key (``RuleOutcome``): the denominator is the same for every rule and no fix —
correcting values, removing a duplicated key's extra rows — changes it, so fixing data never
lowers a rule's score, a dimension's or the dataset's.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.domain.quality import KEYED_CHECKS, Dimension, RuleOutcome


def rule_score(outcome: RuleOutcome) -> float:
    if outcome.rule.check not in KEYED_CHECKS or outcome.records <= 0:
        return 100.0 if outcome.success else 0.0
    return round(100.0 * (1 - min(outcome.counted_failures, outcome.records) / outcome.records), 2)


def _weighted(outcomes: list[RuleOutcome]) -> float:
    weight = sum(o.rule.severity.weight for o in outcomes)
    return round(sum(rule_score(o) * o.rule.severity.weight for o in outcomes) / weight, 2)


def dimension_scores(outcomes: Iterable[RuleOutcome]) -> dict[str, float]:
    """Score per dimension that has rules, in the standard's order."""
    outcomes = list(outcomes)
    scores = {}
    for dimension in Dimension:
        members = [o for o in outcomes if o.rule.dimension == dimension]
        if members:
            scores[dimension.value] = _weighted(members)
    return scores


def overall_score(outcomes: Iterable[RuleOutcome]) -> float:
    outcomes = list(outcomes)
    return _weighted(outcomes) if outcomes else 100.0
