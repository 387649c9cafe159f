"""Store rows as JSON: every column, ``*_json`` columns parsed, secrets never.

Endpoints whose CLI twin shapes a richer view use the shared view of ``sandbox.views``; the rest
answer with the row itself through ``row_view``.
"""

from __future__ import annotations

import json
from typing import Any

#: Columns that never leave the service, whatever the endpoint.
SECRET_COLUMNS = frozenset({"token_hash", "password_hash", "key_hash"})


def row_view(row: Any, *, drop: tuple[str, ...] = ()) -> dict:
    out = {}
    for column in row.__table__.columns:
        name = column.key
        if name in SECRET_COLUMNS or name in drop:
            continue
        value = getattr(row, name)
        if name.endswith("_json"):
            name, value = name.removesuffix("_json"), json.loads(value) if value else None
        out[name] = value
    return out


def rows_view(rows, **kwargs) -> list[dict]:
    return [row_view(r, **kwargs) for r in rows]


def run_record(run) -> dict:
    """A production run in full for the staff and auditors who read every run: the record without its
    logs' place (logs are operators' only, ``runs.operator_logs``), with the gate summary, and
    ``developer_view``: what its developer sees, which ``sandbox job runs`` prints."""
    from sandbox.runtime.production import developer_view

    return {**row_view(run, drop=("logs_path",)), "developer_view": developer_view(run)}
