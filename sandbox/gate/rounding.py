"""Rounding of released counts and sums to a base, after suppression (OpenSAFELY, ACRO).

Half rounds up, so the result does not depend on the banker's rounding of the platform. Means,
medians and standard deviations are not rounded: they are ratios or order statistics, not counts.
"""

from __future__ import annotations

import math

ROUNDED_AGGREGATES = ("count", "sum")


def round_to_base(value: float, base: int) -> int:
    return int(math.floor(value / base + 0.5)) * base
