"""Correction tickets (整改工单): raised by runs or by people, answered by providers, decided by operators.

Every move goes through the lifecycle table in ``sandbox.domain.quality`` and writes one audit
event. The provider answers (acknowledge, fix, dispute); an operator decides disputes — an
upheld dispute records the ticket's keys as an exception for that rule, so later runs never
raise them again — and confirms manual requests; runs verify or reopen tickets by re-checking
their keys on a newer version, and while a ticket is open it is its rule's only one: a later run
that finds the rule failing moves the ticket to its keys (``follow_up``) instead of raising another.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import NotFoundError
from sandbox.domain.quality import (
    CLOSED_STATES,
    MANUAL_RULE,
    OPEN_STATES,
    TICKET_DUE_WORKING_DAYS,
    TICKET_LIFECYCLE,
    Dimension,
    Rule,
    Severity,
    TicketError,
    TicketState,
    parse_ticket_ref,
    ticket_label,
)
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.workdays import add_working_days
from sandbox.quality.access import STAFF, check_may_raise, check_owner, visible_tickets
from sandbox.store import catalog_repo
from sandbox.store.models import QualityExceptionRow, QualityTicketRow

#: Provider answers: the first of them sets ``answered_at`` (response time against the deadline).
#: A delivered version that fixes the ticket (``verify``) is an answer too, given when it was
#: delivered: a provider that fixes its data without a click must not count as late or silent.
_ANSWERS = ("acknowledge", "fix", "dispute", "verify")


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def transition(
    ctx: PlatformContext,
    session: Session,
    ticket: QualityTicketRow,
    action: str,
    actor: str,
    *,
    answered_at: str | None = None,
    **details,
) -> None:
    """Move ``ticket`` by ``action`` (or raise ``IllegalTransition``) and audit the move.

    ``answered_at``: when the provider gave this answer if not now (the delivery of a verifying
    version); never before the ticket was raised.
    """
    before = TicketState(ticket.state)
    ticket.state = TICKET_LIFECYCLE.check(before, action).value
    now = utc_now_iso()
    ticket.updated_at = now
    if action in _ANSWERS and ticket.answered_at is None:
        ticket.answered_at = max(answered_at or now, ticket.created_at)
    if TicketState(ticket.state) in CLOSED_STATES:
        ticket.closed_at = now
    if details.get("note"):
        ticket.note = details["note"]
    ctx.audit(
        session,
        f"quality_ticket.{action}",
        "quality_ticket",
        ticket_label(ticket.id),
        actor=actor,
        dataset=ticket.dataset_id,
        rule=ticket.rule_id,
        before=before.value,
        after=ticket.state,
        **details,
    )


def new_ticket(
    ctx: PlatformContext,
    session: Session,
    *,
    provider_id: str,
    dataset_id: str,
    rule: Rule | None,
    actor: str,
    description: str,
    suggested_fix: str,
    severity: Severity,
    dimension: Dimension,
    column_label: str = "",
    run_id: str | None = None,
    version: int | None = None,
    key_count: int = 0,
    examples: tuple[str, ...] = (),
    keys_path: str | None = None,
) -> QualityTicketRow:
    """Open a ticket due in 5 working days and audit it."""
    due = add_working_days(shanghai_today(), TICKET_DUE_WORKING_DAYS)
    now = utc_now_iso()
    ticket = QualityTicketRow(
        provider_id=provider_id,
        dataset_id=dataset_id,
        rule_id=rule.id if rule else MANUAL_RULE,
        run_id=run_id,
        version=version,
        column_label=column_label,
        dimension=dimension.value,
        severity=severity.value,
        state=TICKET_LIFECYCLE.check(None, "raise").value,
        description=description,
        suggested_fix=suggested_fix,
        key_count=key_count,
        remaining_count=key_count,
        examples_json=json.dumps(list(examples), ensure_ascii=False),
        keys_path=keys_path,
        due_on=due.due_on.isoformat(),
        due_exact=due.exact,
        raised_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    ctx.audit(
        session,
        "quality_ticket.raise",
        "quality_ticket",
        ticket_label(ticket.id),
        actor=actor,
        dataset=dataset_id,
        rule=ticket.rule_id,
        run=run_id,
        keys=key_count,
        due_on=ticket.due_on,
    )
    return ticket


def follow_up(
    ctx: PlatformContext,
    session: Session,
    ticket: QualityTicketRow,
    actor: str,
    *,
    run_id: str,
    version: int,
    keys_path: str,
    keys: int,
    new_keys: int,
    examples: tuple[str, ...],
) -> None:
    """A later run found the open ticket's rule failing: the ticket now carries that run's keys.

    ``keys`` is how many fail now (its remaining count); ``new_keys`` of them it had not carried
    before, and they add to its key count. The state does not change: re-checking did that.
    """
    ticket.run_id, ticket.version, ticket.keys_path = run_id, version, keys_path
    ticket.remaining_count = keys
    ticket.key_count += new_keys
    if examples:
        ticket.examples_json = json.dumps(list(examples), ensure_ascii=False)
    ticket.updated_at = utc_now_iso()
    ctx.audit(session, "quality_ticket.follow_up", "quality_ticket", ticket_label(ticket.id), actor=actor,
              dataset=ticket.dataset_id, rule=ticket.rule_id, run=run_id, version=version, keys=keys,
              new_keys=new_keys)  # fmt: skip


# -- reading -----------------------------------------------------------------------------------


def list_tickets(
    ctx: PlatformContext,
    actor: Principal,
    *,
    dataset_id: str | None = None,
    state: str | None = None,
    provider_id: str | None = None,
) -> list[QualityTicketRow]:
    with audited_refusals(ctx, actor, "quality_ticket.list", "quality_ticket", "*"):
        query = visible_tickets(actor)
    if dataset_id:
        query = query.where(QualityTicketRow.dataset_id == dataset_id)
    if state:
        query = query.where(QualityTicketRow.state == TicketState(state).value)
    if provider_id:
        query = query.where(QualityTicketRow.provider_id == provider_id)
    with ctx.sessions() as session:
        return list(session.scalars(query.order_by(QualityTicketRow.id)))


def ticket_view(row: QualityTicketRow) -> dict:
    """A ticket's summary as every face lists it (no example keys: those are the provider's records)."""
    return {"ticket": ticket_label(row.id), "dataset": row.dataset_id, "rule": row.rule_id, "column": row.column_label,
            "severity": row.severity, "keys": row.key_count, "remaining": row.remaining_count, "state": row.state,
            "due_on": row.due_on, "provider": row.provider_id}  # fmt: skip


def ticket_detail(row: QualityTicketRow) -> dict:
    """One ticket as its show page has it: the summary, the issue, and the example keys, which are
    the provider's own records (``get_ticket`` shows a ticket only to its provider and the staff)."""
    return {**ticket_view(row), "dimension": row.dimension, "description": row.description,
            "suggested_fix": row.suggested_fix, "examples": json.loads(row.examples_json), "raised_by": row.raised_by,
            "created_at": row.created_at, "note": row.note}  # fmt: skip


def _visible(
    session: Session, actor: Principal, ticket_id: int, *, for_update: bool = True
) -> QualityTicketRow:
    """The ticket if ``actor`` may see it, its row locked until the transaction ends unless only read:
    two answers to one ticket at once are taken one after the other (PostgreSQL; SQLite's write
    transaction holds the whole database already)."""
    query = visible_tickets(actor).where(QualityTicketRow.id == ticket_id)
    ticket = session.scalar(query.with_for_update() if for_update else query)
    if ticket is None:  # the same answer whether it does not exist or is someone else's
        raise NotFoundError(
            f"工单 {ticket_label(ticket_id)} 不存在或无权查看",
            f"ticket {ticket_label(ticket_id)} does not exist or is not yours to see",
        )
    return ticket


def get_ticket(ctx: PlatformContext, actor: Principal, ref: str) -> QualityTicketRow:
    ticket_id = parse_ticket_ref(ref)
    with (
        audited_refusals(ctx, actor, "quality_ticket.read", "quality_ticket", ticket_label(ticket_id)),
        ctx.sessions() as session,
    ):
        return _visible(session, actor, ticket_id, for_update=False)


# -- the provider's answers --------------------------------------------------------------------


def _answer(
    ctx: PlatformContext, actor: Principal, ref: str, action: str, note: str | None, what: tuple[str, str]
) -> QualityTicketRow:
    ticket_id = parse_ticket_ref(ref)
    with (
        audited_refusals(ctx, actor, f"quality_ticket.{action}", "quality_ticket", ticket_label(ticket_id)),
        ctx.transaction() as session,
    ):
        ticket = _visible(session, actor, ticket_id)
        check_owner(actor, ticket, *what)
        transition(ctx, session, ticket, action, actor.username, note=note)
        return ticket


def acknowledge(
    ctx: PlatformContext, actor: Principal, ref: str, note: str | None = None
) -> QualityTicketRow:
    return _answer(ctx, actor, ref, "acknowledge", note, ("确认整改工单", "acknowledge tickets"))


def mark_fixed(ctx: PlatformContext, actor: Principal, ref: str, note: str) -> QualityTicketRow:
    """The provider says the data is corrected; a run on the next version verifies it."""
    return _answer(ctx, actor, ref, "fix", note, ("报告整改完成", "report tickets fixed"))


def dispute(ctx: PlatformContext, actor: Principal, ref: str, reason: str) -> QualityTicketRow:
    if not reason.strip():
        raise TicketError("提出异议须说明理由", "a dispute needs a reason")
    return _answer(ctx, actor, ref, "dispute", reason, ("对整改工单提出异议", "dispute tickets"))


# -- the operator's decisions ------------------------------------------------------------------


def decide(
    ctx: PlatformContext, actor: Principal, ref: str, *, uphold: bool, comment: str
) -> QualityTicketRow:
    """Decide a dispute. Upheld: the ticket closes and its keys become exceptions for its rule."""
    ticket_id = parse_ticket_ref(ref)
    action = "uphold" if uphold else "reject"
    with (
        audited_refusals(ctx, actor, f"quality_ticket.{action}", "quality_ticket", ticket_label(ticket_id)),
        ctx.transaction() as session,
    ):
        check_role(actor, STAFF, "裁决整改异议", "decide ticket disputes")
        if not comment.strip():
            raise TicketError("裁决须说明理由", "a decision needs a reason")
        ticket = _visible(session, actor, ticket_id)
        transition(
            ctx,
            session,
            ticket,
            action,
            actor.username,
            note=comment,
            exception_keys=ticket.key_count if uphold else 0,
        )
        if uphold and ticket.keys_path:
            session.add(
                QualityExceptionRow(
                    dataset_id=ticket.dataset_id,
                    rule_id=ticket.rule_id,
                    ticket_id=ticket.id,
                    key_count=ticket.key_count,
                    keys_path=ticket.keys_path,
                    decided_by=actor.username,
                    created_at=utc_now_iso(),
                )
            )
        return ticket


def confirm_request(
    ctx: PlatformContext, actor: Principal, ref: str, *, verified: bool, comment: str
) -> QualityTicketRow:
    """An operator checks a manual request the provider marked fixed: verified, or reopened."""
    ticket_id = parse_ticket_ref(ref)
    action = "verify" if verified else "reopen"
    with (
        audited_refusals(ctx, actor, f"quality_ticket.{action}", "quality_ticket", ticket_label(ticket_id)),
        ctx.transaction() as session,
    ):
        check_role(actor, STAFF, "核验数据治理校核需求", "confirm correction requests")
        ticket = _visible(session, actor, ticket_id)
        if ticket.rule_id != MANUAL_RULE:
            raise TicketError(
                f"{ticket_label(ticket.id)} 由质量检查产生，由下一版本的检查自动核验",
                f"{ticket_label(ticket.id)} came from a quality run; the run on the next version verifies it",
            )
        if TicketState(ticket.state) != TicketState.FIXED:
            raise TicketError(
                f"{ticket_label(ticket.id)} 尚未报告整改完成",
                f"{ticket_label(ticket.id)} has not been reported fixed",
            )
        transition(ctx, session, ticket, action, actor.username, note=comment)
        return ticket


def raise_request(
    ctx: PlatformContext,
    actor: Principal,
    dataset_id: str,
    description: str,
    *,
    column: str = "",
    severity: Severity = Severity.MEDIUM,
    dimension: Dimension = Dimension.ACCURACY,
) -> QualityTicketRow:
    """提出数据治理校核需求: an operator or a developer asks the provider to check its data."""
    with (
        audited_refusals(ctx, actor, "quality_ticket.raise", "dataset", dataset_id),
        ctx.transaction() as session,
    ):
        dataset = catalog_repo.get_dataset(session, dataset_id)
        if dataset is None:
            raise NotFoundError(f"数据集 {dataset_id} 未登记", f"dataset {dataset_id} is not registered")
        check_may_raise(session, actor, dataset_id)
        if not description.strip():
            raise TicketError("须说明需要校核的问题", "describe what needs checking")
        if column and column not in {c.name for c in dataset.columns}:
            raise TicketError(f"列 {column} 不存在", f"column {column} does not exist")
        return new_ticket(
            ctx,
            session,
            provider_id=dataset.provider_id,
            dataset_id=dataset_id,
            rule=None,
            actor=actor.username,
            description=description,
            suggested_fix="请核实并更正后重新交付 / check, correct and deliver a new version",
            severity=severity,
            dimension=dimension,
            column_label=column,
        )


def exceptions_for(session: Session, dataset_id: str) -> list[QualityExceptionRow]:
    return list(
        session.scalars(select(QualityExceptionRow).where(QualityExceptionRow.dataset_id == dataset_id))
    )


def active_tickets(session: Session, dataset_id: str) -> list[QualityTicketRow]:
    """The dataset's open tickets, oldest first."""
    opened = [s.value for s in OPEN_STATES]
    return list(
        session.scalars(
            select(QualityTicketRow)
            .where(QualityTicketRow.dataset_id == dataset_id, QualityTicketRow.state.in_(opened))
            .order_by(QualityTicketRow.id)
        )
    )
