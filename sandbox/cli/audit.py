"""``sandbox audit verify|log|purge``."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.common import (
    EXIT_NOT_DONE,
    acting,
    console,
    context,
    err_console,
    friendly_errors,
    parse_date,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, emit

audit_app = typer.Typer(help="审计链 / audit chain", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@friendly_errors
def verify() -> None:
    """校验整条审计链 / verify the whole audit chain; names the first bad event."""
    from sandbox.governance.audit_log import verify as verify_chain

    def on_host(ctx, who) -> dict:
        result = verify_chain(ctx, who)
        return {"ok": result.ok, "message": result.message}  # as GET /auditor/audit/verify answers

    result = remote_or_local(lambda c: c.get("/auditor/audit/verify"), on_host)
    if result["ok"]:
        console.print(f"[green]✓[/] {result['message']}")
        return
    err_console.print(f"[bold red]✗[/] {result['message']}")
    raise typer.Exit(EXIT_NOT_DONE)


@audit_app.command("log")
@friendly_errors
def log(
    limit: Annotated[int, typer.Option(min=1, help="条数 / how many")] = 20,
    details: Annotated[
        bool, typer.Option("--details", help="显示事件详情 / show each event's details")
    ] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """最近的审计事件 / the most recent audit events."""
    from sandbox.governance.audit_log import events

    columns = [
        Col("seq", "序号", "seq", ident=True, show=str),
        Col("ts", "时间", "time", time=True),
        Col("actor", "操作者", "actor", ident=True),
        Col("action", "动作", "action", ident=True),
        Col("object", "对象", "object", ident=True),
    ]
    if details or fmt is not Format.TABLE:
        columns.append(Col("details", "详情", "details", show=_details))
    rows = remote_or_local(
        lambda c: c.get("/auditor/audit", params={"limit": limit}), lambda ctx, who: events(ctx, who, limit)
    )
    emit(console, "审计事件 / audit events", columns, rows, fmt)


def _details(details: dict) -> str:
    return "; ".join(f"{k}={_flat(v)}" for k, v in details.items())


def _flat(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


@audit_app.command("purge")
@friendly_errors
def purge(
    before: Annotated[str, typer.Option(help="清除此日期之前的事件 / purge events before YYYY-MM-DD")],
) -> None:
    """清除三年以上的审计事件 / purge audit events older than the 3-year retention."""
    from sandbox.governance.audit_log import purge as purge_events

    ctx = context()
    removed = purge_events(ctx, acting(ctx), parse_date(before, "--before"))
    console.print(f"已清除 / purged: {removed}")
