"""How a slow service names the stage it enters, for whatever face shows progress."""

from __future__ import annotations

from typing import Protocol


class Stages(Protocol):
    """Called as a service enters a stage: its name in Chinese and in English, and the number of rows the
    stage works on when the store already knows it (a raw version's row count; never counted for this)."""

    def __call__(self, zh: str, en: str, rows: int | None = None) -> None: ...


def no_progress(_zh: str, _en: str, rows: int | None = None) -> None:
    """The default: nobody is watching."""


def with_rows(zh: str, en: str, rows: int | None) -> tuple[str, str]:
    """A stage's name as a face prints it, with its rows when known."""
    if rows is None:
        return zh, en
    return f"{zh}（{rows:,} 行）", f"{en} ({rows:,} rows)"
