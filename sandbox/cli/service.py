"""``sandbox serve``, ``sandbox worker`` and ``sandbox task list|show``: the platform as a service."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Annotated

import typer

from sandbox.cli.common import acting, console, context, err_console, friendly_errors, not_done
from sandbox.cli.output import Col, Format, FormatOption, emit, emit_record
from sandbox.domain.labels import label_of
from sandbox.domain.task import TaskState

task_app = typer.Typer(help="后台任务 / queued long actions", no_args_is_help=True)
LOOPBACK = "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.add_typer(task_app, name="task")


@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / address to bind")] = LOOPBACK,
    port: Annotated[int, typer.Option(min=1, max=65535, help="端口 / port")] = 8000,
    with_worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="同时启动后台任务进程 / also start the task worker")
    ] = True,
) -> None:
    """启动 API 与网页服务（及后台任务进程）/ start the API and web service (and the task worker)."""
    import uvicorn

    from sandbox.api.app import create_app

    ctx = context()
    app = create_app(ctx)
    if host != LOOPBACK:
        err_console.print(f"注意：服务监听 {host}，请确认已有 TLS 与防火墙 / note: listening on {host}; "
                          "make sure TLS and a firewall are in front", highlight=False)  # fmt: skip
    child = subprocess.Popen([sys.executable, "-m", "sandbox", "worker"]) if with_worker else None
    console.print(f"数域服务 / Shuyu service: http://{host}:{port}/  (API: http://{host}:{port}/api/v1, "
                  f"schema: /api/openapi.json)", highlight=False)  # fmt: skip
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


@friendly_errors
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="队列空时退出 / exit once nothing is queued")
    ] = False,
) -> None:
    """运行后台任务进程：先恢复中断的任务，再依次执行 / run the task worker: recover, then run queued tasks."""
    from sandbox.tasks.worker import run_worker

    ctx = context()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    done = run_worker(ctx, stop, until_idle=until_idle)
    err_console.print(f"后台任务进程退出，共执行 {done} 个任务 / worker stopped after {done} task(s)")


_TASK_COLUMNS = [
    Col("task", "任务", "task", ident=True),
    Col("kind", "类型", "kind", ident=True),
    Col("requested_by", "发起人", "requested by", ident=True),
    Col("state", "状态", "state", show=lambda v: label_of(TaskState, v)),
    Col("stage", "阶段", "stage", show=lambda s: f"{s['zh']} / {s['en']}"),
    Col("elapsed_s", "用时", "elapsed", show=lambda s: f"{s:.1f}s"),
    Col("error", "错误", "error", show=lambda e: f"[{e['code']}] {e['zh']} / {e['en']}"),
    Col("created_at", "提交时间", "queued", time=True),
]


@task_app.command("list")
@friendly_errors
def task_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出后台任务（运营人员看全部）/ list tasks (operators see all)."""
    from sandbox.tasks.queue import list_tasks, task_view

    ctx = context()
    emit(
        console, "后台任务 / tasks", _TASK_COLUMNS, [task_view(t) for t in list_tasks(ctx, acting(ctx))], fmt
    )


@task_app.command("show")
@friendly_errors
def task_show(
    task_id: Annotated[str, typer.Argument(metavar="TASK", help="任务 / task id")],
    follow: Annotated[
        bool, typer.Option("--follow", help="等待任务结束并显示进度 / wait and show progress")
    ] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """显示任务的阶段、用时与结果 / show a task's stage, elapsed time and result; exit 1 if it did not succeed."""
    from sandbox.tasks.queue import get_task, task_view

    ctx = context()
    actor = acting(ctx)
    view = task_view(get_task(ctx, actor, task_id))
    shown = None
    while follow and view["state"] in (TaskState.QUEUED, TaskState.RUNNING):
        if view["stage"] and view["stage"] != shown:
            shown = view["stage"]
            err_console.print(
                f"{view['elapsed_s'] or 0:6.1f}s {shown['zh']} / {shown['en']}", highlight=False
            )
        time.sleep(0.5)
        view = task_view(get_task(ctx, actor, task_id))
    fields = [(c, view.get(c.key)) for c in _TASK_COLUMNS] + [
        (Col("result", "结果", "result"), view["result"])
    ]
    emit_record(console, f"任务 / task {task_id}", fields, fmt)
    if view["state"] in (TaskState.FAILED, TaskState.LOST):
        not_done(f"任务 {task_id} 未完成", f"task {task_id} did not succeed")
