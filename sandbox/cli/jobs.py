"""``sandbox dev run`` and ``sandbox job submit|list|show|review|promote|runs|logs``."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from sandbox.cli.common import (
    EXIT_NOT_DONE,
    JOB_READERS,
    RunArg,
    SubmissionArg,
    WaitOption,
    console,
    err_console,
    friendly_errors,
    id_argument,
    not_done,
    queued,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, Section, emit, emit_show, write_json
from sandbox.cli.progress import progress
from sandbox.domain.errors import InvalidInput
from sandbox.domain.gate import Refusal, Rule
from sandbox.domain.identifiers import IdKind
from sandbox.domain.job import RunState, SubmissionState
from sandbox.domain.labels import label_of
from sandbox.runtime.approval import DEFAULT_MAX_RUNS, DEFAULT_PERIOD_DAYS
from sandbox.runtime.plan.findings import PlanFinding

dev_app = typer.Typer(help="在样例数据上开发 / develop on samples", no_args_is_help=True)
job_app = typer.Typer(
    help="作业提交、审核与转生产 / job submission, review and promotion", no_args_is_help=True
)

JobDirArg = Annotated[
    Path, typer.Argument(help="作业目录（含 job.toml 与 job.py）/ job folder (job.toml + job.py)")
]


def register(app: typer.Typer) -> None:
    app.add_typer(dev_app, name="dev")
    app.add_typer(job_app, name="job")


def print_gate(gate: dict) -> None:
    """The gate's verdict per output: released and suppressed cells by reason (never suppressed values)."""
    for name, outcome in gate.get("outputs", {}).items():
        reasons = ", ".join(
            f"{label_of(Rule, k)} {v}" for k, v in sorted(outcome.get("suppressed_by_reason", {}).items())
        )
        refusal = outcome.get("refusal")
        status = (
            f"[red]整体拒绝 / refused: {label_of(Refusal, refusal)}[/]"
            if refusal
            else f"发布 / released {outcome.get('released', 0)}"
        )
        console.print(
            f"  {name}: {status}；抑制 / suppressed {outcome.get('suppressed', 0)}（{reasons or '—'}）"
        )


def _failure(job: dict) -> str:
    """By phase: a build failure's type, line and message; a refused plan's findings; for a production
    run that failed while processing data, only that (its cause may depend on data)."""
    if job.get("phase") == "interrupted":
        return "运行中断：执行它的进程已停止，未发布任何内容 / interrupted: the process running it stopped; nothing was published"
    if job.get("phase") == "execute" and not job.get("error_type"):
        return (
            "处理数据时失败（原因仅运营人员可见）/ failed while processing data (the cause is for operators)"
        )
    where = f"，第 {job['error_line']} 行 / line {job['error_line']}" if job.get("error_line") else ""
    text = f"{job.get('error_type') or 'PlanRefused'}{where}"
    if job.get("message"):
        text += f"：{job['message']}"
    reason = job.get("reason")
    if reason:
        text += f"：{reason['zh']} / {reason['en']}"
    return "\n".join([text, *(f"  · {PlanFinding.from_dict(f)}" for f in job.get("findings") or [])])


@dev_app.command("run")
@friendly_errors
def dev_run(
    job_dir: JobDirArg,
    watch: Annotated[
        bool, typer.Option(help="保持 Spark 预热，文件变化时重跑 / keep Spark warm and re-run on change")
    ] = False,
) -> None:
    """在场景样例上运行作业，并显示门控的建议结论（经服务时上传作业并排队）/ run a job on samples with the gate's
    advisory verdict (through a service: the job folder is uploaded and the run queued)."""

    def through_service(client) -> list[dict]:
        if watch:
            raise InvalidInput("--watch 只能在平台主机上使用（经服务时每次运行都要重新上传作业）",
                               "--watch runs on the platform host only (through a service each run uploads the job)")  # fmt: skip
        return [queued(client, client.upload("/developer/dev-runs", _job_upload(job_dir)))]

    reports = remote_or_local(through_service, lambda ctx, who: _dev_reports(ctx, who, job_dir, watch))
    failed = False
    # lazily: with --watch they keep coming; each shown as ``report_view`` narrows it, like the API's
    for report in reports:
        job = report["job"]
        if not job["ok"]:
            failed = True
            console.print(Text(f"✗ 作业失败 / job failed: {_failure(job)}", style="red"))
            if job.get("traceback"):
                console.print(Text(job["traceback"].rstrip()), soft_wrap=True)
            continue
        failed = False
        for name, frame in report.get("frames", {}).items():
            columns = [Col(c, c, c) for c in frame["columns"]]
            emit(console, f"{name}（{frame['rows']:,} 行贡献 / contribution rows，样例 / samples）", columns,
                 [dict(zip(frame["columns"], row, strict=True)) for row in frame["preview"]])  # fmt: skip
        console.print("门控建议（未发布）/ gate advisory (nothing released):")
        print_gate(report.get("gate", {}))
        console.print(f"用时 / took {report['seconds']}s")
    if failed:
        raise typer.Exit(EXIT_NOT_DONE)


def _dev_reports(ctx, who, job_dir: Path, watch: bool):
    """The dev runner's reports on this host, each as ``report_view`` narrows it (the queued dev run's result)."""
    from sandbox.runtime import dev

    with progress("在样例上运行作业", "running the job on samples") as stage:
        stage("检查作业与场景成员", "checking the job and scenario membership")
        spec = dev.prepare(ctx, who, job_dir)
        log = spec.parent / "dev.log"
        stage(
            f"启动 Spark 并在样例上运行（日志：{log}）",
            f"starting Spark and running on the samples (log: {log})",
        )
        reports = dev.run(spec, watch=watch)
        first = next(reports, None)
    if first is None:
        not_done(f"开发进程没有给出结果（见 {log}）", f"the dev process gave no result (see {log})")
    return map(dev.report_view, itertools.chain([first], reports))


def _job_upload(job_dir: Path) -> list[tuple[str, Path]]:
    """A job folder's files as an upload: those a submission's snapshot holds, named by their place in it."""
    from sandbox.runtime.snapshot import job_files

    return [(p.relative_to(job_dir).as_posix(), p) for p in job_files(job_dir)]


@job_app.command("submit")
@friendly_errors
def submit(job_dir: JobDirArg) -> None:
    """提交作业（快照 + SHA-256 + 策略检查）/ submit a job (snapshot, SHA-256, policy check)."""
    from sandbox.runtime.submissions import submission_view
    from sandbox.runtime.submissions import submit as submit_job

    s = remote_or_local(
        lambda c: c.upload("/developer/submissions", _job_upload(job_dir)),
        lambda ctx, who: submission_view(submit_job(ctx, who, job_dir)),
    )
    console.print(
        f"已提交 / submitted: {s['submission']}（{s['job']}，sha256 {s['code_sha256']}）", highlight=False
    )


_SUBMISSION_COLUMNS = [
    Col("submission", "提交", "submission", ident=True),
    Col("job", "作业", "job", ident=True),
    Col("scenario", "场景", "scenario", ident=True),
    Col("submitter", "提交人", "submitter", ident=True),
    Col("state", "状态", "state", show=lambda v: label_of(SubmissionState, v)),
    Col("reviewer", "审核人", "reviewer", ident=True),
    Col("review_comment", "审核意见", "review comment"),
]


@job_app.command("list")
@friendly_errors
def list_jobs(fmt: FormatOption = Format.TABLE) -> None:
    """列出作业提交（开发人员只见自己的）/ list submissions (developers see their own)."""
    from sandbox.runtime.submissions import list_submissions, submission_view

    rows = remote_or_local(
        lambda c: c.get(f"{c.route(JOB_READERS)}/submissions"),
        lambda ctx, who: [submission_view(s) for s in list_submissions(ctx, who)],
    )
    emit(console, "作业提交 / submissions", _SUBMISSION_COLUMNS, rows, fmt)


@job_app.command("show")
@friendly_errors
def show(submission_id: SubmissionArg, fmt: FormatOption = Format.TABLE) -> None:
    """审核包：完整代码（带行号）、哈希、策略检查与审核意见 / the review packet: whole code with line numbers, hash, check, review."""
    from sandbox.runtime.submissions import packet_view, review_packet

    s = remote_or_local(
        lambda c: c.get(f"{c.route(JOB_READERS)}/submissions/{submission_id}"),
        lambda ctx, who: packet_view(review_packet(ctx, who, submission_id)),
    )
    findings = s["findings"]
    if fmt is Format.JSON:
        write_json(s)
        return
    fields = [(c, s[c.key]) for c in _SUBMISSION_COLUMNS] + [
        (Col("code_sha256", "代码 SHA-256", "code SHA-256", ident=True), s["code_sha256"]),
        (Col("submitted_at", "提交时间", "submitted", time=True), s["submitted_at"]),
    ]
    check = Section("findings", "策略检查 / policy check", [
        Col("file", "文件", "file", ident=True), Col("line", "行", "line", show=str), Col("rule", "规则", "rule", ident=True),
        Col("zh", "说明", "finding"), Col("en", "English", "English"),
    ], findings)  # fmt: skip
    emit_show(console, f"{s['submission']} {s['job']}", fields, [check], fmt)
    if fmt is not Format.TABLE:
        return
    console.print(
        "策略检查 / policy check: "
        + ("[green]通过 / passed[/]" if not findings else f"[red]{len(findings)} 项 / findings[/]")
    )
    if s["previous"]:
        changed = s["diff"] or "（无变化 / no change）\n"
        console.print(Text(f"── 自上次批准的 {s['previous']} 以来的变化 / changes since approved "
                           f"{s['previous']}", style="bold"), soft_wrap=True)  # fmt: skip
        console.print(Text(changed.rstrip("\n")), soft_wrap=True)
    for name, text in s["files"].items():
        _print_numbered(name, text)


def _print_numbered(name: str, text: str) -> None:
    """Every line whole, numbered; the terminal may wrap a long one, nothing is ever cut."""
    lines = text.splitlines() or [""]
    width = len(str(len(lines)))
    console.print(Text(f"── {name}（{len(lines)} 行 / lines）", style="bold"), soft_wrap=True)
    for number, line in enumerate(lines, 1):
        console.print(Text(f"{number:>{width}} │ {line}"), soft_wrap=True)


@job_app.command("review")
@friendly_errors
def review(
    submission_id: SubmissionArg,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="批准或驳回 / approve or reject")],
    comment: Annotated[
        str,
        typer.Option(
            help="审核意见（驳回时必填，提交人可见）/ comment (required to reject; the submitter sees it)"
        ),
    ] = "",
    max_runs: Annotated[
        int, typer.Option(help="批准的生产运行次数 / production runs the approval allows")
    ] = DEFAULT_MAX_RUNS,
    period_days: Annotated[
        int, typer.Option(help="批准的有效天数 / days the approval lasts")
    ] = DEFAULT_PERIOD_DAYS,
) -> None:
    """审核作业（非提交人）；批准限定运行次数与期限 / review a job (not the submitter); an approval allows so many runs in a period."""
    from sandbox.runtime.submissions import review as review_job
    from sandbox.runtime.submissions import submission_view

    decision = {"approve": approve, "comment": comment, "max_runs": max_runs, "period_days": period_days}
    s = remote_or_local(
        lambda c: c.post(f"/operator/submissions/{submission_id}/review", json=decision),
        lambda ctx, who: submission_view(review_job(ctx, who, submission_id, **decision)),
    )
    console.print(f"{s['submission']}: {label_of(SubmissionState, s['state'])}")
    terms = s["terms"]
    if terms is not None:
        console.print(f"至多 {terms['max_runs']} 次运行，至 {terms['valid_until']} / at most {terms['max_runs']} runs, "
                      f"until {terms['valid_until']}", highlight=False)  # fmt: skip


@job_app.command("promote")
@friendly_errors
def promote(submission_id: SubmissionArg, wait: WaitOption = True) -> None:
    """转入生产：隔离运行、门控、发布；失败或未发布时退出码为 1（经服务时排队）/ promote: isolated run, gate, release;
    exit 1 if it failed or released nothing (queued through a service)."""
    from sandbox.runtime.production import promote as promote_job
    from sandbox.runtime.production import promotion_view

    def on_host(ctx, who):
        with progress("转入生产", "promotion") as stage:
            return promotion_view(promote_job(ctx, who, submission_id, stages=stage))

    run = remote_or_local(
        lambda c: queued(c, c.post(f"/operator/submissions/{submission_id}/promote"), wait=wait), on_host
    )
    if run is None:
        return
    console.print(f"运行 / run {run['run']}: {label_of(RunState, run['state'])}")
    if run["state"] == RunState.FAILED.value:
        console.print(Text(f"  {_failure(run)}"))
    if run["gate"]:
        print_gate(run["gate"])
    if run["state"] == RunState.FAILED.value:
        not_done(f"运行 {run['run']} 失败；运营人员可用 sandbox job logs {run['run']} 查看日志",
                 f"run {run['run']} failed; operators read its logs with `sandbox job logs {run['run']}`")  # fmt: skip
    if run["state"] == RunState.WITHHELD.value:
        not_done(f"运行 {run['run']} 未发布任何单元格", f"run {run['run']} released nothing")


_RUN_COLUMNS = [
    Col("run", "运行", "run", ident=True),
    Col("submission", "提交", "submission", ident=True),
    Col("state", "状态", "state", show=lambda v: label_of(RunState, v)),
    Col(
        "timings",
        "用时",
        "timings",
        show=lambda t: ", ".join(f"{k.removesuffix('_s')} {v:.1f}s" for k, v in t.items()),
    ),
    Col("error", "错误", "error", show=lambda e: _failure(e)),
    Col("started_at", "开始", "started", time=True),
    Col("finished_at", "结束", "finished", time=True),
]


@job_app.command("runs")
@friendly_errors
def runs(
    submission_id: Annotated[str | None, id_argument(IdKind.SUBMISSION)] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """生产运行（开发人员只见状态）/ production runs (developers see status only)."""
    from sandbox.runtime.production import developer_view
    from sandbox.runtime.runs import list_runs

    def through_service(client) -> list[dict]:  # full records (staff, auditors) carry the developer's view
        found = client.get(f"{client.route(JOB_READERS)}/runs", params={"submission": submission_id})
        return [run.get("developer_view", run) for run in found]

    rows = []
    views = remote_or_local(
        through_service, lambda ctx, who: [developer_view(r) for r in list_runs(ctx, who, submission_id)]
    )
    for view in views:
        error = {k: view[k] for k in ("phase", "error_type", "error_line", "message", "findings", "reason")}
        rows.append({**view, "error": error if view["phase"] else None})
    emit(console, "生产运行 / runs", _RUN_COLUMNS, rows, fmt)


@job_app.command("logs")
@friendly_errors
def logs(run_id: RunArg, fmt: FormatOption = Format.TABLE) -> None:
    """运行日志，含完整的错误回溯（仅运营审核人员）/ run logs with the full traceback (operators only)."""
    from sandbox.runtime.runs import operator_logs

    texts = remote_or_local(
        lambda c: c.get(f"/operator/runs/{run_id}/logs"), lambda ctx, who: operator_logs(ctx, who, run_id)
    )
    if fmt is Format.JSON:
        write_json(texts)
        return
    if fmt is Format.CSV:
        emit(console, run_id, [Col("file", "文件", "file"), Col("text", "内容", "text")],
             [{"file": name, "text": text} for name, text in texts.items()], fmt)  # fmt: skip
        return
    if not texts:
        err_console.print(f"运行 {run_id} 没有日志 / run {run_id} has no logs")
    for name, text in texts.items():
        console.rule(name)
        console.print(Text(text.rstrip()), soft_wrap=True)
