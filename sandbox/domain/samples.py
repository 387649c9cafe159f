"""Sample versions of a scenario: only the current one stays on disk."""

from __future__ import annotations

from enum import StrEnum


class SampleState(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"  # a newer build replaced it; its files are gone
    DELETED = "deleted"  # its scenario or authorization ended; its files are gone
