"""Queued long actions; the metadata store is the queue (sandbox/tasks)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class TaskRow(Base):
    __tablename__ = "tasks"

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
