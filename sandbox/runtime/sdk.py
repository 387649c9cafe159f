"""The job SDK: the only part of Shuyu a job may import.

``build(ctx)`` receives a ``JobContext``. ``ctx.input(alias)`` is the only way to data and yields
only the columns the manifest declares; ``ctx.as_of`` is the run's reference date (for ages and
durations), the same in dev and production so a job never reads the clock.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


class InputNotDeclared(KeyError):
    """``ctx.input`` was asked for an alias the manifest does not declare."""


class JobContext:
    __slots__ = ("_frames", "_as_of")

    def __init__(self, frames: dict[str, DataFrame], as_of: date) -> None:
        self._frames = dict(frames)
        self._as_of = as_of

    def input(self, alias: str) -> DataFrame:
        try:
            return self._frames[alias]
        except KeyError:
            raise InputNotDeclared(alias) from None

    @property
    def as_of(self) -> date:
        return self._as_of

    def __repr__(self) -> str:
        return f"JobContext(inputs={sorted(self._frames)}, as_of={self._as_of.isoformat()})"
