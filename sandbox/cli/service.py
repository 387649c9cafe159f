"""``sandbox serve``, ``sandbox worker`` and ``sandbox task list|show``: the platform as a service."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from typing import Annotated

import typer

from sandbox.cli.common import (
    IdParam,
    console,
    context,
    err_console,
    follow,
    friendly_errors,
    not_done,
    remote_or_local,
    state,
)
from sandbox.cli.output import Col, Format, FormatOption, emit, emit_record
from sandbox.domain.errors import ConfigError
from sandbox.domain.identifiers import IdKind
from sandbox.domain.labels import label_of
from sandbox.domain.progress import with_rows
from sandbox.domain.task import TaskState

task_app = typer.Typer(help="后台任务 / queued long actions", no_args_is_help=True)
LOOPBACK = "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
    app.add_typer(task_app, name="task")


def _server() -> str:
    if not state.server:
        raise ConfigError(
            "请用 --server 地址 或 SANDBOX_SERVER 指定服务",
            "say which service with --server URL or SANDBOX_SERVER",
        )
    return state.server


@friendly_errors
def login(
    user: Annotated[
        str,
        typer.Option("--user", parser=IdParam(IdKind.USER), metavar="USERNAME", help="用户名 / user name"),
    ],
    days: Annotated[int, typer.Option(min=1, max=365, help="令牌有效天数 / token lifetime in days")] = 30,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码 / read the password from stdin")
    ] = False,
) -> None:
    """登录服务，保存令牌 / sign in to the service and keep a token for the next commands."""
    from sandbox.cli.remote import Remote, save_token

    server = _server()
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("密码 / password", hide_input=True)
    )
    answer = Remote(server).post("/session/token", authenticated=False,
                                 json={"username": user, "password": password, "days": days})  # fmt: skip
    path = save_token(server, answer["user"], answer["token"], answer["secret"])
    console.print(f"已登录 / signed in: {answer['user']} @ {server}（令牌 / token {answer['token']}，保存于 / kept in {path}）",
                  highlight=False)  # fmt: skip


@friendly_errors
def logout() -> None:
    """退出登录并吊销令牌 / sign out: the token is revoked on the service and forgotten here."""
    from sandbox.cli.remote import Remote, forget

    server = _server()
    Remote(server).delete("/session")
    forget(server)
    console.print(f"已退出 / signed out of {server}", highlight=False)


@friendly_errors
def whoami(fmt: FormatOption = Format.TABLE) -> None:
    """当前用户、机构与角色 / who am I: user, organization, roles."""
    me = remote_or_local(lambda c: c.me(), lambda _ctx, who: {
        "user": who.username, "org": who.org_id, "org_kind": who.org_kind, "roles": sorted(who.roles),
        "provider": who.provider_id, "cleared": who.cleared})  # fmt: skip
    fields = [(Col(k, zh, en, ident=k in ("user", "org", "provider")), me.get(k)) for k, zh, en in (
        ("user", "用户", "user"), ("org", "机构", "organization"), ("roles", "角色", "roles"),
        ("provider", "数据提供单位", "provider"), ("cleared", "开发资质", "cleared"))]  # fmt: skip
    emit_record(console, "当前用户 / signed in as", fields, fmt)


@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / address to bind")] = LOOPBACK,
    port: Annotated[int, typer.Option(min=1, max=65535, help="端口 / port")] = 8000,
    with_worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="同时启动后台任务进程 / also start the task worker")
    ] = True,
) -> None:
    """启动 API 与网页服务（及后台任务进程）/ start the API and web service (and the task worker)."""
    ctx = context()
    import uvicorn

    from sandbox.api.app import create_app

    app = create_app(ctx)
    if host != LOOPBACK:
        err_console.print(f"注意：服务监听 {host}，请确认已有 TLS 与防火墙 / note: listening on {host}; "
                          "make sure TLS and a firewall are in front", highlight=False)  # fmt: skip
    child = (
        subprocess.Popen([sys.executable, "-m", "sandbox", "worker"], preexec_fn=_stop_with_parent)
        if with_worker
        else None
    )
    console.print(f"数域服务 / Shuyu service: http://{host}:{port}/  (API: http://{host}:{port}/api/v1, "
                  f"schema: /api/openapi.json)", highlight=False)  # fmt: skip
    # The startup heap (the app and its libraries, ~230,000 objects) lives as long as the process: frozen,
    # out of the collector's sight, a full collection no longer stalls every request for ~100 ms about once
    # a second under load (bench/api.py: p99 150 -> 51 ms at 64 clients).
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def _stop_with_parent() -> None:
    """The worker gets SIGTERM when ``serve`` ends, however it ends (uvicorn re-raises the signal that stopped
    it, so no ``finally`` of ours runs); it then finishes its current task and exits."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@friendly_errors
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="队列空时退出 / exit once nothing is queued")
    ] = False,
) -> None:
    """运行后台任务进程：先恢复中断的任务，再依次执行 / run the task worker: recover, then run queued tasks."""
    from sandbox.tasks.worker import StopFlag, run_worker

    ctx = context()
    stop = StopFlag()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    done = run_worker(ctx, stop, until_idle=until_idle)
    err_console.print(f"后台任务进程退出，共执行 {done} 个任务 / worker stopped after {done} task(s)")


_TASK_COLUMNS = [
    Col("task", "任务", "task", ident=True),
    Col("kind", "类型", "kind", ident=True),
    Col("requested_by", "发起人", "requested by", ident=True),
    Col("state", "状态", "state", show=lambda v: label_of(TaskState, v)),
    Col("stage", "阶段", "stage", show=lambda s: " / ".join(with_rows(s["zh"], s["en"], s.get("rows")))),
    Col("elapsed_s", "用时", "elapsed", show=lambda s: f"{s:.1f}s"),
    Col("error", "错误", "error", show=lambda e: f"[{e['code']}] {e['zh']} / {e['en']}"),
    Col("created_at", "提交时间", "queued", time=True),
]


@task_app.command("list")
@friendly_errors
def task_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出后台任务（运营人员看全部）/ list tasks (operators see all)."""
    emit(console, "后台任务 / tasks", _TASK_COLUMNS, _tasks(None), fmt)


def _tasks(task_id: str | None):
    """One task's view, or every visible task's, from the service or the local home."""
    from sandbox.tasks.queue import get_task, list_tasks, task_view

    return remote_or_local(
        lambda c: c.get(f"/me/tasks/{task_id}" if task_id else "/me/tasks"),
        lambda ctx, who: task_view(get_task(ctx, who, task_id)) if task_id
        else [task_view(t) for t in list_tasks(ctx, who)],
    )  # fmt: skip


@task_app.command("show")
@friendly_errors
def task_show(
    task_id: Annotated[str, typer.Argument(metavar="TASK", help="任务 / task id")],
    wait: Annotated[
        bool, typer.Option("--follow", help="等待任务结束并显示进度 / wait and show progress")
    ] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """显示任务的阶段、用时与结果 / show a task's stage, elapsed time and result; exit 1 if it did not succeed."""
    view = _tasks(task_id)
    if wait:
        view = follow(lambda: _tasks(task_id), view)
    fields = [(c, view.get(c.key)) for c in _TASK_COLUMNS] + [
        (Col("result", "结果", "result"), view["result"])
    ]
    emit_record(console, f"任务 / task {task_id}", fields, fmt)
    if view["state"] in (TaskState.FAILED, TaskState.LOST):
        not_done(f"任务 {task_id} 未完成", f"task {task_id} did not succeed")
