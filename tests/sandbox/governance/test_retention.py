"""Audit retention: nothing younger than three years can be purged; a purge keeps the chain verifiable."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from sandbox.audit.retention import can_purge, purge_before
from sandbox.domain.errors import AuditError
from sandbox.store.keys import PLATFORM_KEY


def test_purging_younger_than_three_years_is_refused(sqlite_ctx):
    today = date(2026, 11, 24)
    assert not can_purge(date(2024, 1, 1), today)
    with pytest.raises(AuditError) as info, sqlite_ctx.transaction() as session:
        purge_before(session, sqlite_ctx.keys.get(PLATFORM_KEY), date(2024, 1, 1), today)
    assert "3 years" in info.value.en and "2023-11-24" in info.value.en


def test_purging_old_events_keeps_the_rest_verifiable(sqlite_ctx):
    ctx = sqlite_ctx
    before = ctx.verify_audit().events
    for i in range(6):
        with ctx.transaction() as session:
            ctx.audit(session, "test.event", "thing", str(i))
    # Seen from 2034, every event written today is older than the three-year window.
    with ctx.transaction() as session:
        removed = purge_before(session, ctx.keys.get(PLATFORM_KEY), date(2030, 1, 1), date(2034, 1, 1))
    assert removed == before + 5  # the newest event always stays
    result = ctx.verify_audit()
    assert result.ok and result.events == 1
    with ctx.transaction() as session:
        ctx.audit(session, "test.event", "thing", "after-purge")
    assert ctx.verify_audit().ok
    with ctx.engine.begin() as conn:  # the base is signed: moving it is detected
        conn.execute(text("UPDATE audit_head SET base_seq = 2"))
    assert not ctx.verify_audit().ok
