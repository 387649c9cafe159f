"""The store's direct way in (``db.direct``, ``Statement``) and shared commits (``GroupCommit``), on
SQLite and PostgreSQL: what the product query path stands on."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from sandbox.context import PlatformContext
from sandbox.domain.errors import Busy
from sandbox.store import db
from sandbox.store.db import GroupCommit, Statement, direct
from tests.conftest import PG_URL, make_context

BUMP = Statement("UPDATE probe SET n = n + 1 WHERE id = :id")
READ = Statement("SELECT n FROM probe WHERE id = :id")


@pytest.fixture
def probe(ctx):
    with ctx.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO probe (id, n) VALUES (1, 0), (2, 0)"))
    return ctx


def until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def count(ctx, key: int = 1) -> int:
    with direct(ctx.engine, write=False) as tx:
        return tx.one(READ, {"id": key})[0]


def test_one_statement_text_for_both_drivers():
    statement = Statement("SELECT a::text, '%' || :name FROM t WHERE x = :x_1 AND y = :name")
    assert statement.sqlite == "SELECT a::text, '%' || :name FROM t WHERE x = :x_1 AND y = :name"
    assert statement.pyformat == "SELECT a::text, '%%' || %(name)s FROM t WHERE x = %(x_1)s AND y = %(name)s"


def test_direct_commits_on_success_and_rolls_back_on_error(probe):
    with direct(probe.engine, write=True) as tx:
        tx.run(BUMP, {"id": 1})
    assert count(probe) == 1
    with pytest.raises(ZeroDivisionError), direct(probe.engine, write=True) as tx:
        tx.run(BUMP, {"id": 1})
        1 / 0  # noqa: B018
    assert count(probe) == 1


def test_a_direct_write_that_waits_too_long_is_busy(sqlite_ctx, monkeypatch):
    monkeypatch.setattr(db, "LOCK_WAIT_S", 1)
    impatient = PlatformContext(sqlite_ctx.settings, actor="tester")
    try:
        with sqlite_ctx.transaction() as holder:
            holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held
            with pytest.raises(Busy) as info, direct(impatient.engine, write=True):
                pass
        assert info.value.code == "E130"
    finally:
        impatient.engine.dispose()


def test_group_commit_counts_every_caller_once_and_answers_after_the_commit(probe):
    group = GroupCommit(most=8)
    seen_after: list[int] = []
    errors: list[BaseException] = []

    def bump(tx):
        tx.run(BUMP, {"id": 1})
        return tx.one(READ, {"id": 1})[0]

    def caller() -> None:
        try:
            for _ in range(10):
                mine = group.run(probe.engine, bump)
                seen_after.append(count(probe) >= mine)  # committed: another connection sees it
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and count(probe) == 80 and all(seen_after) and len(seen_after) == 80


def test_a_failing_work_is_rolled_back_alone(probe):
    group = GroupCommit()
    started, gate = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def slow(tx):  # holds the batch open while the others queue behind it
        started.set()
        tx.run(BUMP, {"id": 2})
        gate.wait(10)
        return "slow"

    def failing(tx):
        tx.run(BUMP, {"id": 1})
        raise ValueError("refused after it wrote")

    def fine(tx):
        tx.run(BUMP, {"id": 1})
        return "fine"

    def call(name, work):
        try:
            outcomes[name] = group.run(probe.engine, work)
        except ValueError as err:
            outcomes[name] = err

    first = threading.Thread(target=call, args=("slow", slow))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=call, args=(n, w)) for n, w in (("failing", failing), ("fine", fine))]
    for thread in others:
        thread.start()
    until(lambda: len(group._queue) == 2)
    gate.set()
    for thread in (first, *others):
        thread.join()
    assert outcomes["slow"] == "slow" and outcomes["fine"] == "fine"
    assert isinstance(outcomes["failing"], ValueError)
    assert (count(probe, 1), count(probe, 2)) == (1, 1)  # the failing work's write was undone, alone


def test_a_batch_that_cannot_begin_fails_every_caller_in_it(probe):
    group = GroupCommit()

    class Refusing:
        def __enter__(self):
            raise Busy()

        def __exit__(self, *exc):
            return False

    with pytest.raises(Busy):
        group.run(probe.engine, lambda tx: tx.run(BUMP, {"id": 1}), turn=Refusing)
    assert count(probe) == 0 and not group._leading
    assert group.run(probe.engine, lambda tx: tx.run(BUMP, {"id": 1})) is None and count(probe) == 1


def test_sqlite_commits_are_synced_before_they_return(sqlite_ctx):
    """``synchronous=FULL``: what metering (and every other commit) reports done is on disk."""
    with sqlite_ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    with direct(sqlite_ctx.engine, write=True) as tx:
        assert tx.one(Statement("PRAGMA synchronous"), {}) == (2,)


@pytest.mark.postgres
def test_a_batch_postgres_aborts_to_break_a_deadlock_runs_again_and_counts_once(pg_schema, tmp_path):
    """Two API processes' batches take two keys' rows in opposite orders. PostgreSQL aborts one to break
    the deadlock; without the retry every caller in that batch was answered busy."""
    ctx = make_context(tmp_path / "home", database_url=PG_URL, schema=pg_schema)
    with ctx.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO probe (id, n) VALUES (1, 0), (2, 0)"))
    first_locked = {1: threading.Event(), 2: threading.Event()}
    runs = {1: 0, 2: 0}
    outcomes: dict[int, object] = {}

    def crossing(mine: int, other: int):
        def work(tx):
            runs[mine] += 1
            tx.run(BUMP, {"id": mine})
            first_locked[mine].set()
            first_locked[other].wait(10)  # both hold their first row: each now waits for the other's
            tx.run(BUMP, {"id": other})
            return mine

        return work

    def call(mine: int, other: int) -> None:
        try:
            outcomes[mine] = GroupCommit().run(ctx.engine, crossing(mine, other))  # a process's batch
        except Exception as err:  # noqa: BLE001 - asserted below
            outcomes[mine] = err

    try:
        threads = [threading.Thread(target=call, args=pair) for pair in ((1, 2), (2, 1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert outcomes == {1: 1, 2: 2}
        assert sorted(runs.values()) == [1, 2]  # the victim's batch ran again, once
        assert (count(ctx, 1), count(ctx, 2)) == (2, 2)  # and its first run's writes were undone
    finally:
        ctx.engine.dispose()
