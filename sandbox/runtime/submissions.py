"""Submission and four-eyes review of jobs.

A submission snapshots the job folder and its SHA-256; the static check and the scope check run
at submission and their result travels with it to the reviewer, an operator who is not the
submitter. Submissions with findings are refused outright.
"""

from __future__ import annotations

import difflib
import json
import uuid
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identity import Role
from sandbox.domain.job import SUBMISSION_LIFECYCLE, JobManifest, SubmissionState
from sandbox.domain.task import TaskState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.scenarios import approved_columns
from sandbox.governance.scenarios import get as get_scenario
from sandbox.runtime import approval
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.policy_check import Finding, check_job
from sandbox.runtime.scope import scope_findings
from sandbox.runtime.snapshot import take_snapshot
from sandbox.store.models import JobSubmissionRow, TaskRow
from sandbox.store.zones import Zone, zone_path, zone_relative


class JobRefused(ShuyuError):
    """The static policy check or the scope check found problems; each finding names file, line, rule."""

    code = "E810"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = "\n".join(f"  {f}" for f in findings)
        super().__init__(
            f"作业未通过策略检查（{len(findings)} 项）：\n{lines}",
            f"job failed the policy check ({len(findings)} findings)",
        )


class ReviewError(ShuyuError):
    code = "E811"


def checks(ctx: PlatformContext, job_dir: Path, manifest: JobManifest) -> list[Finding]:
    return check_job(job_dir, manifest) + scope_findings(manifest, approved_columns(ctx, manifest.scenario))


def check_member(ctx: PlatformContext, actor: Principal, scenario_id: str) -> None:
    """Developers work only on scenarios they are members of (operators may look at any)."""
    if actor.has(Role.OPERATOR, Role.ADMIN):
        return
    check_role(actor, {Role.DEVELOPER}, "开发作业", "develop jobs")
    members = {m.username for m in get_scenario(ctx, scenario_id).members}
    if actor.username not in members:
        raise PermissionDenied(
            f"{actor.username} 不是场景 {scenario_id} 的开发人员",
            f"{actor.username} is not a developer of scenario {scenario_id}",
        )


def submit(ctx: PlatformContext, actor: Principal, job_dir: Path) -> JobSubmissionRow:
    manifest = load_manifest(job_dir)
    with audited_refusals(ctx, actor, "job.submit", "job", manifest.id):
        check_role(actor, {Role.DEVELOPER}, "提交作业", "submit jobs")
        check_member(ctx, actor, manifest.scenario)
        findings = checks(ctx, job_dir, manifest)
        if findings:
            raise JobRefused(findings)
        submission_id = uuid.uuid4().hex[:12]
        relative = f"{Zone.JOBS.value}/{submission_id}"
        digest = take_snapshot(job_dir, zone_path(ctx.settings, Zone.JOBS, submission_id))
        with ctx.transaction() as session:
            row = JobSubmissionRow(
                id=submission_id, job_id=manifest.id, title=manifest.title, scenario_id=manifest.scenario,
                submitter=actor.username, snapshot_path=relative, code_sha256=digest, check_json="[]",
                state=SUBMISSION_LIFECYCLE.check(None, "submit").value, submitted_at=utc_now_iso(),
            )  # fmt: skip
            session.add(row)
            ctx.audit(session, "job.submit", "job_submission", submission_id, actor=actor.username,
                      job=manifest.id, scenario=manifest.scenario, code_sha256=digest)  # fmt: skip
        return row


def review(
    ctx: PlatformContext, actor: Principal, submission_id: str, *, approve: bool, comment: str,
    max_runs: int = approval.DEFAULT_MAX_RUNS, period_days: int = approval.DEFAULT_PERIOD_DAYS,
) -> JobSubmissionRow:  # fmt: skip
    """Approve or reject; an approval grants ``max_runs`` production runs within ``period_days``
    under the policy in force now (``runtime.approval``)."""
    with audited_refusals(ctx, actor, "job.review", "job_submission", submission_id):
        check_role(actor, {Role.OPERATOR}, "审核作业", "review jobs")
        terms = None
        if approve:  # read before the write transaction: the datasets' versions as the reviewer sees them
            with ctx.sessions() as session:
                snapshot = snapshot_dir(ctx, _load(session, submission_id))
            terms = approval.terms_for(
                ctx, load_manifest(snapshot), max_runs=max_runs, period_days=period_days
            )
        with ctx.transaction() as session:
            row = _load(session, submission_id, for_update=True)
            if row.submitter == actor.username:
                raise PermissionDenied(
                    "提交人不能审核自己的作业（四眼原则）",
                    "the submitter cannot review their own job (four eyes)",
                )
            if not approve and not comment.strip():
                raise ReviewError(
                    "驳回作业须写明理由，提交人会看到它",
                    "rejecting a job needs a comment; the submitter will see it",
                )
            action = "approve" if approve else "reject"
            row.state = SUBMISSION_LIFECYCLE.check(SubmissionState(row.state), action).value
            row.reviewer, row.review_comment, row.reviewed_at = actor.username, comment, utc_now_iso()
            row.terms_json = terms.to_json() if terms else None
            ctx.audit(session, f"job.{action}", "job_submission", submission_id, actor=actor.username,
                      code_sha256=row.code_sha256, comment=comment, terms=asdict(terms) if terms else None)  # fmt: skip
            return row


def snapshot_dir(ctx: PlatformContext, row: JobSubmissionRow) -> Path:
    """The submission's code snapshot (recorded as ``jobs/<id>`` relative to the home)."""
    zone, _, relative = row.snapshot_path.partition("/")
    return zone_relative(ctx.settings, Zone(zone), relative)


def _load(session, submission_id: str, *, for_update: bool = False) -> JobSubmissionRow:
    """The submission; ``for_update`` locks its row until the transaction ends, so two reviewers deciding
    at once are taken one after the other and the second sees the first's decision (PostgreSQL; a
    SQLite write transaction holds the whole database already)."""
    row = session.get(JobSubmissionRow, submission_id, with_for_update=for_update)
    if row is None:
        raise NotFoundError(
            f"作业提交 {submission_id} 不存在", f"job submission {submission_id} does not exist"
        )
    return row


def get(ctx: PlatformContext, actor: Principal, submission_id: str) -> JobSubmissionRow:
    with ctx.sessions() as session:
        row = _load(session, submission_id)
    if not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR) and row.submitter != actor.username:
        raise PermissionDenied("只能查看自己提交的作业", "you can only see your own submissions")
    return row


def review_packet(ctx: PlatformContext, actor: Principal, submission_id: str) -> dict:
    """The snapshot's code, its hash, a fresh static check and the review so far.

    Operators review it; the submitter may read it too (it is their own code, and the reviewer's
    comment is for them).
    """
    with audited_refusals(ctx, actor, "job.inspect", "job_submission", submission_id):
        row = get(ctx, actor, submission_id)
        if row.submitter != actor.username:
            check_role(actor, {Role.OPERATOR, Role.ADMIN, Role.AUDITOR}, "审阅作业", "review jobs")
        snapshot = snapshot_dir(ctx, row)
        manifest = load_manifest(snapshot)
        files = _files(snapshot)
        previous = _previous_approved(ctx, row)
        return {
            "submission": row,
            "files": files,
            "findings": [asdict(f) for f in checks(ctx, snapshot, manifest)],
            "previous": previous.id if previous else None,
            "diff": _diff(_files(snapshot_dir(ctx, previous)), files, previous.id, row.id)
            if previous
            else None,
        }


def advisory_for(ctx: PlatformContext, actor: Principal, submission_id: str) -> dict | None:
    """The dev run of exactly this submission's code: the latest succeeded ``dev.run`` task of its
    submitter whose recorded code hash (``tasks.kinds._dev_run``) equals the submission's. None when
    there is none. Its figures are advice, on samples: whether the job ran and, per output, what the
    gate would release and suppress by rule; never a row (the frames' previews stay on the task).

    For operators and administrators, and the submitter. Only the submitter's own dev runs count, so
    each reader sees the same answer and nobody reads another developer's task through it.
    """
    with audited_refusals(ctx, actor, "job.advisory", "job_submission", submission_id):
        row = get(ctx, actor, submission_id)
        if row.submitter != actor.username:
            check_role(actor, {Role.OPERATOR, Role.ADMIN}, "查看作业的试运行结果", "read a job's dev run")
    with ctx.sessions() as session:
        query = (
            select(TaskRow)
            .where(TaskRow.kind == "dev.run", TaskRow.state == TaskState.SUCCEEDED.value,
                   TaskRow.requested_by == row.submitter, TaskRow.result_json.contains(row.code_sha256))
            .order_by(TaskRow.finished_at.desc(), TaskRow.id.desc())
        )  # fmt: skip
        for task in session.scalars(query):
            result = json.loads(task.result_json)
            if result.get("code_sha256") == row.code_sha256:
                return _advisory_view(task, result)
    return None


def _advisory_view(task: TaskRow, result: dict) -> dict:
    outputs = (result.get("gate") or {}).get("outputs") or {}
    by_rule: dict[str, int] = {}
    for output in outputs.values():
        for rule, n in (output.get("suppressed_by_reason") or {}).items():
            by_rule[rule] = by_rule.get(rule, 0) + n
    totals = {"outputs": len(outputs), "refused": sum(bool(o.get("refusal")) for o in outputs.values()),
              "released": sum(o.get("released", 0) for o in outputs.values()),
              "suppressed": sum(o.get("suppressed", 0) for o in outputs.values()), "by_rule": by_rule}  # fmt: skip
    frames = {name: {"rows": f.get("rows"), "columns": f.get("columns", [])}
              for name, f in (result.get("frames") or {}).items()}  # fmt: skip
    return {"task": task.id, "finished_at": task.finished_at, "code_sha256": result["code_sha256"],
            "seconds": result.get("seconds"), "frames": frames, "gate": {"outputs": outputs}, "totals": totals}  # fmt: skip


def _files(snapshot: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(snapshot.iterdir()) if p.is_file()}


def _previous_approved(ctx: PlatformContext, row: JobSubmissionRow) -> JobSubmissionRow | None:
    """The same job's latest approved submission before this one: what the reviewer compares against."""
    with ctx.sessions() as session:
        query = (
            select(JobSubmissionRow)
            .where(JobSubmissionRow.job_id == row.job_id, JobSubmissionRow.id != row.id,
                   JobSubmissionRow.state == SubmissionState.APPROVED.value,
                   JobSubmissionRow.submitted_at <= row.submitted_at)
            .order_by(JobSubmissionRow.submitted_at.desc())
        )  # fmt: skip
        return session.scalars(query).first()


def _diff(before: dict[str, str], after: dict[str, str], before_id: str, after_id: str) -> str:
    """A unified diff of every file, from the previous approved submission to this one ("" if none changed)."""
    lines: list[str] = []
    for name in sorted(before.keys() | after.keys()):
        lines += difflib.unified_diff(
            before.get(name, "").splitlines(keepends=True), after.get(name, "").splitlines(keepends=True),
            f"{before_id}/{name}", f"{after_id}/{name}",
        )  # fmt: skip
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def submission_view(row: JobSubmissionRow) -> dict:
    """What every face shows of a submission (the approval's terms once approved)."""
    return {"submission": row.id, "job": row.job_id, "scenario": row.scenario_id, "submitter": row.submitter,
            "state": row.state, "reviewer": row.reviewer, "review_comment": row.review_comment,
            "submitted_at": row.submitted_at, "code_sha256": row.code_sha256,
            "terms": json.loads(row.terms_json) if row.terms_json else None}  # fmt: skip


def packet_view(packet: dict) -> dict:
    """A ``review_packet`` as data: the submission, its files, the static check, the diff."""
    return {**submission_view(packet["submission"]), "files": packet["files"], "findings": packet["findings"],
            "previous": packet["previous"], "diff": packet["diff"]}  # fmt: skip


def list_submissions(ctx: PlatformContext, actor: Principal) -> list[JobSubmissionRow]:
    with ctx.sessions() as session:
        query = select(JobSubmissionRow).order_by(JobSubmissionRow.submitted_at)
        if not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
            query = query.where(JobSubmissionRow.submitter == actor.username)
        return list(session.scalars(query))
