"""The audit chain's tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class AuditEventRow(Base):
    """One link of the hash chain. ``seq`` is assigned by the appender, never by the database."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(200), index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The signed head of the chain: the last event's seq and hash, HMAC'd with the platform key."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    # After a retention purge the chain starts after (base_seq, base_hash); both are signed too.
    base_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    base_hash: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)
