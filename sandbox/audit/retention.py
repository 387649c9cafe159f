"""Audit retention: events younger than three years can never be purged.

A purge removes a prefix of the chain and moves the signed base forward to the last purged
event, so the remaining chain still verifies end to end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sandbox.audit.canonical import head_signature
from sandbox.domain.authorization import AUDIT_RETENTION_YEARS
from sandbox.domain.errors import AuditError
from sandbox.store.models import AuditEventRow, AuditHeadRow


def retention_cutoff(today: date) -> date:
    try:
        return today.replace(year=today.year - AUDIT_RETENTION_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - AUDIT_RETENTION_YEARS, day=28)


def check_purge_allowed(before: date, today: date | None = None) -> None:
    today = today or datetime.now(UTC).date()
    cutoff = retention_cutoff(today)
    if before > cutoff:
        raise AuditError(
            f"审计日志至少保留 {AUDIT_RETENTION_YEARS} 年：只能清除 {cutoff.isoformat()} 之前的事件，拒绝清除 {before.isoformat()} 之前的事件",
            f"audit logs are kept at least {AUDIT_RETENTION_YEARS} years: only events before {cutoff.isoformat()} "
            f"may be purged; refusing to purge before {before.isoformat()}",
        )


def can_purge(before: date, today: date | None = None) -> bool:
    try:
        check_purge_allowed(before, today)
    except AuditError:
        return False
    return True


def purge_before(session: Session, key: bytes, before: date, today: date | None = None) -> int:
    """Delete the prefix of events older than ``before``; returns how many were removed."""
    check_purge_allowed(before, today)
    cutoff_ts = f"{before.isoformat()}T00:00:00"
    last = session.scalar(select(func.max(AuditEventRow.seq)).where(AuditEventRow.ts < cutoff_ts))
    head = session.get(AuditHeadRow, 1)
    if last is None or head is None:
        return 0
    last = min(last, head.seq - 1)  # the newest event always stays, so the chain is never empty
    if last <= head.base_seq:
        return 0
    base_hash = session.scalar(select(AuditEventRow.hash).where(AuditEventRow.seq == last))
    removed = session.execute(delete(AuditEventRow).where(AuditEventRow.seq <= last)).rowcount
    head.base_seq, head.base_hash = last, base_hash
    head.signature = head_signature(key, head.seq, head.hash, head.base_seq, head.base_hash)
    return removed
