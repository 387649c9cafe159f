"""``sandbox dev run`` and ``sandbox job submit|list|show|review|promote|runs|logs``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax

from sandbox.cli.common import acting, console, context, friendly_errors, table

dev_app = typer.Typer(help="在样例数据上开发 / develop on samples", no_args_is_help=True)
job_app = typer.Typer(
    help="作业提交、审核与转生产 / job submission, review and promotion", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(dev_app, name="dev")
    app.add_typer(job_app, name="job")


def print_gate(gate: dict) -> None:
    """The gate's verdict per output: released and suppressed cells by reason (never suppressed values)."""
    for name, outcome in gate.get("outputs", {}).items():
        reasons = (
            ", ".join(f"{k} {v}" for k, v in sorted(outcome.get("suppressed_by_reason", {}).items())) or "—"
        )
        refusal = outcome.get("refusal")
        status = (
            f"[red]拒绝 / refused: {refusal}[/]"
            if refusal
            else f"发布 / released {outcome.get('released', 0)}"
        )
        console.print(f"  {name}: {status}；抑制 / suppressed {outcome.get('suppressed', 0)}（{reasons}）")


@dev_app.command("run")
@friendly_errors
def dev_run(
    job_dir: Path,
    watch: Annotated[
        bool, typer.Option(help="保持 Spark 预热，文件变化时重跑 / keep Spark warm and re-run on change")
    ] = False,
) -> None:
    """在场景样例上运行作业，并显示门控的建议结论 / run a job on samples with the gate's advisory verdict."""
    from sandbox.runtime import dev

    ctx = context()
    spec = dev.prepare(ctx, acting(ctx), job_dir)
    for report in dev.run(spec, watch=watch):
        job = report["job"]
        if not job["ok"]:
            console.print(
                f"[red]✗ 作业失败 / job failed[/]: {job['error_type']} 第 {job['error_line']} 行 / line {job['error_line']}"
            )
            continue
        for name, frame in report.get("frames", {}).items():
            preview = table(
                f"{name}（{frame['rows']:,} 行贡献 / contribution rows，样例 / samples）", *frame["columns"]
            )
            for row in frame["preview"]:
                preview.add_row(*row)
            console.print(preview)
        console.print("门控建议（未发布）/ gate advisory (nothing released):")
        print_gate(report.get("gate", {}))
        console.print(f"用时 / took {report['seconds']}s")


@job_app.command("submit")
@friendly_errors
def submit(job_dir: Path) -> None:
    """提交作业（快照 + SHA-256 + 策略检查）/ submit a job (snapshot, SHA-256, policy check)."""
    from sandbox.runtime.submissions import submit as submit_job

    ctx = context()
    row = submit_job(ctx, acting(ctx), job_dir)
    console.print(f"已提交 / submitted: {row.id}（{row.job_id}，sha256 {row.code_sha256[:16]}）")


@job_app.command("list")
@friendly_errors
def list_jobs() -> None:
    """列出作业提交 / list submissions."""
    from sandbox.runtime.submissions import list_submissions

    ctx = context()
    rows = table(
        "作业提交 / submissions",
        "id",
        "作业 / job",
        "场景 / scenario",
        "提交人 / submitter",
        "状态 / state",
        "审核人 / reviewer",
    )
    for s in list_submissions(ctx, acting(ctx)):
        rows.add_row(s.id, s.job_id, s.scenario_id, s.submitter, s.state, s.reviewer or "")
    console.print(rows)


@job_app.command("show")
@friendly_errors
def show(submission_id: str) -> None:
    """审核包：代码、哈希与策略检查结果 / the review packet: code, hash and policy check."""
    from sandbox.runtime.submissions import review_packet

    ctx = context()
    packet = review_packet(ctx, acting(ctx), submission_id)
    s = packet["submission"]
    console.print(
        f"[bold]{s.id}[/] {s.job_id}（{s.title}）场景 / scenario {s.scenario_id}；提交人 / by {s.submitter}；sha256 {s.code_sha256}"
    )
    for name, text in packet["files"].items():
        lexer = {"py": "python", "toml": "toml", "md": "markdown"}.get(name.rsplit(".", 1)[-1], "text")
        console.rule(name)
        console.print(Syntax(text, lexer, line_numbers=True))
    findings = packet["findings"]
    console.print(
        "策略检查 / policy check: "
        + ("[green]通过 / passed[/]" if not findings else f"[red]{len(findings)} 项 / findings[/]")
    )
    for f in findings:
        console.print(f"  {f['file']}:{f['line']} [{f['rule']}] {f['zh']} / {f['en']}")


@job_app.command("review")
@friendly_errors
def review(
    submission_id: str,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="批准或驳回 / approve or reject")],
    comment: Annotated[str, typer.Option(help="审核意见 / comment")] = "",
) -> None:
    """审核作业（非提交人）/ review a job (not the submitter)."""
    from sandbox.runtime.submissions import review as review_job

    ctx = context()
    row = review_job(ctx, acting(ctx), submission_id, approve=approve, comment=comment)
    console.print(f"{row.id}: {row.state}")


@job_app.command("promote")
@friendly_errors
def promote(submission_id: str) -> None:
    """转入生产：隔离运行、门控、发布 / promote: isolated run, gate, release."""
    from sandbox.runtime.production import promote as promote_job

    ctx = context()
    run = promote_job(ctx, acting(ctx), submission_id)
    console.print(f"运行 / run {run.id}: {run.state}")
    if run.error_type:
        console.print(f"  {run.error_type} 第 {run.error_line} 行 / line {run.error_line}")
    if run.gate_summary_json:
        print_gate(json.loads(run.gate_summary_json))


@job_app.command("runs")
@friendly_errors
def runs(submission_id: Annotated[str | None, typer.Argument()] = None) -> None:
    """生产运行（开发人员只见状态）/ production runs (developers see status only)."""
    from sandbox.runtime.production import developer_view
    from sandbox.runtime.runs import list_runs

    ctx = context()
    rows = table("生产运行 / runs", "run", "状态 / state", "用时 / timings", "错误 / error", "开始 / started")
    for run in list_runs(ctx, acting(ctx), submission_id):
        view = developer_view(run)
        error = f"{view['error_type']} @ line {view['error_line']}" if view["error_type"] else ""
        rows.add_row(view["run"], view["state"], json.dumps(view["timings"]), error, view["started_at"])
    console.print(rows)


@job_app.command("logs")
@friendly_errors
def logs(run_id: str) -> None:
    """运行日志（仅运营审核人员）/ run logs (operators only)."""
    from sandbox.runtime.runs import operator_logs

    ctx = context()
    for name, text in operator_logs(ctx, acting(ctx), run_id).items():
        console.rule(name)
        console.print(text[-20000:], markup=False, highlight=False)
