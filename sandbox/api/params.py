"""Bounds every numeric parameter shares: nothing a client sends may overflow the store's integers
(SQLite and PostgreSQL hold signed 64-bit), which would otherwise surface as a server error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_INT = 2**63 - 1

#: A stored row's integer id in a path (terms, applications, …).
RowId = Annotated[int, Path(ge=1, le=MAX_INT)]
#: A product or dataset version number; the latest when omitted.
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_INT, description="版本，默认最新 / version, default the latest")
]
