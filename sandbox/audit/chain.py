"""Appending to and verifying the chain.

Each event stores the previous event's hash and its own SHA-256 over the canonical encoding;
the head (last seq and hash) is HMAC-signed with the platform key, so truncating the tail or
rewriting the whole chain without the key is detected too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.canonical import GENESIS, canonical_json, event_hash, head_signature
from sandbox.store.models import AuditEventRow, AuditHeadRow

_HEAD_ID = 1


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    ts: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    hash: str


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    session: Session,
    key: bytes,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so the change and its audit commit together."""
    head = session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    seq = (head.seq if head else 0) + 1
    prev_hash = head.hash if head else GENESIS
    ts = utc_now_iso()
    details_json = canonical_json(details or {})
    digest = event_hash(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details_json,
        prev_hash=prev_hash,
    )
    session.add(
        AuditEventRow(
            seq=seq,
            ts=ts,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            details=details_json,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    if head is None:
        signature = head_signature(key, seq, digest)
        session.add(
            AuditHeadRow(
                id=_HEAD_ID, seq=seq, hash=digest, signature=signature, base_seq=0, base_hash=GENESIS
            )
        )
    else:
        head.seq, head.hash = seq, digest
        head.signature = head_signature(key, seq, digest, head.base_seq, head.base_hash)
    session.flush()
    return AuditEvent(seq, ts, actor, action, object_type, str(object_id), details or {}, digest)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem_zh: str | None = None
    problem_en: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"审计链完整：{self.events} 条事件 / audit chain intact: {self.events} events"
        return f"{self.problem_zh} / {self.problem_en}"


def verify(session: Session, key: bytes, *, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain in seq order and name the first event that does not hold."""
    head = session.get(AuditHeadRow, _HEAD_ID)
    base_seq, base_hash = (head.base_seq, head.base_hash) if head else (0, GENESIS)
    if head is not None and head.signature != head_signature(key, head.seq, head.hash, base_seq, base_hash):
        return _bad(
            head.seq,
            0,
            f"链头签名无效（事件 {head.seq}）",
            f"chain head signature invalid (event {head.seq})",
        )
    expected_seq, prev_hash, count = base_seq + 1, base_hash, 0
    last_seq = base_seq
    stream = session.execute(
        select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=batch)
    )
    for row in stream.scalars():
        count += 1
        if row.seq != expected_seq:
            missing = row.seq > expected_seq
            return _bad(
                expected_seq if missing else row.seq,
                count,
                f"事件 {expected_seq} 缺失（之后为事件 {row.seq}）"
                if missing
                else f"事件 {row.seq} 序号重复或乱序",
                f"event {expected_seq} is missing (next is {row.seq})"
                if missing
                else f"event {row.seq} is out of order",
            )
        if row.prev_hash != prev_hash:
            return _bad(
                row.seq,
                count,
                f"事件 {row.seq} 的前序哈希与事件 {row.seq - 1} 不符（插入、删除或重排）",
                f"event {row.seq}: previous-hash link does not match event {row.seq - 1} "
                "(inserted, deleted or reordered)",
            )
        recomputed = event_hash(
            seq=row.seq,
            ts=row.ts,
            actor=row.actor,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            details=row.details,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            return _bad(
                row.seq,
                count,
                f"事件 {row.seq} 内容被修改（哈希不符）",
                f"event {row.seq}: content was altered (hash mismatch)",
            )
        prev_hash, last_seq, expected_seq = row.hash, row.seq, row.seq + 1

    if head is None:
        if count == 0:
            return VerifyResult(True, 0)
        return _bad(1, count, "审计链头缺失", "audit chain head is missing")
    if head.seq != last_seq or head.hash != prev_hash:
        if head.seq > last_seq:
            return _bad(
                last_seq + 1,
                count,
                f"链尾被截断：签名链头为事件 {head.seq}，最后一条为事件 {last_seq}",
                f"chain tail truncated: signed head is event {head.seq}, last stored event is {last_seq}",
            )
        return _bad(
            head.seq + 1 if head.seq < last_seq else head.seq,
            count,
            f"事件 {head.seq + 1} 起未被签名链头覆盖（追加或重写）",
            f"events after {head.seq} are not covered by the signed head (appended or rewritten)",
        )
    return VerifyResult(True, count)


def _bad(seq: int, count: int, zh: str, en: str) -> VerifyResult:
    return VerifyResult(False, count, seq, zh, en)


def recent(
    session: Session, limit: int = 20, *, action: str | None = None, actor: str | None = None
) -> list[AuditEventRow]:
    """The newest ``limit`` events, oldest first; ``action`` matches a prefix (``job.`` for all job events)."""
    query = select(AuditEventRow)
    if action:
        query = query.where(AuditEventRow.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEventRow.actor == actor)
    rows = session.scalars(query.order_by(AuditEventRow.seq.desc()).limit(limit))
    return list(reversed(list(rows)))
