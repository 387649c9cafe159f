"""How a slow service names the stage it enters, for whatever face shows progress."""

from __future__ import annotations

from collections.abc import Callable

#: Called with the stage's name in Chinese and in English as the service enters it.
Stages = Callable[[str, str], None]


def no_progress(_zh: str, _en: str) -> None:
    """The default: nobody is watching."""
