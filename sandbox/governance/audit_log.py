"""Reading, verifying and purging the audit chain: who may, and the purge's own audit event."""

from __future__ import annotations

import json
from datetime import date

from sandbox.audit.chain import VerifyResult, recent
from sandbox.audit.retention import purge_before
from sandbox.context import PlatformContext
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.keys import PLATFORM_KEY

READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})


def check_reader(ctx: PlatformContext, actor: Principal, what_zh: str, what_en: str) -> None:
    with audited_refusals(ctx, actor, "audit.read", "audit", "*"):
        check_role(actor, READERS, what_zh, what_en)


def events(
    ctx: PlatformContext,
    actor: Principal,
    limit: int = 20,
    *,
    action: str | None = None,
    by: str | None = None,
) -> list[dict]:
    """The most recent events (of an action prefix, by one actor), newest last, with their details."""
    check_reader(ctx, actor, "查看审计日志", "read the audit log")
    with ctx.sessions() as session:
        return [{"seq": e.seq, "ts": e.ts, "actor": e.actor, "action": e.action,
                 "object": f"{e.object_type}:{e.object_id}", "details": json.loads(e.details)}
                for e in recent(session, limit, action=action, actor=by)]  # fmt: skip


def verify(ctx: PlatformContext, actor: Principal) -> VerifyResult:
    check_reader(ctx, actor, "校验审计链", "verify the audit chain")
    return ctx.verify_audit()


def purge(ctx: PlatformContext, actor: Principal, before: date) -> int:
    """Remove events older than ``before`` (the retention period); the chain stays verifiable."""
    with audited_refusals(ctx, actor, "audit.purge", "audit", before.isoformat()):
        check_role(actor, {Role.ADMIN}, "清除审计日志", "purge the audit log")
        with ctx.transaction() as session:
            removed = purge_before(session, ctx.keys.get(PLATFORM_KEY), before)
            ctx.audit(
                session, "audit.purged", "audit", before.isoformat(), actor=actor.username, removed=removed
            )
    return removed
