"""What every CLI command shares: the console, the acting user, bilingual error handling."""

from __future__ import annotations

import functools
from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput, ShuyuError, enum_member
from sandbox.settings import Settings

console = Console()
err_console = Console(stderr=True)


class _State:
    user: str | None = None


state = _State()


def context(*, require_home: bool = True) -> PlatformContext:
    settings = Settings()
    user = state.user or settings.user
    ctx = PlatformContext(settings, actor=user) if user else PlatformContext(settings)
    if require_home:
        ctx.require_home()
    return ctx


def acting(ctx: PlatformContext):
    """The principal the command acts as (``--as USER`` or ``SANDBOX_USER``), checked like the API does."""
    from sandbox.governance.access import principal_for

    return principal_for(ctx, state.user or ctx.settings.user)


def friendly_errors(func):
    """Print Shuyu errors as bilingual messages with their code and exit 2; no tracebacks for users."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ShuyuError as err:
            err_console.print(f"[bold red]错误 {err.code}[/]：{err.zh}")
            err_console.print(f"[bold red]error {err.code}[/]: {err.en}")
            quarantine = getattr(err, "quarantine_path", None)
            if quarantine:
                err_console.print(f"已隔离保存 / kept in quarantine: {quarantine}")
            raise typer.Exit(2) from None

    return wrapper


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


def table(title: str, *columns: str) -> Table:
    result = Table(title=title)
    for column in columns:
        result.add_column(column)
    return result
