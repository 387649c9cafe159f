"""The audit chain detects every kind of tampering and names the first bad event."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sandbox.audit.canonical import event_hash


def _append(ctx, n: int) -> None:
    for i in range(n):
        with ctx.transaction() as session:
            ctx.audit(session, "test.event", "thing", f"t{i}", index=i, note="测试")


def _exec(ctx, sql: str, **params) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text(sql), params)


@pytest.fixture
def chain(ctx):
    before = ctx.verify_audit().events  # home initialisation and the first administrator
    _append(ctx, 10)
    result = ctx.verify_audit()
    assert result.ok and result.events == before + 10 >= 11
    return ctx


def _last(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()


def test_fresh_chain_verifies(chain):
    assert chain.verify_audit().ok


def test_edited_event_is_named(chain):
    _exec(chain, "UPDATE audit_events SET details = :d WHERE seq = 5", d='{"index":999}')
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == 5
    assert "5" in result.problem_en and "altered" in result.problem_en


def test_edited_actor_is_named(chain):
    _exec(chain, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 7")
    assert chain.verify_audit().first_bad_seq == 7


def test_deleted_event_is_named(chain):
    _exec(chain, "DELETE FROM audit_events WHERE seq = 4")
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == 4
    assert "missing" in result.problem_en


def test_inserted_event_is_named(chain):
    # Make room after event 3 and insert a forged event with a self-consistent hash.
    _exec(chain, "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 3")
    _exec(chain, "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000")
    with chain.engine.connect() as conn:
        prev = conn.execute(text("SELECT hash FROM audit_events WHERE seq = 3")).scalar_one()
    forged = dict(seq=4, ts="2026-01-01T00:00:00.000000Z", actor="intruder", action="forged",
                  object_type="thing", object_id="x", details="{}", prev_hash=prev)  # fmt: skip
    _exec(
        chain,
        "INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) "
        "VALUES (:seq, :ts, :actor, :action, :object_type, :object_id, :details, :prev_hash, :hash)",
        **forged,
        hash=event_hash(**forged),
    )
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == 5  # the old event 4, now at 5, no longer links


def test_reordered_events_are_named(chain):
    _exec(chain, "UPDATE audit_events SET seq = -6 WHERE seq = 6")
    _exec(chain, "UPDATE audit_events SET seq = 6 WHERE seq = 7")
    _exec(chain, "UPDATE audit_events SET seq = 7 WHERE seq = -6")
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == 6


def test_truncated_tail_is_detected(chain):
    last = _last(chain)
    _exec(chain, "DELETE FROM audit_events WHERE seq >= :s", s=last - 1)
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == last - 1
    assert "truncated" in result.problem_en


def test_rewritten_chain_without_key_fails_on_head(chain):
    """Rehashing every event consistently still fails: the head is HMAC-signed with the platform key."""
    with chain.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
    prev = "0" * 64
    for row in rows:
        fields = {k: row[k] for k in ("seq", "ts", "actor", "action", "object_type", "object_id", "details")}
        if row["seq"] == 3:
            fields["actor"] = "rewriter"
        digest = event_hash(**fields, prev_hash=prev)
        _exec(chain, "UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s",
              a=fields["actor"], p=prev, h=digest, s=row["seq"])  # fmt: skip
        prev = digest
    _exec(chain, "UPDATE audit_head SET hash = :h", h=prev)
    result = chain.verify_audit()
    assert not result.ok and "signature" in result.problem_en


def test_appended_event_without_head_is_detected(chain):
    last = _last(chain)
    with chain.engine.connect() as conn:
        prev = conn.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": last}).scalar_one()
    forged = dict(seq=last + 1, ts="2026-01-01T00:00:00.000000Z", actor="intruder", action="forged",
                  object_type="thing", object_id="x", details="{}", prev_hash=prev)  # fmt: skip
    _exec(
        chain,
        "INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) "
        "VALUES (:seq, :ts, :actor, :action, :object_type, :object_id, :details, :prev_hash, :hash)",
        **forged,
        hash=event_hash(**forged),
    )
    result = chain.verify_audit()
    assert not result.ok and result.first_bad_seq == last + 1


def test_failed_transaction_leaves_no_event(chain):
    before = chain.verify_audit().events
    with pytest.raises(RuntimeError), chain.transaction() as session:
        chain.audit(session, "test.event", "thing", "doomed")
        raise RuntimeError("boom")
    result = chain.verify_audit()
    assert result.ok and result.events == before
