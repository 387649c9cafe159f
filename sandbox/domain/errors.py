"""One exception hierarchy with stable codes and bilingual messages.

Every error a user can see carries a stable ``code`` plus a Simplified Chinese and an English
message. Errors that may leave production must never carry data values; the classes here only
format what their callers hand them, so callers on the production side pass names, not values.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


def enum_member(kind: type[E], value: Any, refuse: Callable[[str], Exception]) -> E:
    """``value`` as a member of ``kind``; otherwise the error ``refuse`` makes of the allowed values."""
    try:
        return kind(value)
    except ValueError:
        raise refuse(", ".join(str(m.value) for m in kind)) from None


class ShuyuError(Exception):
    """Base of every user-facing error: ``code``, ``zh`` and ``en``."""

    code = "E000"

    def __init__(self, zh: str, en: str, *, code: str | None = None) -> None:
        self.zh = zh
        self.en = en
        if code:
            self.code = code
        super().__init__(f"[{self.code}] {zh} / {en}")

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


class ConfigError(ShuyuError):
    code = "E100"


class InvalidInput(ShuyuError):
    """A command-line or API argument is malformed."""

    code = "E110"


class Busy(ShuyuError):
    """Another command held a database lock this one needed for longer than the store waits
    (``sandbox.store.db.LOCK_WAIT_S``); the command changed nothing and may simply be run again."""

    code = "E130"

    def __init__(self) -> None:
        super().__init__(
            "系统繁忙：另一项操作占用了所需的数据库锁，本次操作未做任何更改，请稍后重试",
            "busy: another operation held a database lock this one needs; nothing was changed, please try again",
        )


class CatalogError(ShuyuError):
    """A catalog entry is malformed, unknown or duplicated."""

    code = "E200"


class NotFoundError(ShuyuError):
    code = "E201"


class IngestRejected(ShuyuError):
    """An upload was refused; the file is kept in quarantine with this reason.

    ``reason`` is a stable machine-readable slug (``undecodable``, ``schema_mismatch``,
    ``corrupt_file``, ``empty``, ``duplicate_keys``, ``type_mismatch``, ``control_character``,
    ``oversized_field``, ``busy``, ``internal_error``, ...); ``file``, ``line`` and ``column``
    locate the problem where known.
    """

    code = "E300"

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        reason: str,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.quarantine_path: str | None = None
        super().__init__(zh, en)

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "quarantine_path": self.quarantine_path,
        }


class IngestInterrupted(IngestRejected):
    """An upload that was received could not be published for a reason that is not the file's
    (a crash, a full disk, the database); it is kept in quarantine like a refused one."""

    code = "E310"


class IngestBusy(IngestInterrupted):
    """An upload could not be published because the store was busy (:class:`Busy`); it is kept in
    quarantine and may be delivered again as it is."""

    code = "E311"


class AuditError(ShuyuError):
    code = "E400"


class AuditChainBroken(AuditError):
    code = "E401"


class IllegalTransition(ShuyuError):
    code = "E500"


class PermissionDenied(ShuyuError):
    code = "E600"


class HomeError(ShuyuError):
    """The sandbox home is missing, uninitialised, or not safe to overwrite."""

    code = "E700"
