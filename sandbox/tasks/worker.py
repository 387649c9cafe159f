"""The worker: recover what a stopped worker left, then claim and run queued tasks one at a time.

On SQLite a home has exactly one worker (its database takes one writer), so at start every task
still marked running is lost; on PostgreSQL workers run side by side and one is lost only when its
heartbeat stops. A task's principal is resolved again when it runs: a user disabled since queueing
is refused. An unexpected error reaches the task as its type only; the traceback goes to the
operators' log (``logs/tasks/<id>.log``), never to the requester.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
import traceback

from sandbox.context import PlatformContext
from sandbox.domain.errors import ConfigError, ShuyuError
from sandbox.governance.access import principal_for
from sandbox.runtime.isolation import start_time
from sandbox.store.models import TaskRow
from sandbox.store.zones import Zone, zone_path
from sandbox.tasks import queue
from sandbox.tasks.kinds import kind_named

BEAT_EVERY_S = 5.0


class StopFlag:
    """A stop request a signal handler can make: a plain attribute and no lock. A handler runs in the
    main thread between two bytecodes; if it took a lock the interrupted code held (``Event.set`` while
    ``Event.wait`` holds its condition), the worker would hang for ever instead of stopping."""

    def __init__(self) -> None:
        self.requested = False

    def set(self) -> None:
        self.requested = True

    def is_set(self) -> bool:
        return self.requested

    def wait(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while not self.requested and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        return self.requested


def single_worker(ctx: PlatformContext) -> bool:
    return ctx.engine.dialect.name == "sqlite"


def run_worker(
    ctx: PlatformContext, stop: StopFlag | threading.Event, *, until_idle: bool = False, poll_s: float = 1.0
) -> int:
    """Run tasks until ``stop`` is set (or, with ``until_idle``, until none is queued); returns how many."""
    with _sole_worker(ctx) if single_worker(ctx) else contextlib.nullcontext():
        return _loop(ctx, stop, until_idle=until_idle, poll_s=poll_s)


@contextlib.contextmanager
def _sole_worker(ctx: PlatformContext):
    """On SQLite a home has one worker: a second one would take the first one's running tasks for lost."""
    path = zone_path(ctx.settings, Zone.WORK, "worker.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                "该主目录已有后台任务进程在运行（SQLite 主目录只能有一个）",
                "a worker is already running on this home (a SQLite home has exactly one)",
            ) from None
        yield


def _host() -> str:
    return socket.gethostname()[:24]


def _pid_namespace() -> str:
    """This process's PID namespace (its inode): containers sharing a host name (host networking) do not
    share their pids, so a pid means something only inside the namespace that gave it."""
    return os.readlink("/proc/self/ns/pid").partition("[")[2].rstrip("]")


def worker_name() -> str:
    """``host:pid-namespace:pid:start:thread`` (at most 62 characters): the process's start time makes the
    name one process's, never a later process's that reuses the pid."""
    pid = os.getpid()
    return f"{_host()}:{_pid_namespace()}:{pid}:{start_time(pid)}:{threading.get_native_id()}"


def gone_from_this_host(name: str) -> bool:
    """A worker of this machine, in this PID namespace, whose process has ended (killed with its server,
    say): its running tasks are lost now, not once its heartbeat is a minute old."""
    parts = name.split(":")
    if len(parts) != 5 or parts[:2] != [_host(), _pid_namespace()] or not parts[2].isdigit():
        return False
    return start_time(int(parts[2])) != parts[3]


def _loop(ctx: PlatformContext, stop: StopFlag | threading.Event, *, until_idle: bool, poll_s: float) -> int:
    name = worker_name()
    queue.recover(
        ctx, stale_after_s=None if single_worker(ctx) else queue.STALE_AFTER_S, gone=gone_from_this_host
    )
    done = 0
    while not stop.is_set():
        row = queue.claim(ctx, name)
        if row is None:
            if until_idle:
                break
            if not single_worker(ctx):
                queue.recover(ctx, gone=gone_from_this_host)
            stop.wait(poll_s)
            continue
        run_one(ctx, row)
        done += 1
    return done


def run_one(ctx: PlatformContext, row: TaskRow) -> TaskRow:
    finished = threading.Event()
    beating = threading.Thread(target=_beat, args=(ctx, row.id, finished), daemon=True)
    beating.start()
    try:
        actor = principal_for(ctx, row.requested_by)
        spec = kind_named(row.kind)
        spec.check(actor)
        ok, result = spec.run(ctx, actor, json.loads(row.args_json),
                              lambda zh, en, rows=None: queue.report_stage(ctx, row.id, zh, en, rows))  # fmt: skip
        return queue.finish(ctx, row.id, ok=ok, result=result)
    except ShuyuError as err:
        return queue.finish(ctx, row.id, ok=False, error=err.as_dict())
    except Exception as exc:  # the requester sees the type; operators read the traceback
        log = zone_path(ctx.settings, Zone.LOGS, "tasks", f"{row.id}.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        return queue.finish(ctx, row.id, ok=False, error={
            "code": "E991", "zh": f"内部错误 {type(exc).__name__}（运营人员可查看日志 logs/tasks/{row.id}.log）",
            "en": f"internal error {type(exc).__name__} (operators can read logs/tasks/{row.id}.log)",
        })  # fmt: skip
    finally:
        finished.set()
        beating.join()


def _beat(ctx: PlatformContext, task_id: str, finished: threading.Event) -> None:
    while not finished.wait(BEAT_EVERY_S):
        queue.beat(ctx, task_id)
