"""A provider's new version verifies its open tickets: ingest calls ``verify_delivery`` once the version is recorded.

The check is a full quality run of the dataset's suite on the new version, as of its delivery day,
started by the platform (``VERIFIER``): it verifies or reopens the tickets, follows up the open
ones and raises what is new, like any run. Nothing to verify — a first delivery, or only disputed
tickets waiting for a decision — runs nothing, so loading new datasets costs no Spark session.

The version is published whatever the run does. A run that fails is recorded as an audit event
naming the error's code or class only — a message may quote a value, so the traceback goes to a
log under ``<home>/runs`` that only operators read — and the tickets stay as they were, for an
operator's ``sandbox quality run``.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass

from sqlalchemy import select

from sandbox.catalog.service import get_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import ShuyuError
from sandbox.domain.quality import MANUAL_RULE, RECHECKED_STATES, TicketState, ticket_label
from sandbox.governance.access import Principal, audited_refusals
from sandbox.quality.access import check_may_read_provider
from sandbox.quality.tickets import active_tickets
from sandbox.store.models import AuditEventRow, DatasetVersionRow
from sandbox.store.zones import Zone, zone_path

VERIFIER = "system"  # the audit trail's name for the platform's own runs
CHECKED, FAILED = "quality.delivery_checked", "quality.delivery_check_failed"


@dataclass(frozen=True)
class DeliveryCheck:
    """What verifying one delivery did: the run's ticket moves, or the error that stopped it."""

    dataset_id: str
    version: int
    run_id: str | None = None
    score: float | None = None
    verified: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()
    followed: tuple[str, ...] = ()
    raised: tuple[str, ...] = ()
    error: str | None = None  # the error's code (or class) when the run failed

    @property
    def object_id(self) -> str:
        return f"{self.dataset_id}@v{self.version}"


def tickets_to_verify(ctx: PlatformContext, dataset_id: str, version: int) -> list[str]:
    """The open tickets a run on ``version`` would re-check: raised by runs on earlier versions, not disputed."""
    with ctx.sessions() as session:
        return [
            ticket_label(t.id)
            for t in active_tickets(session, dataset_id)
            if t.rule_id != MANUAL_RULE
            and TicketState(t.state) in RECHECKED_STATES
            and (t.version or 0) < version
        ]


def verify_delivery(ctx: PlatformContext, version: DatasetVersionRow) -> DeliveryCheck | None:
    """Run the suite on a new version if it has open tickets to verify; never raises for the run's failure."""
    due = tickets_to_verify(ctx, version.dataset_id, version.version)
    if not due:
        return None
    from sandbox.quality.runner import run_suite  # Spark and GX take seconds to import: only when needed

    try:
        summary = run_suite(ctx, VERIFIER, version.dataset_id, version=version.version)
    except Exception as err:  # the version stays published; the failure is recorded, not raised
        code = err.code if isinstance(err, ShuyuError) else type(err).__name__
        check = DeliveryCheck(version.dataset_id, version.version, error=code)
        log = zone_path(ctx.settings, Zone.RUNS, f"verify-{check.dataset_id}-v{check.version:04d}.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        _record(ctx, FAILED, check, tickets=list(due), log=str(log.relative_to(ctx.settings.home_dir)))
        return check
    check = DeliveryCheck(
        version.dataset_id,
        version.version,
        run_id=summary.run_id,
        score=summary.score,
        verified=_labels(summary.verified),
        reopened=_labels(summary.reopened),
        followed=_labels(summary.followed),
        raised=_labels(summary.raised),
    )
    _record(ctx, CHECKED, check)
    return check


def _labels(ticket_ids: list[int]) -> tuple[str, ...]:
    return tuple(ticket_label(i) for i in ticket_ids)


def _record(ctx: PlatformContext, action: str, check: DeliveryCheck, **extra) -> None:
    details = {k: v for k, v in vars(check).items() if k not in ("dataset_id", "version")}
    with ctx.transaction() as session:
        ctx.audit(session, action, "dataset_version", check.object_id, actor=VERIFIER, **details, **extra)


def delivery_check(
    ctx: PlatformContext, actor: Principal, dataset_id: str, version: int
) -> DeliveryCheck | None:
    """What verifying a delivery did, as recorded; ``None`` when there was nothing to verify."""
    with audited_refusals(ctx, actor, "quality.delivery_check", "dataset", dataset_id):
        check_may_read_provider(actor, get_dataset(ctx, dataset_id).provider)
    object_id = DeliveryCheck(dataset_id, version).object_id
    with ctx.sessions() as session:
        event = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.object_id == object_id, AuditEventRow.action.in_((CHECKED, FAILED)))
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        ).first()
    if event is None:
        return None
    details = json.loads(event.details)
    fields = {f: details.get(f) for f in ("run_id", "score", "error")}
    lists = {f: tuple(details.get(f) or ()) for f in ("verified", "reopened", "followed", "raised")}
    return DeliveryCheck(dataset_id, version, **fields, **lists)


def describe(check: DeliveryCheck) -> str:
    """One bilingual line for whoever delivered the version."""
    if check.error:
        return (
            f"v{check.version} 的整改核验未能完成（{check.error}）：版本已发布，工单不变，可由运营人员重新检查 / "
            f"verifying the open tickets on v{check.version} failed ({check.error}): the version is published, "
            "the tickets are unchanged, and an operator can run the check again"
        )
    moves = [
        ("已核验", "verified", check.verified),
        ("重新打开", "reopened", check.reopened),
        ("已跟进", "followed up", check.followed),
        ("新工单", "new", check.raised),
    ]
    listed = "；".join(f"{zh} / {en}: {', '.join(ids)}" for zh, en, ids in moves if ids) or "—"
    return f"v{check.version} 整改核验 / ticket verification (得分 / score {check.score:.2f})：{listed}"
