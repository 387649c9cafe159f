"""Presentation helpers shared by the faces: times are stored in UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _moment(utc_iso: str) -> datetime:
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(SHANGHAI)


def shanghai_time(utc_iso: str) -> str:
    """For people: ``2026-12-05 04:45:50``, Beijing time."""
    return _moment(utc_iso).strftime("%Y-%m-%d %H:%M:%S")


def shanghai_iso(utc_iso: str) -> str:
    """For scripts: ISO 8601 with the +08:00 offset, to the second."""
    return _moment(utc_iso).isoformat(timespec="seconds")


def shanghai_date(utc_iso: str) -> date:
    """The day in Asia/Shanghai of a stored UTC timestamp: due dates and as-of dates are Shanghai days."""
    return _moment(utc_iso).date()
