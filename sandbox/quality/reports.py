"""Quality reports per dataset and per provider, as JSON and as a self-contained HTML page (zh/en).

Reports carry counts and scores only — never keys or values — and name the tickets (QT-000042)
a provider answers; they sit in the provider's tickets zone beside the GX Data Docs they link to.
The HTML summary draws its charts as inline SVG: score per GB/T 36344 dimension, score across
versions, the rules failing most. Pages are written through ``pages.write_page``: nothing loaded
from outside, the CJK font stack declared.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.context import PlatformContext
from sandbox.display import shanghai_time
from sandbox.domain.errors import NotFoundError
from sandbox.domain.quality import OPEN_STATES, Dimension, Severity, TicketState, ticket_label
from sandbox.governance.access import Principal, audited_refusals
from sandbox.quality import charts, zone
from sandbox.quality.access import check_may_read_provider, readable_dataset
from sandbox.quality.pages import write_page
from sandbox.quality.scorecard import build_scorecard, scorecard_view
from sandbox.quality.tickets import shanghai_today
from sandbox.store import catalog_repo
from sandbox.store.models import QualityRuleResultRow, QualityRunRow, QualityTicketRow

TOP_FAILING = 5


def _tickets_by_state(session: Session, **where) -> dict[str, int]:
    query = select(QualityTicketRow.state)
    for name, value in where.items():
        query = query.where(getattr(QualityTicketRow, name) == value)
    counts = Counter(session.scalars(query))
    return {state.value: counts.get(state.value, 0) for state in TicketState}


def _ticket_list(session: Session, *, open_only: bool = False, **where) -> list[dict[str, Any]]:
    """Tickets by id, open ones first: rule, state, counts and due date — never keys."""
    query = select(QualityTicketRow)
    for name, value in where.items():
        query = query.where(getattr(QualityTicketRow, name) == value)
    if open_only:
        query = query.where(QualityTicketRow.state.in_([s.value for s in OPEN_STATES]))
    tickets = sorted(session.scalars(query), key=lambda t: (TicketState(t.state) not in OPEN_STATES, -t.id))
    return [
        {
            "id": ticket_label(t.id),
            "dataset": t.dataset_id,
            "rule": t.rule_id,
            "column": t.column_label,
            "state": t.state,
            "keys": t.key_count,
            "remaining": t.remaining_count,
            "due_on": t.due_on,
        }
        for t in tickets
    ]


def dataset_report(session: Session, dataset_id: str) -> dict[str, Any]:
    """The latest run of a dataset with its rules, dimension scores, trend and tickets."""
    dataset = catalog_repo.get_dataset(session, dataset_id)
    runs = list(
        session.scalars(
            select(QualityRunRow)
            .where(QualityRunRow.dataset_id == dataset_id)
            .order_by(QualityRunRow.finished_at)
        )
    )
    if dataset is None or not runs:
        raise NotFoundError(
            f"数据集 {dataset_id} 尚无质量检查结果", f"dataset {dataset_id} has no quality run yet"
        )
    run = runs[-1]
    rules = list(
        session.scalars(
            select(QualityRuleResultRow)
            .where(QualityRuleResultRow.run_id == run.id)
            .order_by(QualityRuleResultRow.id)
        )
    )
    scores = json.loads(run.dimension_scores_json)
    latest_by_version = {r.version: r for r in runs}
    failing = sorted((r for r in rules if r.unexpected_rows), key=lambda r: -r.unexpected_rows)[:TOP_FAILING]
    tickets = _ticket_list(session, dataset_id=dataset_id)
    open_for_rule = {}
    for t in reversed(tickets):  # the oldest open ticket of a rule is its one
        if TicketState(t["state"]) in OPEN_STATES:
            open_for_rule.setdefault(t["rule"], t["id"])
    return {
        "dataset": {
            "id": dataset.id,
            "title": dataset.title,
            "provider": dataset.provider_id,
            "update_cycle": dataset.update_cycle,
        },
        "run": {
            "id": run.id,
            "version": run.version,
            "as_of": run.as_of,
            "finished_at": run.finished_at,
            "rows": run.row_count,
            "score": run.score,
            "gx_success": run.gx_success,
            "data_docs": run.gx_result_path,
            "suite": Path(run.suite_source).name,
        },
        "dimensions": [{"dimension": d.value, "en": d.en, "score": scores.get(d.value)} for d in Dimension],
        "rules": [
            {
                "id": r.rule_id,
                "check": r.check,
                "column": r.column_label,
                "dimension": r.dimension,
                "severity": r.severity,
                "success": r.success,
                "rows": r.element_count,
                "failing_rows": r.unexpected_rows,
                "failing_keys": r.failing_keys,
                "excepted_keys": r.excepted_keys,
                "score": r.score,
                "ticket": open_for_rule.get(r.rule_id),
            }
            for r in rules
        ],
        "top_failing": [
            {"id": r.rule_id, "column": r.column_label, "failing_rows": r.unexpected_rows} for r in failing
        ],
        "trend": [
            {"version": v, "score": r.score, "as_of": r.as_of, "run": r.id}
            for v, r in sorted(latest_by_version.items())
        ],
        "tickets": _tickets_by_state(session, dataset_id=dataset_id),
        "ticket_list": tickets,
    }


def provider_report(ctx: PlatformContext, provider_id: str) -> dict[str, Any]:
    card = build_scorecard(ctx, provider_id, today=shanghai_today())
    with ctx.sessions() as session:
        tickets = _tickets_by_state(session, provider_id=provider_id)
        open_tickets = _ticket_list(session, open_only=True, provider_id=provider_id)
    return {**scorecard_view(card), "tickets_by_state": tickets, "open_ticket_list": open_tickets}


# -- HTML --------------------------------------------------------------------------------------

_STYLE = """
body{margin:2em;color:#263238;max-width:960px}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #cfd8dc}
table{border-collapse:collapse}td,th{border:1px solid #cfd8dc;padding:4px 8px;font-size:13px;text-align:left}
.score{font-size:2.2em;font-weight:bold}.muted{color:#607d8b;font-size:12px}.bad{color:#c62828}
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}"
        '<p class="muted">数域 Shuyu — 报告仅含统计结果，不含任何记录键值 / counts only, no record keys or values</p>'
        "</body></html>"
    )


class Markup(str):
    """A table cell that is already HTML (a link we built), so it is not escaped again."""


def _cell(value: Any) -> str:
    return value if isinstance(value, Markup) else escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def dataset_html(report: dict[str, Any], docs_link: str) -> str:
    d, run = report["dataset"], report["run"]
    dimensions = [
        (f"{x['dimension']} {x['en']}", x["score"]) for x in report["dimensions"] if x["score"] is not None
    ]
    trend = [(f"v{t['version']}", t["score"]) for t in report["trend"]]
    failing = [(f"{r['id']} ({r['column']})", r["failing_rows"]) for r in report["top_failing"]]
    rules = [
        [
            r["id"],
            r["column"],
            r["dimension"],
            f"{Severity(r['severity']).zh} {r['severity']}",
            f"{r['rows']:,}",
            f"{r['failing_rows']:,}",
            f"{r['failing_keys']:,}",
            r["excepted_keys"],
            f"{r['score']:.2f}",
            r["ticket"] or "—",
        ]
        for r in report["rules"]
    ]
    tickets = [[state, TicketState(state).zh, n] for state, n in report["tickets"].items() if n]
    body = (
        f"<h1>{escape(d['title'])}（{escape(d['id'])}）数据质量报告 / data quality report</h1>"
        f"<p>版本 / version v{run['version']} · 行数 / rows {run['rows']:,} · 评估基准日 / as of {run['as_of']} · "
        f"完成 / finished {shanghai_time(run['finished_at'])}（北京时间 / Asia/Shanghai）</p>"
        f'<p class="score">{run["score"]:.2f} <span class="muted">/ 100 综合得分 / overall</span></p>'
        f'<p><a href="{escape(docs_link)}">GX Data Docs 校验明细 / validation details</a></p>'
        f"<h2>各维度得分（GB/T 36344-2018）/ score per dimension</h2>{charts.score_bars(dimensions)}"
        f"<h2>各版本得分趋势 / trend across versions</h2>{charts.trend_line(trend)}"
        f"<h2>不合格最多的规则 / top failing rules</h2>{charts.count_bars(failing)}"
        "<h2>规则明细 / rules</h2>"
        + _table(
            [
                "规则 rule",
                "列 column",
                "维度 dimension",
                "严重度 severity",
                "行数 rows",
                "不合格行 failing rows",
                "不合格键 failing keys",
                "例外 exceptions",
                "得分 score",
                "工单 ticket",
            ],
            rules,
        )
        + "<h2>整改工单 / tickets</h2>"
        + _table(["状态 state", "状态", "数量 count"], tickets)
        + _tickets_table(report["ticket_list"])
    )
    return _page(f"{d['title']} 数据质量报告", body)


def _tickets_table(tickets: list[dict[str, Any]]) -> str:
    return _table(
        ["工单 ticket", "数据集 dataset", "规则 rule", "列 column", "状态 state", "键数 keys", "未解决 remaining",
         "截止 due"],
        [[t["id"], t["dataset"], t["rule"], t["column"] or "—", f"{TicketState(t['state']).zh} {t['state']}",
          f"{t['keys']:,}", f"{t['remaining']:,}", t["due_on"]] for t in tickets],
    )  # fmt: skip


def provider_html(report: dict[str, Any]) -> str:
    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    scores = [(f"{x['title']} {x['id']}", x["score"]) for x in report["datasets"] if x["score"] is not None]
    datasets = [
        [
            x["id"],
            x["title"],
            "—" if x["score"] is None else f"{x['score']:.2f}",
            "—" if x["change"] is None else f"{x['change']:+.2f}",
            " → ".join(f"v{t['version']}:{t['score']:.1f}" for t in x["trend"]),
            Markup(f'<a href="{escape(x["id"])}.html">报告 report</a>'),
        ]
        for x in report["datasets"]
    ]
    usage = [
        [u["dataset"], u["scenarios"], u["granted_columns"], ", ".join(u["products"]) or "—", u["releases"]]
        for u in report["usage"]
    ]
    hours, quality = report["median_response_hours"], report["quality_score"]
    body = (
        f"<h1>{escape(report['name'])}（{escape(report['provider'])}）数据提供单位评价 / provider scorecard</h1>"
        f'<p class="score">{"—" if quality is None else f"{quality:.2f}"}'
        ' <span class="muted">/ 100 数据质量 / data quality</span></p>'
        f"<h2>数据质量 / data quality</h2>{charts.score_bars(scores)}"
        + _table(["数据集 dataset", "名称 title", "得分 score", "变化 change", "趋势 trend", ""], datasets)
        + "<h2>整改时效 / ticket response</h2>"
        + _table(
            ["指标 measure", "值 value"],
            [
                ["工单总数 / tickets", report["tickets"]],
                ["未关闭 / open", report["open_tickets"]],
                ["已答复 / answered", report["answered"]],
                ["答复用时中位数（小时）/ median response (hours)", "—" if hours is None else hours],
                ["按期答复比例 / answered by the deadline", share(report["answered_on_time_share"])],
                ["逾期比例 / overdue share", share(report["overdue_share"])],
            ],
        )
        + "<h2>未关闭工单 / open tickets</h2>"
        + _tickets_table(report["open_ticket_list"])
        + "<h2>数据应用情况 / use in products</h2>"
        + _table(
            [
                "数据集 dataset",
                "场景数 scenarios",
                "授权列数 granted columns",
                "数据产品 products",
                "产品发布次数 releases",
            ],
            usage,
        )
    )
    return _page(f"{report['name']} 数据提供单位评价", body)


# -- files -------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_dataset_report(ctx: PlatformContext, provider_id: str, dataset_id: str) -> tuple[Path, Path]:
    out = zone.reports_dir(ctx.settings, provider_id)
    with ctx.sessions() as session:
        report = dataset_report(session, dataset_id)
    docs = os.path.relpath(zone.absolute(ctx.settings, report["run"]["data_docs"]), out)
    payload = json.dumps(report, ensure_ascii=False, indent=2)
    html = write_page(out / f"{dataset_id}.html", dataset_html(report, docs), (ctx.settings.home_dir,))
    return _write(out / f"{dataset_id}.json", payload), html


def write_provider_report(ctx: PlatformContext, provider_id: str) -> tuple[Path, Path]:
    out = zone.reports_dir(ctx.settings, provider_id)
    report = provider_report(ctx, provider_id)
    payload = json.dumps(report, ensure_ascii=False, indent=2)
    html = write_page(out / "index.html", provider_html(report), (ctx.settings.home_dir,))
    return _write(out / "index.json", payload), html


def refresh(ctx: PlatformContext, provider_id: str, dataset_id: str) -> None:
    """After a run: the dataset's report and its provider's summary."""
    write_dataset_report(ctx, provider_id, dataset_id)
    write_provider_report(ctx, provider_id)


def report_for_dataset(ctx: PlatformContext, actor: Principal, dataset_id: str) -> tuple[Path, Path]:
    dataset = readable_dataset(ctx, actor, dataset_id)
    return write_dataset_report(ctx, dataset.provider_id, dataset_id)


def report_for_provider(ctx: PlatformContext, actor: Principal, provider_id: str) -> tuple[Path, Path]:
    with audited_refusals(ctx, actor, "quality.report", "provider", provider_id):
        check_may_read_provider(actor, provider_id)
    with ctx.sessions() as session:  # staff name any provider: an unknown one is a 404, never a report path
        if catalog_repo.get_provider(session, provider_id) is None:
            raise NotFoundError("没有这个数据提供单位", "no such provider")
    return write_provider_report(ctx, provider_id)
