"""``sandbox quality run|report|scorecard|suite|webhook`` and ``sandbox ticket list|show|ack|fix|dispute|decide|raise|verify|reopen|export``.

Every command acts as ``--as USER``; the services decide what that user may see, so a
provider's user gets its own tickets, reports and scorecard only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import (
    DatasetArg,
    IdParam,
    TicketArg,
    WaitOption,
    console,
    friendly_errors,
    id_argument,
    id_option,
    parse_date,
    queued,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, Section, emit, emit_record, emit_show, write_json
from sandbox.cli.progress import progress
from sandbox.domain.identifiers import IdKind
from sandbox.domain.labels import label_of
from sandbox.domain.quality import Severity, TicketState

quality_app = typer.Typer(help="数据质量检查与报告 / data quality runs and reports", no_args_is_help=True)
ticket_app = typer.Typer(help="整改工单 / correction tickets", no_args_is_help=True)

#: Who reads tickets, and where (``quality.access.visible_tickets``): staff all of them and a provider its
#: own (the inbox, ``/provider/tickets``); a developer the requests they raised (``/developer/tickets``).
TICKET_READERS = {"operator": "/provider", "admin": "/provider", "provider": "/provider",
                  "developer": "/developer"}  # fmt: skip
#: Who exports them with their failing keys: the same readers, staff at their own router.
TICKET_EXPORTERS = {**TICKET_READERS, "operator": "/operator", "admin": "/operator"}
#: Who raises a data correction request (``check_may_raise``): operators, and developers on a scenario that uses
#: the dataset; operators first, as the service checks them first.
TICKET_RAISERS = {"operator": "/operator", "developer": "/developer"}


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")
    app.add_typer(ticket_app, name="ticket")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@quality_app.command("run")
@friendly_errors
def run(
    datasets: Annotated[list[str], id_argument(IdKind.DATASET, metavar="DATASET...")],
    version: Annotated[
        int | None, typer.Option(help="原始区版本，默认最新 / raw version, default latest")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="评估基准日 YYYY-MM-DD，默认为该版本的交付日 / reference date, default: the version's delivery day"
        ),
    ] = None,
    cross_check: Annotated[
        bool,
        typer.Option(
            "--cross-check",
            help="另由 GX 的 Spark 引擎独立校验并核对计数（多一次全量扫描）/ also let GX's Spark engine "
            "validate the version and compare its counts (one more full scan)",
        ),
    ] = False,
    wait: WaitOption = True,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """在生产侧对原始数据运行质量规则（经服务时每个数据集排队一个任务）/ run the quality suite on raw data
    (production side; through a service one queued task per dataset)."""
    from sandbox.quality.runner import run_quality

    day = parse_date(as_of, "--as-of") if as_of else None

    def through_service(client) -> list[dict] | None:
        tasks = client.post("/operator/quality/runs", json={"datasets": datasets, "version": version,
                                                            "as_of": day and day.isoformat(), "cross_check": cross_check})  # fmt: skip
        results = [queued(client, task, wait=wait) for task in tasks]
        return results if wait else None

    def on_host(ctx, who) -> list[dict]:
        with progress("数据质量检查", "quality run") as stage:
            return [run_quality(ctx, who, dataset, version=version, as_of=day, cross_check=cross_check,
                                stages=stage).view() for dataset in datasets]  # fmt: skip

    rows = remote_or_local(through_service, on_host)
    if rows is None:
        return
    columns = [
        Col("dataset", "数据集", "dataset", ident=True),
        Col("version", "版本", "version", show=lambda v: f"v{v}"),
        Col("as_of", "基准日", "as of"),
        Col("rows", "行数", "rows"),
        Col("score", "得分", "score"),
        Col(
            "dimension_scores",
            "各维度",
            "dimensions",
            show=lambda d: ", ".join(f"{k} {v:.1f}" for k, v in d.items()),
        ),
        Col("raised", "新工单", "new tickets"),
        Col("verified", "已核验", "verified"),
        Col("reopened", "重新打开", "reopened"),
        Col("docs", "GX Data Docs", "GX Data Docs", ident=True),
    ]
    emit(console, "数据质量检查 / quality runs", columns, rows, fmt)


@quality_app.command("report")
@friendly_errors
def report(
    dataset: Annotated[str | None, id_argument(IdKind.DATASET)] = None,
    provider: Annotated[
        str | None, id_option(IdKind.PROVIDER, help="数据提供单位（汇总报告）/ provider summary")
    ] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """生成并显示数据集或数据提供单位的质量报告（HTML + JSON）/ write and show a quality report."""
    from sandbox.quality.access import provider_of
    from sandbox.quality.reports import report_for_dataset, report_for_provider

    def through_service(client) -> tuple[dict, str, str]:  # where to read it: the service's pages
        path = f"/provider/datasets/{dataset}/quality" if dataset else "/provider/quality"
        params = {} if dataset else {"provider": provider}
        where = client.url(path)
        query = f"?provider={provider}" if provider and not dataset else ""
        return client.get(path, params=params), f"{where}.html{query}", f"{where}{query}"

    def on_host(ctx, who) -> tuple[dict, str, str]:
        json_path, html_path = (
            report_for_dataset(ctx, who, dataset)
            if dataset
            else report_for_provider(ctx, who, provider_of(who, provider))
        )
        return json.loads(json_path.read_text(encoding="utf-8")), str(html_path), str(json_path)

    data, html_path, json_path = remote_or_local(through_service, on_host)
    if fmt is Format.JSON:
        write_json({**data, "html": html_path, "json": json_path})
        return
    if dataset:
        run_ = data["run"]
        fields = [
            (Col("dataset", "数据集", "dataset", ident=True), dataset),
            (Col("title", "名称", "title"), data["dataset"]["title"]),
            (Col("version", "版本", "version", show=lambda v: f"v{v}"), run_["version"]),
            (Col("score", "得分", "score"), run_["score"]),
            *((Col(d["en"], d["dimension"], d["en"]), d["score"]) for d in data["dimensions"] if d["score"] is not None),
        ]  # fmt: skip
    else:
        fields = [
            (Col("provider", "数据提供单位", "provider", ident=True), data["provider"]),
            (Col("name", "名称", "name"), data["name"]),
            (Col("quality_score", "数据质量", "quality"), data["quality_score"]),
        ]
    fields += [(Col("html", "HTML", "HTML", ident=True), html_path),
               (Col("json", "JSON", "JSON", ident=True), json_path)]  # fmt: skip
    emit_record(console, "质量报告 / quality report", fields, fmt)


@quality_app.command("scorecard")
@friendly_errors
def scorecard(
    provider: Annotated[str | None, id_argument(IdKind.PROVIDER)] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """数据提供单位评价：数据质量、整改时效、应用情况 / provider scorecard."""
    from sandbox.quality.access import provider_of
    from sandbox.quality.scorecard import scorecard as build
    from sandbox.quality.scorecard import scorecard_view

    card = remote_or_local(
        lambda c: c.get("/provider/scorecard", params={"provider": provider}),
        lambda ctx, who: scorecard_view(build(ctx, who, provider_of(who, provider))),
    )
    print_scorecard(card, fmt)


def print_scorecard(card: dict, fmt: Format = Format.TABLE) -> None:
    """A provider's scorecard (``scorecard_view``)."""
    name = f"{card['name']}（{card['provider']}）"
    quality = Section("quality", f"{name}数据质量 / data quality", [
        Col("dataset", "数据集", "dataset", ident=True), Col("score", "得分", "score"),
        Col("change", "变化", "change", show=lambda v: f"{v:+.2f}"),
        Col("trend", "趋势", "trend", show=lambda t: " → ".join(f"v{v}:{s:.1f}" for v, s in t)),
    ], [{"dataset": d["id"], "score": d["score"], "change": d["change"],
         "trend": [[t["version"], t["score"]] for t in d["trend"]]} for d in card["datasets"]])  # fmt: skip
    usage = Section("usage", "数据应用情况 / use in products", [
        Col("dataset", "数据集", "dataset", ident=True), Col("scenarios", "场景", "scenarios"),
        Col("granted_columns", "授权列", "columns"), Col("products", "产品", "products"),
        Col("releases", "发布", "releases"),
    ], card["usage"])  # fmt: skip
    fields = [(c, card[c.key]) for c in (
        Col("provider", "数据提供单位", "provider", ident=True), Col("quality_score", "数据质量", "quality"),
        Col("tickets", "工单", "tickets"), Col("open_tickets", "未关闭", "open"), Col("answered", "已答复", "answered"),
        Col("median_response_hours", "答复用时中位数（小时）", "median response (hours)"),
        Col("answered_on_time_share", "按期答复", "answered on time", show=_share),
        Col("overdue_share", "逾期", "overdue", show=_share),
    )]  # fmt: skip
    emit_show(console, f"{name}评价 / scorecard", fields, [quality, usage], fmt)


@quality_app.command("suite")
@friendly_errors
def suite(dataset: DatasetArg) -> None:
    """显示数据集生效的质量规则 / show the rule suite a dataset is checked with."""
    from sandbox.catalog.service import get_dataset
    from sandbox.quality.suites import suite_view

    suite = remote_or_local(
        lambda c: c.get(f"/provider/datasets/{dataset}/suite"),
        lambda ctx, _who: suite_view(ctx, get_dataset(ctx, dataset)),
    )
    console.print(f"# 来源 / source: {suite['source']}", markup=False)
    console.print(suite["yaml"], markup=False)


@quality_app.command("webhook")
@friendly_errors
def webhook(
    provider: Annotated[str, id_argument(IdKind.PROVIDER)],
    url: Annotated[
        str, typer.Argument(help="接收通知的 HTTPS 地址 / the HTTPS address that receives notifications")
    ],
) -> None:
    """登记数据提供单位接收工单通知的地址（HMAC 签名）/ register a provider's ticket webhook."""
    from sandbox.quality.webhooks import register_endpoint

    key = remote_or_local(
        lambda c: c.post("/provider/webhook", json={"url": url, "provider": provider})["signing_key"],
        lambda ctx, who: register_endpoint(ctx, who, provider, url).hex(),
    )
    console.print(f"已登记 / registered {url}")
    console.print(f"签名密钥（仅显示一次）/ signing key (shown once): {key}")


# -- tickets -----------------------------------------------------------------------------------


_TICKET_COLUMNS = [
    Col("ticket", "工单", "ticket", ident=True),
    Col("dataset", "数据集", "dataset", ident=True),
    Col("rule", "规则", "rule", ident=True),
    Col("column", "列", "column"),
    Col("severity", "严重度", "severity", show=lambda v: label_of(Severity, v)),
    Col("keys", "键数", "keys"),
    Col("remaining", "未解决", "remaining"),
    Col("state", "状态", "state", show=lambda v: label_of(TicketState, v)),
    Col("due_on", "截止", "due"),
]


@ticket_app.command("list")
@friendly_errors
def ticket_list(
    dataset: Annotated[str | None, id_option(IdKind.DATASET)] = None,
    state: Annotated[str | None, typer.Option(help="状态 / state: " + "|".join(TicketState))] = None,
    provider: Annotated[str | None, id_option(IdKind.PROVIDER)] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """列出可见的整改工单 / list the tickets you may see."""
    from sandbox.quality.tickets import list_tickets, ticket_view

    rows = remote_or_local(
        lambda c: c.get(f"{c.route(TICKET_READERS)}/tickets",
                        params={"dataset": dataset, "state": state, "provider": provider}),
        lambda ctx, who: [ticket_view(t) for t in list_tickets(ctx, who, dataset_id=dataset, state=state,
                                                               provider_id=provider)],
    )  # fmt: skip
    emit(console, "整改工单 / tickets", _TICKET_COLUMNS, rows, fmt)


@ticket_app.command("show")
@friendly_errors
def ticket_show(ticket: TicketArg, fmt: FormatOption = Format.TABLE) -> None:
    """显示工单详情（示例键与不合格列）/ show a ticket with example keys and the failing column."""
    from sandbox.quality.tickets import get_ticket, ticket_detail

    row = remote_or_local(
        lambda c: c.get(f"{c.route(TICKET_READERS)}/tickets/{ticket}"),
        lambda ctx, who: ticket_detail(get_ticket(ctx, who, ticket)),
    )
    fields = [(c, row[c.key]) for c in _TICKET_COLUMNS] + [
        (Col("dimension", "维度", "dimension"), row["dimension"]),
        (Col("description", "问题", "issue"), row["description"]),
        (Col("suggested_fix", "建议", "suggested fix"), row["suggested_fix"]),
        (Col("examples", "示例键", "example keys"), row["examples"]),
        (Col("raised_by", "提出人", "raised by", ident=True), row["raised_by"]),
        (Col("created_at", "创建", "raised", time=True), row["created_at"]),
        (Col("note", "备注", "note"), row["note"]),
    ]
    emit_record(console, f"{row['ticket']} {row['dataset']} / {row['rule']}", fields, fmt)


def _ticket_action(ticket: str, path: str, body: dict, call) -> None:
    """``POST path`` through a service (it answers with the ticket's view), ``call(ctx, who)`` locally; then
    the ticket's new state."""
    from sandbox.quality.tickets import ticket_view

    t = remote_or_local(lambda c: c.post(path, json=body), lambda ctx, who: ticket_view(call(ctx, who)))
    console.print(f"{t['ticket']}: {label_of(TicketState, t['state'])}")


@ticket_app.command("ack")
@friendly_errors
def ticket_ack(
    ticket: TicketArg, note: Annotated[str | None, typer.Option(help="说明 / note")] = None
) -> None:
    """确认收到工单 / acknowledge a ticket."""
    from sandbox.quality.tickets import acknowledge

    _ticket_action(ticket, f"/provider/tickets/{ticket}/ack", {"note": note},
                   lambda ctx, who: acknowledge(ctx, who, ticket, note))  # fmt: skip


@ticket_app.command("fix")
@friendly_errors
def ticket_fix(
    ticket: TicketArg, note: Annotated[str, typer.Option(help="整改说明 / what was corrected")]
) -> None:
    """报告已整改；交付新版本后由质量检查自动核验 / report a ticket fixed; the next version's run verifies it."""
    from sandbox.quality.tickets import mark_fixed

    _ticket_action(ticket, f"/provider/tickets/{ticket}/fix", {"note": note},
                   lambda ctx, who: mark_fixed(ctx, who, ticket, note))  # fmt: skip


@ticket_app.command("dispute")
@friendly_errors
def ticket_dispute(ticket: TicketArg, reason: Annotated[str, typer.Option(help="异议理由 / reason")]) -> None:
    """对工单提出异议 / dispute a ticket."""
    from sandbox.quality.tickets import dispute

    _ticket_action(ticket, f"/provider/tickets/{ticket}/dispute", {"reason": reason},
                   lambda ctx, who: dispute(ctx, who, ticket, reason))  # fmt: skip


@ticket_app.command("decide")
@friendly_errors
def ticket_decide(
    ticket: TicketArg,
    comment: Annotated[str, typer.Option(help="理由 / reason")],
    uphold: Annotated[
        bool, typer.Option("--uphold/--reject", help="异议成立或驳回 / uphold or reject")
    ] = False,
) -> None:
    """裁决异议：成立则关闭工单并将键记为例外 / decide a dispute."""
    from sandbox.quality.tickets import decide

    _ticket_action(ticket, f"/operator/tickets/{ticket}/decide", {"comment": comment, "uphold": uphold},
                   lambda ctx, who: decide(ctx, who, ticket, uphold=uphold, comment=comment))  # fmt: skip


def _confirm_command(name: str, verified: bool, help_text: str):
    @ticket_app.command(name, help=help_text)
    @friendly_errors
    def command(ticket: TicketArg, comment: Annotated[str, typer.Option(help="说明 / comment")] = "") -> None:
        from sandbox.quality.tickets import confirm_request

        _ticket_action(ticket, f"/operator/tickets/{ticket}/{name}", {"comment": comment},
                       lambda ctx, who: confirm_request(ctx, who, ticket, verified=verified, comment=comment))  # fmt: skip

    return command


_confirm_command("verify", True, "核验人工校核需求已整改 / confirm a manual request is fixed")
_confirm_command("reopen", False, "人工校核需求未整改，重新打开 / reopen a manual request")


@ticket_app.command("raise")
@friendly_errors
def ticket_raise(
    dataset: DatasetArg,
    description: Annotated[str, typer.Option(help="需要校核的问题 / what needs checking")],
    column: Annotated[str, typer.Option(help="相关列 / column")] = "",
    severity: Annotated[str, typer.Option(help="严重度 / severity: high|medium|low")] = "medium",
    dimension: Annotated[
        str, typer.Option(help="维度 / dimension: 规范性|完整性|准确性|一致性|时效性|可访问性")
    ] = "准确性",
) -> None:
    """提出数据治理校核需求 / raise a manual data correction request."""
    from sandbox.domain.errors import InvalidInput
    from sandbox.domain.quality import Dimension
    from sandbox.quality.tickets import raise_request

    try:
        level, aspect = Severity(severity), Dimension(dimension)
    except ValueError:
        raise InvalidInput(
            f"严重度或维度无效：{severity} {dimension}",
            f"invalid severity or dimension: {severity} {dimension}",
        ) from None
    from sandbox.quality.tickets import ticket_view

    t = remote_or_local(
        lambda c: c.post(f"{c.route(TICKET_RAISERS)}/tickets", json={
            "dataset": dataset, "description": description, "column": column, "severity": level, "dimension": aspect}),
        lambda ctx, who: ticket_view(raise_request(ctx, who, dataset, description, column=column, severity=level,
                                                   dimension=aspect)),
    )  # fmt: skip
    console.print(f"已提出 / raised {t['ticket']}（{t['provider']}，截止 / due {t['due_on']}）")


@ticket_app.command("export")
@friendly_errors
def ticket_export(
    out: Annotated[Path, typer.Argument(help="输出文件 .xlsx 或 .csv / output file")],
    tickets: Annotated[
        list[str] | None,
        typer.Argument(
            parser=IdParam(IdKind.TICKET),
            metavar="TICKET...",
            help="工单，默认全部可见 / tickets, default all visible",
        ),
    ] = None,
    dataset: Annotated[str | None, id_option(IdKind.DATASET)] = None,
    state: Annotated[str | None, typer.Option(help="状态 / state")] = None,
) -> None:
    """导出工单及不合格键（XLSX/CSV）/ export tickets with their failing keys."""
    from sandbox.quality.export import export_tickets

    def through_service(client) -> Path:
        content = client.get(f"{client.route(TICKET_EXPORTERS)}/tickets/export", params={
            "format": out.suffix.lower().lstrip("."), "ticket": tickets or [], "dataset": dataset, "state": state})  # fmt: skip
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
        return out

    path = remote_or_local(
        through_service,
        lambda ctx, who: export_tickets(ctx, who, out, refs=tickets or None, dataset_id=dataset, state=state),
    )
    console.print(f"已导出 / exported: {path}", highlight=False)
