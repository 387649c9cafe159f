"""Queued long actions; the metadata store is the queue (sandbox/tasks)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base

#: Queued or running: the states in which a task holds its ``exclusive_key``.
ACTIVE = text("state IN ('queued', 'running')")


class TaskRow(Base):
    __tablename__ = "tasks"
    # One active task per exclusive key, enforced by the database itself, so two servers queueing the
    # same promotion at the same instant cannot both succeed.
    __table_args__ = (
        Index(
            "ix_tasks_one_active", "exclusive_key", unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    args_json: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stage_zh: Mapped[str | None] = mapped_column(Text)
    stage_en: Mapped[str | None] = mapped_column(Text)
    stage_rows: Mapped[int | None] = mapped_column(BigInteger)  # rows the stage works on, when known
    stages_done: Mapped[int] = mapped_column(Integer, default=0)
    result_json: Mapped[str | None] = mapped_column(Text)  # what the action produced (ids, states)
    error_json: Mapped[str | None] = mapped_column(Text)  # code, zh, en: the platform's own error
    worker: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    exclusive_key: Mapped[str | None] = mapped_column(String(128))  # what only one active task may act on
