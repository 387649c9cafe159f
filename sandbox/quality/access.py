"""Who may see and do what with quality results: a provider sees only its own; operators see all.

Failing keys are raw identifiers of one provider's records, so the rule is strict: a provider's
user reads that provider's tickets, reports and scorecard only; operators (and administrators)
read everything; a developer reads only the correction requests they raised themselves.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandbox.domain.errors import InvalidInput, NotFoundError, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.domain.quality import ticket_label
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store import catalog_repo
from sandbox.store.models import QualityTicketRow, ScenarioColumnRow, ScenarioMemberRow

STAFF = frozenset({Role.OPERATOR, Role.ADMIN})


def readable_dataset(ctx, actor: Principal, dataset_id: str):
    """The dataset's catalog row, if ``actor`` may read its quality results (audited refusal otherwise)."""
    with ctx.sessions() as session:
        dataset = catalog_repo.get_dataset(session, dataset_id)
    if dataset is None:
        raise NotFoundError(f"数据集 {dataset_id} 未登记", f"dataset {dataset_id} is not registered")
    with audited_refusals(ctx, actor, "quality.report", "dataset", dataset_id):
        check_may_read_provider(actor, dataset.provider_id)
    return dataset


def check_may_run(actor: Principal) -> None:
    check_role(actor, STAFF, "运行数据质量检查", "run quality checks")


def check_may_read_provider(actor: Principal, provider_id: str) -> None:
    """Operators read every provider's quality results; a provider's user only its own."""
    if actor.has(*STAFF):
        return
    check_role(actor, {Role.PROVIDER}, "查看数据质量结果", "read quality results")
    if actor.provider_id != provider_id:
        raise PermissionDenied(
            f"用户 {actor.username} 只能查看本单位的数据质量结果",
            f"user {actor.username} may only read their own provider's quality results",
        )


def provider_of(actor: Principal, given: str | None) -> str:
    """The provider a report or scorecard is about: the one named, else the actor's own."""
    if given or actor.provider_id:
        return given or actor.provider_id
    raise InvalidInput("请指定数据集或数据提供单位", "name a dataset or a provider")


def visible_tickets(actor: Principal) -> Select:
    """The tickets query narrowed to what ``actor`` may see."""
    query = select(QualityTicketRow)
    if actor.has(*STAFF):
        return query
    if actor.has(Role.PROVIDER) and actor.provider_id:
        return query.where(QualityTicketRow.provider_id == actor.provider_id)
    check_role(actor, {Role.DEVELOPER}, "查看整改工单", "read correction tickets")
    return query.where(QualityTicketRow.raised_by == actor.username)


def check_owner(actor: Principal, ticket: QualityTicketRow, what_zh: str, what_en: str) -> None:
    """Only the ticket's provider answers it."""
    check_role(actor, {Role.PROVIDER}, what_zh, what_en)
    if actor.provider_id != ticket.provider_id:
        raise PermissionDenied(
            f"工单 {ticket_label(ticket.id)} 不属于 {actor.username} 所在单位",
            f"ticket {ticket_label(ticket.id)} is not {actor.username}'s",
        )


def check_may_raise(session: Session, actor: Principal, dataset_id: str) -> None:
    """Operators raise requests on any dataset; a developer only on a dataset of a scenario they work on."""
    check_role(
        actor, {Role.OPERATOR, Role.DEVELOPER}, "提出数据治理校核需求", "raise data correction requests"
    )
    if actor.has(Role.OPERATOR):
        return
    member_of = select(ScenarioMemberRow.scenario_id).where(ScenarioMemberRow.username == actor.username)
    granted = session.scalar(
        select(ScenarioColumnRow.id)
        .where(ScenarioColumnRow.scenario_id.in_(member_of), ScenarioColumnRow.dataset_id == dataset_id)
        .where(ScenarioColumnRow.status == "granted")
        .limit(1)
    )
    if granted is None:
        raise PermissionDenied(
            f"开发人员 {actor.username} 未参与使用数据集 {dataset_id} 的场景",
            f"developer {actor.username} works on no scenario that uses dataset {dataset_id}",
        )
