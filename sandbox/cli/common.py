"""What every CLI command shares: the console, the acting user, bilingual error handling."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import date
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from sandbox.context import PlatformContext
from sandbox.domain.errors import ConfigError, InvalidInput, ShuyuError, enum_member
from sandbox.domain.identifiers import IdKind, check_id, id_name
from sandbox.domain.progress import with_rows
from sandbox.domain.task import TaskState
from sandbox.settings import Settings

console = Console(soft_wrap=True)  # a message stays one line; tables still fit the width
err_console = Console(stderr=True, soft_wrap=True)

#: Exit codes: 0 done; 1 the command ran but what it was asked for did not happen (a failed or
#: withheld run, a broken audit chain); 2 refused (bad input, no permission, illegal state).
EXIT_NOT_DONE = 1
EXIT_REFUSED = 2


class _State:
    user: str | None = None
    server: str | None = None  # sandbox --server URL: commands go to that service


state = _State()


def host_only() -> None:
    """Refuse ``--server`` for a command that has no remote form (README: local-only commands)."""
    if state.server:
        raise ConfigError(
            f"此命令只能在平台主机上运行，不能经服务 {state.server} 执行（可用网页界面）",
            f"this command runs on the platform host only, not through {state.server} (use the web UI)",
        )


def context(*, require_home: bool = True) -> PlatformContext:
    """The local home. With ``--server`` a command that has no remote form refuses here, before it
    could touch whatever home happens to be on this machine."""
    host_only()
    settings = Settings()
    user = state.user or settings.user
    ctx = PlatformContext(settings, actor=user) if user else PlatformContext(settings)
    if require_home:
        ctx.require_home()
    return ctx


def remote():
    """The service the command talks to (``--server`` / ``SANDBOX_SERVER``), or None to act locally."""
    if not state.server:
        return None
    from sandbox.cli.remote import Remote

    return Remote(state.server)


T = TypeVar("T")

#: The router that serves a command for each role, in order of preference (``Remote.route``): each
#: names the roles its services admit, so a user whom ``--as`` admits is admitted through the service too.
DEVELOPER_OR_STAFF = {"developer": "/developer", "operator": "/operator", "admin": "/operator"}
CONSUMER_OR_STAFF = {"consumer": "/consumer", "operator": "/operator", "admin": "/operator"}
#: Jobs and runs: their developers, staff, and auditors (who read every submission and run).
JOB_READERS = {**DEVELOPER_OR_STAFF, "auditor": "/auditor"}
#: Terms of use and product downloads: consumers (their own), staff and auditors.
CONSUMER_STAFF_OR_AUDITOR = {**CONSUMER_OR_STAFF, "auditor": "/auditor"}


def remote_or_local(through_service: Callable[..., T], on_host: Callable[..., T]) -> T:
    """What a command asks for: ``through_service(client)`` with ``--server``, else ``on_host(ctx, who)`` on the
    local home as ``--as USER``. Both answer with the services' own views, so the command prints them one way."""
    client = remote()
    if client is not None:
        return through_service(client)
    ctx = context()
    return on_host(ctx, acting(ctx))


WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="经服务时：等待排队的任务结束并显示结果（本机总是当场执行）/ through a service: wait for the queued "
        "task and show its result (locally it always runs at once)",
    ),
]


def follow(fetch: Callable[[], dict], view: dict) -> dict:
    """A task's view once it has ended, polling ``fetch``; each stage on stderr as it is reached."""
    shown = None
    while view["state"] in (TaskState.QUEUED, TaskState.RUNNING):
        if view["stage"] and view["stage"] != shown:
            shown = view["stage"]
            zh, en = with_rows(shown["zh"], shown["en"], shown.get("rows"))
            err_console.print(f"{view['elapsed_s'] or 0:6.1f}s {zh} / {en}", highlight=False)
        time.sleep(0.5)
        view = fetch()
    return view


def queued(client, task: dict, *, wait: bool = True) -> dict | None:
    """A task the service queued. With ``wait``: followed to its end and its result returned (the command then
    prints what it prints locally), or its error raised as the local command raises it. Otherwise its id is
    printed with how to follow it, and None returned."""
    task_id = task["task"]
    if not wait:
        console.print(f"已排队 / queued: 任务 / task {task_id}；查看进度 / follow it: "
                      f"sandbox --server {client.server} task show {task_id} --follow", highlight=False)  # fmt: skip
        return None
    view = follow(lambda: client.get(f"/me/tasks/{task_id}"), task)
    error = view["error"]
    if view["result"] is None:  # it failed before it had a result (or was lost): the service's own error
        raise ShuyuError(error["zh"], error["en"], code=error["code"])
    return view["result"]


def acting(ctx: PlatformContext):
    """The principal the command acts as (``--as USER`` or ``SANDBOX_USER``), checked like the API does."""
    from sandbox.domain.errors import PermissionDenied
    from sandbox.domain.identity import Role
    from sandbox.governance.access import principal_for

    principal = principal_for(ctx, state.user or ctx.settings.user)
    if (ctx.home_marker() or {}).get("served") and Role.ADMIN not in principal.roles:
        raise PermissionDenied(
            f"该主目录已部署为服务：本机 --as 仅限管理员；{principal.username} 请用 sandbox --server 地址 与 sandbox login",
            f"this home is served: local --as is for administrators only; {principal.username} must use "
            "sandbox --server URL after sandbox login",
        )
    return principal


def friendly_errors(func):
    """Print Shuyu errors as bilingual messages with their code and exit 2; no tracebacks for users."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ShuyuError as err:  # messages are text, never markup: "[inputs.x]" must print as it is
            err_console.print(Text.assemble((f"错误 {err.code}", "bold red"), "：", err.zh))
            err_console.print(Text.assemble((f"error {err.code}", "bold red"), ": ", err.en))
            quarantine = getattr(err, "quarantine_path", None)
            if quarantine:
                err_console.print(Text(f"已隔离保存 / kept in quarantine: {quarantine}"))
            raise typer.Exit(EXIT_REFUSED) from None

    return wrapper


def not_done(zh: str, en: str) -> NoReturn:
    """End a command whose work did not happen (it was not refused): a bilingual line, exit 1."""
    err_console.print(Text.assemble(("✗", "bold red"), f" {zh} / {en}"))
    raise typer.Exit(EXIT_NOT_DONE)


class IdParam:
    """Parses a command-line identifier: checked by its domain pattern before any service sees it."""

    def __init__(self, kind: IdKind) -> None:
        self.kind = kind
        self.__name__ = kind.value

    def __call__(self, value: str) -> str:
        try:
            return check_id(self.kind, value)
        except InvalidInput as err:
            raise typer.BadParameter(f"[{err.code}] {err.zh} / {err.en}") from None


def id_argument(
    kind: IdKind, *, metavar: str | None = None, help: str | None = None, **kwargs
) -> typer.models.ArgumentInfo:
    zh, en = id_name(kind)
    return typer.Argument(parser=IdParam(kind), metavar=metavar or kind.value.upper(), help=help or f"{zh} / {en}",
                          **kwargs)  # fmt: skip


def id_option(kind: IdKind, *names: str, help: str | None = None, **kwargs) -> typer.models.OptionInfo:
    zh, en = id_name(kind)
    return typer.Option(*names, parser=IdParam(kind), metavar=kind.value.upper(), help=help or f"{zh} / {en}",
                        **kwargs)  # fmt: skip


ScenarioArg = Annotated[str, id_argument(IdKind.SCENARIO)]
DatasetArg = Annotated[str, id_argument(IdKind.DATASET)]
ProductArg = Annotated[str, id_argument(IdKind.PRODUCT)]
UserArg = Annotated[str, id_argument(IdKind.USER, metavar="USERNAME")]
SubmissionArg = Annotated[str, id_argument(IdKind.SUBMISSION)]
RunArg = Annotated[str, id_argument(IdKind.RUN)]
TicketArg = Annotated[str, id_argument(IdKind.TICKET)]
AuthorizationArg = Annotated[str, id_argument(IdKind.AUTHORIZATION)]


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} 须为 YYYY-MM-DD 格式的日期：{value!r}", f"{name} must be a YYYY-MM-DD date: {value!r}"
        ) from None


def parse_enum(kind, value: str, name: str):
    """``value`` as a member of the enum ``kind``, or an error that lists the allowed values."""
    return enum_member(kind, value, lambda allowed: InvalidInput(
        f"{name} 的取值 {value!r} 无效（可选：{allowed}）", f"invalid {name} {value!r} (allowed: {allowed})"
    ))  # fmt: skip
