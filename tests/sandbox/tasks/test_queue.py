"""The task queue: who may queue what, one claim per task, outcomes recorded, lost tasks recovered.

Kinds whose services need Spark or Ray are exercised end to end elsewhere; here the kinds table is
given one extra kind, ``test.echo`` (a fake, registered only by these tests), so the machinery that
every kind shares runs for real on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading

import pytest
from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.errors import InvalidInput, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.domain.job import RunState
from sandbox.domain.task import TaskState
from sandbox.runtime import isolation, production
from sandbox.store.models import AuditEventRow, JobRunRow, TaskRow
from sandbox.store.zones import Zone, zone_path
from sandbox.tasks import kinds, queue, worker

from ..products.conftest import approved_job, live_cast


def _echo(ctx, actor, args, stages):
    stages("第一步", "step one", rows=args.get("rows"))
    if args.get("refuse"):
        raise InvalidInput("拒绝", "refused on purpose")
    if args.get("crash"):
        raise RuntimeError("secret value 110101199003074514")
    return not args.get("not_done"), {"echo": args.get("say"), "by": actor.username}


@pytest.fixture
def echo(monkeypatch):
    monkeypatch.setitem(
        kinds.KINDS,
        "test.echo",
        kinds.TaskKind("test.echo", frozenset({Role.OPERATOR}), "回声", "echo", _echo),
    )


@pytest.fixture
def cast(ctx):
    return live_cast(ctx)


def test_only_the_kinds_roles_may_queue_it_and_the_refusal_is_audited(cast):
    with pytest.raises(PermissionDenied):
        queue.enqueue(cast.ctx, cast("developer-1"), "samples.build", {"scenario": "elderly-care"})
    with pytest.raises(InvalidInput, match="unknown task kind"):
        queue.enqueue(cast.ctx, cast("operator-1"), "shell", {})
    assert queue.list_tasks(cast.ctx, cast("operator-1")) == []


def test_a_task_is_claimed_once_and_its_outcome_and_stages_are_kept(cast, echo):
    ctx = cast.ctx
    first = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"say": "你好", "rows": 12345})
    second = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"refuse": True})
    third = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"not_done": True})
    claimed = queue.claim(ctx, "w1")
    assert claimed.id == first.id and claimed.state == TaskState.RUNNING.value
    done = worker.run_one(ctx, claimed)
    assert done.state == "succeeded" and json.loads(done.result_json) == {"echo": "你好", "by": "operator-1"}
    view = queue.task_view(done)
    assert (
        view["stage"] == {"zh": "第一步", "en": "step one", "rows": 12345}
        and view["stages_done"] == 1
        and view["elapsed_s"] >= 0
    )
    assert worker.run_worker(ctx, threading.Event(), until_idle=True) == 2
    refused = queue.get_task(ctx, cast("operator-2"), second.id)
    assert refused.state == "failed" and json.loads(refused.error_json)["code"] == "E110"
    assert queue.get_task(ctx, cast("operator-1"), third.id).state == "failed"
    assert queue.claim(ctx, "w2") is None


def test_two_workers_racing_never_run_one_task_twice(cast, echo):
    ctx = cast.ctx
    ids = {queue.enqueue(ctx, cast("operator-1"), "test.echo", {"say": i}).id for i in range(12)}
    claims: list[str] = []

    def take(name):
        while (row := queue.claim(ctx, name)) is not None:
            claims.append(row.id)

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claims) == sorted(ids)


def test_one_active_task_per_exclusive_key_until_it_ends(cast, monkeypatch):
    """A kind with an exclusive key (one promotion per submission, one sample build per scenario) is
    refused while a task holding the key is queued or running, with the holder's id, bilingual and
    audited; once it has ended, the key is free again. The unique index decides (the concurrent case
    on PostgreSQL: tests/sandbox/api/test_concurrency.py)."""
    monkeypatch.setitem(kinds.KINDS, "test.echo", kinds.TaskKind(
        "test.echo", frozenset({Role.OPERATOR}), "回声", "echo", _echo, exclusive=lambda args: f"echo:{args['on']}"))  # fmt: skip
    ctx = cast.ctx
    first = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"on": "a"})
    other = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"on": "b"})  # another key: queued too
    with pytest.raises(queue.AlreadyActive) as refused:
        queue.enqueue(ctx, cast("operator-2"), "test.echo", {"on": "a", "say": "again"})
    assert refused.value.code == "E911" and first.id in refused.value.zh and "queued" in refused.value.en
    assert queue.claim(ctx, "w1").id == first.id
    with pytest.raises(queue.AlreadyActive, match="running"):
        queue.enqueue(ctx, cast("operator-2"), "test.echo", {"on": "a"})
    worker.run_one(ctx, queue.get_task(ctx, cast("admin"), first.id))
    again = queue.enqueue(ctx, cast("operator-2"), "test.echo", {"on": "a"})
    assert again.id not in (first.id, other.id)
    with ctx.sessions() as session:
        refused = session.scalars(
            select(AuditEventRow.details).where(AuditEventRow.action == "refused")
        ).all()
    assert [json.loads(d)["code"] for d in refused] == ["E911", "E911"]


def test_an_unexpected_error_reaches_the_requester_as_its_type_only(cast, echo):
    ctx = cast.ctx
    task = queue.enqueue(ctx, cast("operator-1"), "test.echo", {"crash": True})
    done = worker.run_one(ctx, queue.claim(ctx, "w1"))
    error = json.loads(done.error_json)
    assert error["code"] == "E991" and "RuntimeError" in error["en"] and "110101" not in done.error_json
    log = ctx.settings.home_dir / "logs" / "tasks" / f"{task.id}.log"
    assert "110101199003074514" in log.read_text(encoding="utf-8")  # the operators' log keeps the detail


def test_tasks_are_visible_to_their_requester_and_to_staff_only(cast, echo):
    ctx = cast.ctx
    task = queue.enqueue(ctx, cast("operator-1"), "test.echo", {})
    assert queue.get_task(ctx, cast("admin"), task.id).id == task.id
    with pytest.raises(PermissionDenied):
        queue.get_task(ctx, cast("developer-1"), task.id)
    assert queue.list_tasks(ctx, cast("developer-1")) == []


def test_a_lost_promotion_is_recovered_and_its_half_done_run_failed_not_left_running(cast):
    """A worker died during a promotion: its task is lost with a reason, and the run it had started is failed,
    so nothing stays "running" and nothing was published."""
    ctx = cast.ctx
    submission = approved_job(cast, "lost_job")
    task = queue.enqueue(ctx, cast("operator-1"), "job.promote", {"submission": submission.id})
    queue.claim(ctx, "dead-worker")
    with ctx.transaction() as session:
        session.add(JobRunRow(id="run-lost", submission_id=submission.id, promoted_by="operator-1",
                              state=RunState.RUNNING.value, dataset_versions_json="{}", logs_path="runs/run-lost",
                              started_at=utc_now_iso()))  # fmt: skip
    assert queue.recover(ctx) == []  # its heartbeat is fresh: a live worker on another machine may hold it
    lost = queue.recover(ctx, stale_after_s=None)
    assert [t.id for t in lost] == [task.id]
    with ctx.sessions() as session:
        row, run = session.get(TaskRow, task.id), session.get(JobRunRow, "run-lost")
    error = json.loads(row.error_json)
    assert row.state == "lost" and error["code"] == "E910" and error["undone"] == ["job_run:run-lost"]
    assert run.state == RunState.FAILED.value and json.loads(run.failure_json) == {"phase": "interrupted"}
    assert row.finished_at and run.finished_at


def test_a_promotion_whose_worker_died_on_this_machine_is_recovered_at_once_and_its_processes_ended(cast):
    """The API server and its worker killed mid-promotion: the run process and the gate they started live
    on (their own sessions), still holding raw-derived frames in staging. The next worker on this machine
    sees at once that the task's worker is gone (no minute-long wait for the heartbeat), fails the run,
    kills what it had started and removes its staging and scratch."""
    ctx = cast.ctx
    submission = approved_job(cast, "orphaned_job")
    task = queue.enqueue(ctx, cast("operator-1"), "job.promote", {"submission": submission.id})
    dead = subprocess.Popen(["true"])
    dead.wait()
    here = f"{worker._host()}:{worker._pid_namespace()}"
    queue.claim(ctx, f"{here}:{dead.pid}:1:1")  # a worker of this machine that has ended
    with ctx.transaction() as session:
        session.add(JobRunRow(id="run-orphan", submission_id=submission.id, promoted_by="operator-1",
                              state=RunState.RUNNING.value, dataset_versions_json="{}", logs_path="runs/run-orphan",
                              started_at=utc_now_iso()))  # fmt: skip
    run_dir = zone_path(ctx.settings, Zone.RUNS, "run-orphan")
    staging = zone_path(ctx.settings, Zone.STAGING, "elderly-care", "run-orphan")
    for directory in (run_dir, staging):
        directory.mkdir(parents=True)
    (staging / "frame.parquet").write_bytes(b"derived from raw data")
    orphan = isolation.start_isolated(["sleep", "300"], memory_limit_bytes=None, stdout=run_dir / "o",
                                      stderr=run_dir / "e", env={}, network_isolation=False,
                                      record=run_dir / production.PROCESSES)  # fmt: skip
    assert queue.recover(ctx) == []  # its heartbeat is fresh
    lost = queue.recover(ctx, gone=worker.gone_from_this_host)
    assert [t.id for t in lost] == [task.id]
    assert orphan.process.wait(timeout=30) == -signal.SIGKILL
    assert not staging.exists()
    with ctx.sessions() as session:
        assert session.get(JobRunRow, "run-orphan").state == RunState.FAILED.value
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "job.run_failed")).one()
    assert json.loads(event.details)["processes_ended"] == 1
    assert not worker.gone_from_this_host(worker.worker_name())  # this very process
    assert not worker.gone_from_this_host(f"elsewhere:{worker._pid_namespace()}:{dead.pid}:1:1")
    assert not worker.gone_from_this_host(
        f"{worker._host()}:4026530000:{dead.pid}:1:1"
    )  # another pid namespace
    assert len(worker.worker_name()) <= 64  # the tasks table's column


def test_worker_until_idle_runs_what_is_queued_and_a_second_sqlite_worker_is_refused(
    sqlite_ctx, echo, tmp_path
):
    """``sandbox worker --until-idle`` in a real process; a second worker on one SQLite home refuses to start."""
    import subprocess
    import sys

    from sandbox.tasks.worker import _sole_worker
    from tests.conftest import cli_env

    cast = live_cast(sqlite_ctx)
    with _sole_worker(sqlite_ctx):
        held = subprocess.run([sys.executable, "-m", "sandbox", "--as", "admin", "worker", "--until-idle"],
                              env=cli_env(sqlite_ctx), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert held.returncode == 2 and "a worker is already running" in held.stderr
    queue.enqueue(sqlite_ctx, cast("operator-1"), "quality.run", {"dataset": "nothing-here"})
    ran = subprocess.run([sys.executable, "-m", "sandbox", "--as", "admin", "worker", "--until-idle"],
                         env=cli_env(sqlite_ctx), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0 and "1 task" in ran.stderr
    (task,) = queue.list_tasks(sqlite_ctx, cast("operator-1"))
    assert task.state == "failed" and json.loads(task.error_json)["code"] == "E201"


def test_a_stop_requested_by_a_signal_handler_ends_the_wait_and_takes_no_lock():
    """``sandbox worker``'s SIGTERM handler: with an Event, a signal arriving while ``wait`` held the
    Event's lock deadlocked the worker (seen in CI: a worker outliving ``serve``)."""
    import signal
    import time

    from sandbox.tasks.worker import StopFlag

    flag = StopFlag()
    previous = signal.signal(signal.SIGALRM, lambda *_: flag.set())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        assert flag.wait(10) is True
        assert time.monotonic() - started < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
