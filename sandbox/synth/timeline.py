"""Dates relative to the fixed reference date, never to today, so output never drifts.

``updated_at`` is the provider's last-verified time of a record. A fresh record was verified
within its dataset's update window (``STALENESS_DAYS`` of the update cycle) before ``AS_OF``;
a stale one at least twice that window earlier. Any staleness threshold between one and two
windows therefore separates them exactly.
"""

from __future__ import annotations

import numpy as np

from sandbox.domain.catalog import STALENESS_DAYS, UpdateCycle

AS_OF = np.datetime64("2026-06-30", "D")
DAY = np.timedelta64(1, "D")
_SECONDS_PER_DAY = 86_400


def years_old(birth: np.ndarray, on: np.datetime64 = AS_OF) -> np.ndarray:
    """Completed years of age on ``on``."""
    b = birth.astype("datetime64[D]")
    years = on.astype("datetime64[Y]").astype(np.int64) - b.astype("datetime64[Y]").astype(np.int64)
    had_birthday = _month_day(b) <= _month_day(np.array([on]))[0]
    return years - (~had_birthday).astype(np.int64)


def _month_day(d: np.ndarray) -> np.ndarray:
    months = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return months * 100 + (d - d.astype("datetime64[M]")).astype(np.int64) + 1


def add_years(dates: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Dates shifted by whole years (Feb 29 lands on Mar 1), for age thresholds."""
    d = dates.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day = d - month
    shifted = (month + np.asarray(years, dtype=np.int64) * 12).astype("datetime64[D]")
    return shifted + day


def between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One uniform date in [low, high] per row; rows with high < low get low."""
    low = np.asarray(low, dtype="datetime64[D]")
    span = np.maximum((np.asarray(high, dtype="datetime64[D]") - low).astype(np.int64), 0)
    return low + (rng.random(len(span)) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def window(cycle: UpdateCycle) -> int:
    return STALENESS_DAYS[cycle]


def fresh_timestamps(rng: np.random.Generator, n: int, cycle: UpdateCycle) -> np.ndarray:
    """Timestamps in [AS_OF − (window − 1) days, AS_OF): verified within the update cycle."""
    span = (window(cycle) - 1) * _SECONDS_PER_DAY
    start = AS_OF.astype("datetime64[s]") - np.timedelta64(span, "s")
    return start + rng.integers(0, span, n).astype("timedelta64[s]")


def stale_timestamps(rng: np.random.Generator, n: int, cycle: UpdateCycle) -> np.ndarray:
    """Timestamps at least two windows and a day before AS_OF: far older than the cycle allows."""
    w = window(cycle)
    days = 2 * w + 1 + rng.integers(0, max(30, 3 * w), n)
    secs = rng.integers(0, _SECONDS_PER_DAY, n)
    return AS_OF.astype("datetime64[s]") - (days * _SECONDS_PER_DAY + secs).astype("timedelta64[s]")
