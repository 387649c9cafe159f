"""``sandbox audit verify|log|purge``."""

from __future__ import annotations

import json
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
)
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.domain.identity import Role

audit_app = typer.Typer(help="审计链 / audit chain", no_args_is_help=True)
READERS = {Role.ADMIN, Role.OPERATOR, Role.AUDITOR}


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def _reader(ctx, what_zh: str, what_en: str):
    from sandbox.governance.access import audited_refusals, check_role

    actor = acting(ctx)
    with audited_refusals(ctx, actor, "audit.read", "audit", "*"):
        check_role(actor, READERS, what_zh, what_en)
    return actor


@audit_app.command("verify")
@friendly_errors
def verify() -> None:
    """校验整条审计链 / verify the whole audit chain; names the first bad event."""
    ctx = context()
    _reader(ctx, "校验审计链", "verify the audit chain")
    result = ctx.verify_audit()
    if result.ok:
        console.print(f"[green]✓[/] {result.message}")
        return
    err_console.print(f"[bold red]✗[/] {result.message}")
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
    from sandbox.audit.chain import recent

    ctx = context()
    _reader(ctx, "查看审计日志", "read the audit log")
    columns = [
        Col("seq", "序号", "seq", ident=True, show=str),
        Col("ts", "时间", "time", time=True),
        Col("actor", "操作者", "actor", ident=True),
        Col("action", "动作", "action", ident=True),
        Col("object", "对象", "object", ident=True),
    ]
    if details or fmt is not Format.TABLE:
        columns.append(Col("details", "详情", "details", show=_details))
    with ctx.sessions() as session:
        rows = [{"seq": e.seq, "ts": e.ts, "actor": e.actor, "action": e.action,
                 "object": f"{e.object_type}:{e.object_id}", "details": json.loads(e.details)} for e in recent(session, limit)]  # fmt: skip
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
    from sandbox.audit.retention import purge_before
    from sandbox.governance.access import audited_refusals, check_role
    from sandbox.store.keys import PLATFORM_KEY

    ctx = context()
    actor = acting(ctx)
    with audited_refusals(ctx, actor, "audit.purge", "audit", before):
        check_role(actor, {Role.ADMIN}, "清除审计日志", "purge the audit log")
        with ctx.transaction() as session:
            removed = purge_before(session, ctx.keys.get(PLATFORM_KEY), parse_date(before, "--before"))
            ctx.audit(session, "audit.purged", "audit", before, actor=actor.username, removed=removed)
    console.print(f"已清除 / purged: {removed}")
