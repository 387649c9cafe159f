"""The task queue in the metadata store: enqueue, claim, report progress, finish, recover.

A claim is one conditional ``UPDATE … WHERE state = 'queued'``, so two workers never run one task,
on either database; PostgreSQL first picks a candidate with ``FOR UPDATE SKIP LOCKED`` so workers
do not queue behind each other's row locks. A running task's worker writes a heartbeat; a task
whose heartbeat stopped is *lost*, and recovery says so with a reason instead of leaving it running.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import IllegalTransition, NotFoundError, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.domain.task import TASK_LIFECYCLE, TaskState
from sandbox.governance.access import Principal, audited_refusals
from sandbox.store.models import TaskRow

#: A running task whose worker has not written for this long is lost (the worker beats every 5 s).
STALE_AFTER_S = 60.0

LOST_REASON = {
    "code": "E910",
    "zh": "执行该任务的后台进程已停止，任务未完成；如需要请重新提交",
    "en": "the worker running this task stopped before it finished; submit it again if still needed",
}


class AlreadyActive(IllegalTransition):
    """The same action on the same thing is already queued or running."""

    code = "E911"

    def __init__(self, task: TaskRow) -> None:
        super().__init__(
            f"同一操作已在任务 {task.id} 中{'排队' if task.state == TaskState.QUEUED.value else '运行'}，未重复提交",
            f"the same action is already {task.state} as task {task.id}; nothing was queued again",
        )
        self.task_id = task.id


def enqueue(ctx: PlatformContext, actor: Principal, kind: str, args: dict) -> TaskRow:
    """Queue ``kind`` for ``actor``; who may queue what is checked here, and again when it runs.

    A kind that acts on something only one task at a time may act on (``TaskKind.exclusive``) is
    refused while another task holds it; the database's unique index decides, not a prior read, so
    two servers queueing at the same instant get one task and one :class:`AlreadyActive`.
    """
    from sandbox.tasks.kinds import kind_named

    spec = kind_named(kind)
    key = spec.exclusive(args) if spec.exclusive else None
    with audited_refusals(ctx, actor, f"task.{kind}", "task", kind):
        spec.check(actor)
        task_id = uuid.uuid4().hex[:16]
        try:
            with ctx.transaction() as session:
                row = TaskRow(id=task_id, kind=kind, args_json=json.dumps(args, ensure_ascii=False, sort_keys=True),
                              requested_by=actor.username, state=TASK_LIFECYCLE.check(None, "queue").value,
                              stages_done=0, created_at=utc_now_iso(), exclusive_key=key)  # fmt: skip
                session.add(row)
                session.flush()  # the unique index answers here, before anything is audited
                ctx.audit(session, "task.queued", "task", task_id, actor=actor.username, kind=kind, args=args)
        except IntegrityError:
            holder = _active_holder(ctx, key)
            if holder is None:  # it finished in between: the caller may simply ask again
                raise
            raise AlreadyActive(holder) from None
        return row


def _active_holder(ctx: PlatformContext, key: str | None) -> TaskRow | None:
    if key is None:
        return None
    with ctx.sessions() as session:
        query = select(TaskRow).where(
            TaskRow.exclusive_key == key, TaskRow.state.in_([TaskState.QUEUED.value, TaskState.RUNNING.value])
        )
        return session.scalars(query).first()


def claim(ctx: PlatformContext, worker: str) -> TaskRow | None:
    """The oldest queued task, now running on ``worker``; None when nothing is queued."""
    while True:
        with ctx.transaction() as session:
            query = select(TaskRow.id).where(TaskRow.state == TaskState.QUEUED.value)
            query = query.order_by(TaskRow.created_at, TaskRow.id).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            task_id = session.scalar(query)
            if task_id is None:
                return None
            now = utc_now_iso()
            taken = session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.state == TaskState.QUEUED.value)
                .values(
                    state=TASK_LIFECYCLE.check(TaskState.QUEUED, "start").value,
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                )  # fmt: skip
            ).rowcount
            if taken:
                ctx.audit(session, "task.started", "task", task_id, actor="system", worker=worker)
                return session.get(TaskRow, task_id)


def report_stage(ctx: PlatformContext, task_id: str, zh: str, en: str, rows: int | None = None) -> None:
    with ctx.transaction() as session:
        session.execute(
            update(TaskRow)
            .where(TaskRow.id == task_id)
            .values(stage_zh=zh, stage_en=en, stage_rows=rows, stages_done=TaskRow.stages_done + 1,
                    heartbeat_at=utc_now_iso())
        )  # fmt: skip


def beat(ctx: PlatformContext, task_id: str) -> None:
    with ctx.transaction() as session:
        session.execute(update(TaskRow).where(TaskRow.id == task_id).values(heartbeat_at=utc_now_iso()))


def finish(ctx: PlatformContext, task_id: str, *, ok: bool, result: dict | None = None,
           error: dict | None = None) -> TaskRow:  # fmt: skip
    with ctx.transaction() as session:
        row = session.get(TaskRow, task_id)
        row.state = TASK_LIFECYCLE.check(TaskState(row.state), "succeed" if ok else "fail").value
        row.result_json = json.dumps(result, ensure_ascii=False) if result is not None else None
        row.error_json = json.dumps(error, ensure_ascii=False) if error is not None else None
        row.finished_at = row.heartbeat_at = utc_now_iso()
        ctx.audit(session, f"task.{row.state}", "task", task_id, actor="system", kind=row.kind,
                  result=result, error=error)  # fmt: skip
        return row


def recover(
    ctx: PlatformContext,
    *,
    stale_after_s: float | None = STALE_AFTER_S,
    gone: Callable[[str], bool] | None = None,
) -> list[TaskRow]:
    """Mark every running task whose worker stopped as lost, and undo what its kind left half-done.

    A worker stopped when its heartbeat is older than ``stale_after_s``, or at once when ``gone`` says so
    of its name (a worker of this machine whose process has ended). ``stale_after_s=None`` takes every
    running task: right for the one worker of a SQLite home, which recovers before it claims anything,
    so nothing else can be running.
    """
    from sandbox.tasks.kinds import kind_named

    with ctx.transaction() as session:
        running = select(TaskRow).where(TaskRow.state == TaskState.RUNNING.value)
        cutoff = None
        if stale_after_s is not None:
            cutoff = (datetime.now(UTC) - timedelta(seconds=stale_after_s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

        def stopped(row: TaskRow) -> bool:
            return cutoff is None or row.heartbeat_at < cutoff or bool(gone and gone(row.worker or ""))

        found = [row.id for row in session.scalars(running) if stopped(row)]
        lost = session.scalars(running.where(TaskRow.id.in_(found)).with_for_update(skip_locked=True)).all()
        for row in lost:
            undone = kind_named(row.kind).on_lost(ctx, session, json.loads(row.args_json))
            row.state = TASK_LIFECYCLE.check(TaskState.RUNNING, "lose").value
            row.error_json = json.dumps({**LOST_REASON, "undone": undone}, ensure_ascii=False)
            row.finished_at = utc_now_iso()
            ctx.audit(session, "task.lost", "task", row.id, actor="system", kind=row.kind, worker=row.worker,
                      undone=undone)  # fmt: skip
        return list(lost)


def _visible(actor: Principal, row: TaskRow) -> bool:
    return row.requested_by == actor.username or actor.has(Role.OPERATOR, Role.ADMIN)


def get_task(ctx: PlatformContext, actor: Principal, task_id: str) -> TaskRow:
    """One task, to whoever queued it, and to operators and administrators."""
    with ctx.sessions() as session:
        row = session.get(TaskRow, task_id)
    if row is None:
        raise NotFoundError(f"任务 {task_id} 不存在", f"task {task_id} does not exist")
    if not _visible(actor, row):
        with audited_refusals(ctx, actor, "task.read", "task", task_id):
            raise PermissionDenied(f"无权查看任务 {task_id}", f"may not read task {task_id}")
    return row


def list_tasks(ctx: PlatformContext, actor: Principal, *, limit: int = 100) -> list[TaskRow]:
    """The newest tasks: one's own, or everybody's for operators and administrators."""
    with ctx.sessions() as session:
        query = select(TaskRow).order_by(TaskRow.created_at.desc()).limit(limit)
        if not actor.has(Role.OPERATOR, Role.ADMIN):
            query = query.where(TaskRow.requested_by == actor.username)
        return list(session.scalars(query))


def task_view(row: TaskRow) -> dict:
    """What every face shows of a task: state, stage (with its rows when known), elapsed seconds, result or error."""
    end = row.finished_at or utc_now_iso()
    elapsed = None
    if row.started_at:
        elapsed = round((_parse(end) - _parse(row.started_at)).total_seconds(), 1)
    return {
        "task": row.id, "kind": row.kind, "args": json.loads(row.args_json), "requested_by": row.requested_by,
        "state": row.state,
        "stage": {"zh": row.stage_zh, "en": row.stage_en, "rows": row.stage_rows} if row.stage_zh else None,
        "stages_done": row.stages_done, "elapsed_s": elapsed, "created_at": row.created_at,
        "started_at": row.started_at, "finished_at": row.finished_at,
        "result": json.loads(row.result_json) if row.result_json else None,
        "error": json.loads(row.error_json) if row.error_json else None,
    }  # fmt: skip


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
