"""Mainland China working days (statutory holidays and make-up workdays) via chinese-calendar.

The library publishes each year's State Council schedule; for a year it does not know yet we
fall back to Monday–Friday and say so, rather than guess holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

CONSENT_WORKING_DAYS = 5


@dataclass(frozen=True)
class DueDate:
    due_on: date
    exact: bool  # False when some day fell outside the published holiday schedule


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, answered from the official schedule)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: date, days: int) -> DueDate:
    """The date ``days`` working days after ``start`` (the start day itself does not count)."""
    current, counted, exact = start, 0, True
    while counted < days:
        current += timedelta(days=1)
        workday, known = is_workday(current)
        exact = exact and known
        counted += workday
    return DueDate(current, exact)
