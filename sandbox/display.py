"""Presentation helpers shared by the faces: times are stored in UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_time(utc_iso: str) -> str:
    moment = datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def shanghai_date(utc_iso: str) -> date:
    """The day in Asia/Shanghai of a stored UTC timestamp: due dates and as-of dates are Shanghai days."""
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(SHANGHAI).date()
