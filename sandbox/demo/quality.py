"""The demo's quality loop: operator-1 runs every dataset's suite; scorecards and tickets are printed."""

from __future__ import annotations

from collections import Counter
from datetime import date

from rich.console import Console

from sandbox.context import PlatformContext


def run_demo_quality(ctx: PlatformContext, console: Console, as_of: date) -> None:
    """Run the suites on every dataset's latest version (as of the county's reference date) and report."""
    from sandbox.catalog.service import list_datasets
    from sandbox.cli.output import Col, emit
    from sandbox.cli.quality import print_scorecard
    from sandbox.domain.labels import label_of
    from sandbox.domain.quality import TicketState
    from sandbox.governance.access import principal_for
    from sandbox.quality.runner import run_quality
    from sandbox.quality.scorecard import scorecard, scorecard_view
    from sandbox.quality.tickets import list_tickets

    operator = principal_for(ctx, "operator-1")
    runs, providers = [], []
    for row, latest in list_datasets(ctx):
        if latest is None:
            continue
        with console.status(f"质量检查 / checking {row.id}…"):
            summary = run_quality(ctx, operator, row.id, as_of=as_of)
        failing = sum(1 for o in summary.outcomes if not o.success)
        runs.append({"dataset": row.id, "version": f"v{summary.version}", "score": summary.score,
                     "failing": f"{failing}/{len(summary.outcomes)}", "raised": len(summary.raised)})  # fmt: skip
        if row.provider_id not in providers:
            providers.append(row.provider_id)
    columns = [Col("dataset", "数据集", "dataset", ident=True), Col("version", "版本", "version"),
               Col("score", "得分", "score"), Col("failing", "不合格规则", "failing rules"),
               Col("raised", "新工单", "tickets")]  # fmt: skip
    emit(console, "质量检查 / quality runs", columns, runs)
    for provider_id in providers:
        print_scorecard(scorecard_view(scorecard(ctx, operator, provider_id)))
    states = Counter(t.state for t in list_tickets(ctx, operator))
    console.print(
        "整改工单 / tickets: "
        + "，".join(f"{label_of(TicketState, s)} {n}" for s, n in sorted(states.items()))
        + f"；报告 / reports: {ctx.settings.home_dir / 'tickets'}/<provider>/reports/index.html"
    )
