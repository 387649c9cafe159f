"""Reading production runs: developers see their own runs' status only; operators see the logs."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal
from sandbox.store.models import JobRunRow, JobSubmissionRow
from sandbox.store.zones import Zone, zone_relative

LOG_FILES = ("job.stdout", "job.stderr", "gate.stdout", "gate.stderr")


def list_runs(ctx: PlatformContext, actor: Principal, submission_id: str | None = None) -> list[JobRunRow]:
    with ctx.sessions() as session:
        query = select(JobRunRow).join(JobSubmissionRow).order_by(JobRunRow.started_at)
        if submission_id:
            query = query.where(JobRunRow.submission_id == submission_id)
        if not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
            query = query.where(JobSubmissionRow.submitter == actor.username)
        return list(session.scalars(query))


def operator_logs(ctx: PlatformContext, actor: Principal, run_id: str) -> dict[str, str]:
    """The job's and the gate's stdout and stderr — operators only: they may carry raw values."""
    if not actor.has(Role.OPERATOR, Role.ADMIN):
        raise PermissionDenied("运行日志只对运营审核人员开放", "run logs are for operators only")
    with ctx.sessions() as session:
        run = session.get(JobRunRow, run_id)
    if run is None:
        raise NotFoundError(f"运行 {run_id} 不存在", f"run {run_id} does not exist")
    zone, _, relative = run.logs_path.partition("/")
    directory = zone_relative(ctx.settings, Zone(zone), relative)
    return {
        name: (directory / name).read_text(encoding="utf-8", errors="replace")
        for name in LOG_FILES
        if (directory / name).exists()
    }
