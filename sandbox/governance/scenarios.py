"""Scenarios: proposal with minimal-necessary columns, provider consent, four-eyes review.

一场景一审核: every scenario is reviewed on its own, by an operator who did not propose it; each
requested dataset needs its owning provider's consent, who may refuse single columns, within
five working days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.spec import parse_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identifiers import IdKind, check_id
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.scenario import (
    CONSENT_LIFECYCLE,
    SCENARIO_LIFECYCLE,
    ConsentState,
    ScenarioCategory,
    ScenarioState,
)
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.workdays import CONSENT_WORKING_DAYS, add_working_days
from sandbox.store import samples_repo
from sandbox.store.models import (
    ConsentRow,
    DatasetRow,
    OrganizationRow,
    ScenarioColumnRow,
    ScenarioMemberRow,
    ScenarioRow,
    UserRow,
)


class ScenarioError(ShuyuError):
    code = "E520"


@dataclass(frozen=True)
class ColumnRequest:
    dataset: str
    column: str
    justification: str


def _today() -> date:
    return datetime.now(UTC).date()


def _load(session: Session, scenario_id: str, *, for_update: bool = True) -> ScenarioRow:
    """The scenario, its row locked until the transaction ends unless only read: every change to a
    scenario, its consents and its members goes through here, so two people acting on one scenario at
    once are taken one after the other and the second sees the first's change (PostgreSQL; a SQLite
    write transaction holds the whole database already)."""
    row = session.get(ScenarioRow, scenario_id, with_for_update=for_update)
    if row is None:
        raise NotFoundError(f"场景 {scenario_id} 不存在", f"scenario {scenario_id} does not exist")
    return row


def _move(
    ctx: PlatformContext, session: Session, row: ScenarioRow, action: str, actor: Principal, **details
) -> None:
    new_state = SCENARIO_LIFECYCLE.check(ScenarioState(row.state), action)
    old = row.state
    row.state, row.updated_at = new_state.value, utc_now_iso()
    ctx.audit(
        session,
        f"scenario.{action}",
        "scenario",
        row.id,
        actor=actor.username,
        **{"from": old, "to": new_state.value},
        **details,
    )


def propose(
    ctx: PlatformContext,
    actor: Principal,
    *,
    scenario_id: str,
    title: str,
    category: ScenarioCategory,
    description: str,
    value_statement: str,
    planned_products: list[str],
    columns: list[ColumnRequest],
) -> ScenarioRow:
    """Create a draft. Every requested column must exist and carry its own justification."""
    with audited_refusals(ctx, actor, "scenario.create", "scenario", scenario_id):
        check_id(IdKind.SCENARIO, scenario_id)
        check_role(actor, {Role.OPERATOR, Role.DEVELOPER}, "提出应用场景", "propose scenarios")
        if actor.org_kind not in (OrgKind.OPERATOR, OrgKind.AGENCY):
            raise PermissionDenied(
                "只有运营机构可以提出场景", "only an operator organization may propose scenarios"
            )
        if not planned_products:
            raise ScenarioError("场景须列出拟开发的数据产品", "a scenario must list its planned products")
        if not columns:
            raise ScenarioError("场景须列出所需数据列", "a scenario must request at least one column")
        with ctx.transaction() as session:
            if session.get(ScenarioRow, scenario_id) is not None:
                raise ScenarioError(f"场景 {scenario_id} 已存在", f"scenario {scenario_id} already exists")
            seen = set()
            for req in columns:
                dataset = session.get(DatasetRow, req.dataset)
                if dataset is None:
                    raise NotFoundError(
                        f"数据集 {req.dataset} 未登记", f"dataset {req.dataset} is not registered"
                    )
                if req.column not in parse_dataset(json.loads(dataset.spec_json)).column_names:
                    raise NotFoundError(
                        f"数据集 {req.dataset} 没有列 {req.column}",
                        f"dataset {req.dataset} has no column {req.column}",
                    )
                if not req.justification.strip():
                    raise ScenarioError(
                        f"列 {req.dataset}.{req.column} 缺少必要性说明（最小必要原则）",
                        f"column {req.dataset}.{req.column} needs a justification (minimal necessary)",
                    )
                if (req.dataset, req.column) in seen:
                    raise ScenarioError(
                        f"列 {req.dataset}.{req.column} 重复申请",
                        f"column {req.dataset}.{req.column} requested twice",
                    )
                seen.add((req.dataset, req.column))
            now = utc_now_iso()
            row = ScenarioRow(
                id=scenario_id, title=title, category=category.value, description=description,
                value_statement=value_statement, planned_products_json=json.dumps(planned_products, ensure_ascii=False),
                proposer=actor.username, operator_org_id=actor.org_id, state=ScenarioState.DRAFT.value,
                created_at=now, updated_at=now,
            )  # fmt: skip
            row.columns = [
                ScenarioColumnRow(dataset_id=r.dataset, column=r.column, justification=r.justification)
                for r in columns
            ]
            session.add(row)
            SCENARIO_LIFECYCLE.check(None, "create")
            ctx.audit(session, "scenario.create", "scenario", scenario_id, actor=actor.username, category=category.value,
                      columns=[f"{r.dataset}.{r.column}" for r in columns])  # fmt: skip
        return row


def submit(
    ctx: PlatformContext, actor: Principal, scenario_id: str, *, today: date | None = None
) -> list[ConsentRow]:
    """Submit for review and send one data-use request per dataset to its provider, due in 5 working days."""
    with (
        audited_refusals(ctx, actor, "scenario.submit", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        row = _load(session, scenario_id)
        if row.proposer != actor.username:
            raise PermissionDenied("只有提出人可以提交场景", "only the proposer may submit the scenario")
        _move(ctx, session, row, "submit", actor)
        row.submitted_at = utc_now_iso()
        due = add_working_days(today or _today(), CONSENT_WORKING_DAYS)
        consents = []
        for dataset_id in sorted({c.dataset_id for c in row.columns}):
            provider = session.get(DatasetRow, dataset_id).provider_id
            consent = ConsentRow(
                scenario_id=row.id, dataset_id=dataset_id, provider_id=provider,
                state=CONSENT_LIFECYCLE.check(None, "request").value, requested_at=utc_now_iso(),
                due_on=due.due_on.isoformat(),
            )  # fmt: skip
            row.consents.append(consent)
            consents.append(consent)
            ctx.audit(session, "consent.requested", "consent", f"{row.id}/{dataset_id}", actor=actor.username,
                      provider=provider, due_on=due.due_on.isoformat(), calendar_exact=due.exact)  # fmt: skip
        return consents


def start_review(ctx: PlatformContext, actor: Principal, scenario_id: str) -> None:
    with (
        audited_refusals(ctx, actor, "scenario.start_review", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR}, "审核场景", "review scenarios")
        row = _load(session, scenario_id)
        _check_not_proposer(row, actor)
        _move(ctx, session, row, "start_review", actor)


def _check_not_proposer(row: ScenarioRow, actor: Principal) -> None:
    if row.proposer == actor.username:
        raise PermissionDenied(
            f"提出人 {actor.username} 不能审核自己的场景（四眼原则）",
            f"{actor.username} proposed this scenario and cannot review it (four eyes)",
        )


def decide_consent(
    ctx: PlatformContext,
    actor: Principal,
    scenario_id: str,
    dataset_id: str,
    *,
    grant: bool,
    refuse_columns: set[str] = frozenset(),
    comment: str = "",
) -> ConsentRow:
    """The owning provider grants, partly grants (refusing named columns) or refuses a dataset."""
    with (
        audited_refusals(ctx, actor, "consent.decide", "consent", f"{scenario_id}/{dataset_id}"),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.PROVIDER}, "答复数据使用申请", "decide data-use requests")
        row = _load(session, scenario_id)
        consent = next((c for c in row.consents if c.dataset_id == dataset_id), None)
        if consent is None:
            raise NotFoundError(
                f"场景 {scenario_id} 没有对数据集 {dataset_id} 的申请",
                f"scenario {scenario_id} has no request for {dataset_id}",
            )
        if consent.provider_id != actor.provider_id:
            raise PermissionDenied(
                f"数据集 {dataset_id} 不属于 {actor.username} 所在的数据提供单位，不能答复",
                f"dataset {dataset_id} is not owned by {actor.username}'s provider; they cannot decide on it",
            )
        if ScenarioState(row.state) not in (ScenarioState.SUBMITTED, ScenarioState.UNDER_REVIEW):
            raise ScenarioError(
                f"场景处于「{row.state}」状态，不再接受答复",
                f"scenario is {row.state}; requests can no longer be decided",
            )
        requested = {c.column for c in row.columns if c.dataset_id == dataset_id}
        unknown = set(refuse_columns) - requested
        if unknown:
            raise ScenarioError(
                f"未申请的列：{', '.join(sorted(unknown))}",
                f"columns not requested: {', '.join(sorted(unknown))}",
            )
        if grant and set(refuse_columns) == requested:
            grant, refuse_columns = False, set()
        action = "refuse" if not grant else ("grant_partially" if refuse_columns else "grant")
        consent.state = CONSENT_LIFECYCLE.check(ConsentState(consent.state), action).value
        for column in row.columns:
            if column.dataset_id == dataset_id:
                column.status = "granted" if grant and column.column not in refuse_columns else "refused"
        consent.decided_by, consent.decided_at, consent.comment = actor.username, utc_now_iso(), comment
        ctx.audit(session, f"consent.{action}", "consent", f"{scenario_id}/{dataset_id}", actor=actor.username,
                  refused_columns=sorted(refuse_columns), late=_today().isoformat() > consent.due_on)  # fmt: skip
        return consent


def approve(ctx: PlatformContext, actor: Principal, scenario_id: str, comment: str = "") -> None:
    with (
        audited_refusals(ctx, actor, "scenario.approve", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR}, "批准场景", "approve scenarios")
        row = _load(session, scenario_id)
        _check_not_proposer(row, actor)
        SCENARIO_LIFECYCLE.check(ScenarioState(row.state), "approve")
        pending = [c.dataset_id for c in row.consents if c.state == ConsentState.PENDING.value]
        if pending:
            raise ScenarioError(
                f"尚有数据提供单位未答复：{', '.join(pending)}",
                f"providers have not yet decided on: {', '.join(pending)}",
            )
        if not any(c.status == "granted" for c in row.columns):
            raise ScenarioError(
                "没有任何数据列获得同意，不能批准", "no requested column was granted; cannot approve"
            )
        _move(ctx, session, row, "approve", actor, comment=comment)
        row.reviewer, row.decided_at, row.decision_comment = actor.username, utc_now_iso(), comment


def reject(ctx: PlatformContext, actor: Principal, scenario_id: str, comment: str) -> None:
    with (
        audited_refusals(ctx, actor, "scenario.reject", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR}, "驳回场景", "reject scenarios")
        row = _load(session, scenario_id)
        _check_not_proposer(row, actor)
        if not comment.strip():
            raise ScenarioError(
                "驳回场景须写明意见，提出人会看到它",
                "rejecting a scenario needs a comment; its proposer reads it",
            )
        _move(ctx, session, row, "reject", actor, comment=comment)
        row.reviewer, row.decided_at, row.decision_comment = actor.username, utc_now_iso(), comment


def withdraw(ctx: PlatformContext, actor: Principal, scenario_id: str) -> None:
    with (
        audited_refusals(ctx, actor, "scenario.withdraw", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        row = _load(session, scenario_id)
        if row.proposer != actor.username:
            raise PermissionDenied("只有提出人可以撤回场景", "only the proposer may withdraw the scenario")
        _move(ctx, session, row, "withdraw", actor)


def activate(ctx: PlatformContext, actor: Principal, scenario_id: str, *, today: date | None = None) -> None:
    """Go live: needs an active authorization of the scenario's operator covering its granted datasets."""
    from sandbox.governance.authorizations import covering_authorization

    with (
        audited_refusals(ctx, actor, "scenario.activate", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR, Role.ADMIN}, "启用场景", "activate scenarios")
        row = _load(session, scenario_id)
        datasets = sorted({c.dataset_id for c in row.columns if c.status == "granted"})
        authorization = covering_authorization(session, row.operator_org_id, datasets, today or _today())
        if authorization is None:
            raise ScenarioError(
                f"运营机构 {row.operator_org_id} 没有覆盖 {', '.join(datasets)} 的有效授权",
                f"operator {row.operator_org_id} holds no active authorization covering {', '.join(datasets)}",
            )
        _move(ctx, session, row, "activate", actor, authorization=authorization.id)


def add_member(ctx: PlatformContext, actor: Principal, scenario_id: str, username: str) -> None:
    """Put a developer on a scenario's team; only cleared developers of the operator's side qualify."""
    with (
        audited_refusals(ctx, actor, "scenario.add_member", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR, Role.ADMIN}, "为场景添加开发人员", "add developers to scenarios")
        row = _load(session, scenario_id)
        if ScenarioState(row.state) not in (ScenarioState.APPROVED, ScenarioState.ACTIVE):
            raise ScenarioError(
                "只有已批准或已启用的场景可以添加开发人员",
                "developers join approved or active scenarios only",
            )
        user = session.get(UserRow, username)
        if user is None or Role.DEVELOPER.value not in user.role_set:
            raise ScenarioError(f"{username} 不是开发人员", f"{username} is not a developer")
        from sandbox.governance.access import developer_cleared

        if not developer_cleared(user):
            raise PermissionDenied(
                f"开发人员 {username} 尚未完成身份核验、备案和保密协议签署",
                f"developer {username} has not completed identity verification, registration and the confidentiality agreement",
            )
        if session.get(ScenarioMemberRow, (scenario_id, username)) is None:
            session.add(
                ScenarioMemberRow(
                    scenario_id=scenario_id,
                    username=username,
                    added_by=actor.username,
                    added_at=utc_now_iso(),
                )
            )
            ctx.audit(
                session,
                "scenario.member_added",
                "scenario",
                scenario_id,
                actor=actor.username,
                member=username,
            )


def end_scenario(
    ctx: PlatformContext, session: Session, row: ScenarioRow, action: str, actor: str, reason: str
) -> None:
    """Expire or revoke a live scenario and delete what it holds (samples, staging), in the caller's transaction."""
    from sandbox.governance.cleanup import delete_scenario_data

    new_state = SCENARIO_LIFECYCLE.check(ScenarioState(row.state), action)
    old, row.state, row.updated_at = row.state, new_state.value, utc_now_iso()
    removed = delete_scenario_data(ctx.settings, row.id)
    forgotten = samples_repo.forget(session, row.id)
    ctx.audit(session, f"scenario.{action}", "scenario", row.id, actor=actor, reason=reason,
              **{"from": old, "to": new_state.value}, deleted=removed, sample_versions_forgotten=forgotten)  # fmt: skip


def revoke(ctx: PlatformContext, actor: Principal, scenario_id: str, reason: str) -> None:
    with (
        audited_refusals(ctx, actor, "scenario.revoke", "scenario", scenario_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.ADMIN, Role.OPERATOR}, "撤销场景", "revoke scenarios")
        end_scenario(ctx, session, _load(session, scenario_id), "revoke", actor.username, reason)


# -- reading ------------------------------------------------------------------------------


def get(ctx: PlatformContext, scenario_id: str) -> ScenarioRow:
    with ctx.sessions() as session:
        row = _load(session, scenario_id, for_update=False)
        _ = row.columns, row.consents, row.members
        return row


def list_scenarios(ctx: PlatformContext) -> list[ScenarioRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ScenarioRow).order_by(ScenarioRow.id)))


def approved_columns(ctx: PlatformContext, scenario_id: str) -> dict[str, list[str]]:
    """The columns a live scenario may use, per dataset: requested, justified and granted."""
    with ctx.sessions() as session:
        row = _load(session, scenario_id, for_update=False)
        if ScenarioState(row.state) not in (ScenarioState.APPROVED, ScenarioState.ACTIVE):
            raise ScenarioError(
                f"场景 {scenario_id} 未生效（{row.state}）",
                f"scenario {scenario_id} is not live ({row.state})",
            )
        granted: dict[str, list[str]] = {}
        for c in row.columns:
            if c.status == "granted":
                granted.setdefault(c.dataset_id, []).append(c.column)
        return granted


def consents_for(
    ctx: PlatformContext, actor: Principal, *, overdue_on: date | None = None
) -> list[ConsentRow]:
    """Data-use requests visible to the actor: providers see their own; operators and admins see all.

    With ``overdue_on``, only pending requests whose due date has passed by that day.
    """
    with ctx.sessions() as session:
        query = select(ConsentRow).order_by(ConsentRow.due_on, ConsentRow.id)
        if actor.roles <= {Role.PROVIDER}:
            query = query.where(ConsentRow.provider_id == actor.provider_id)
        elif not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
            raise PermissionDenied("无权查看数据使用申请", "may not list data-use requests")
        if overdue_on is not None:
            query = query.where(
                ConsentRow.state == ConsentState.PENDING.value, ConsentRow.due_on < overdue_on.isoformat()
            )
        return list(session.scalars(query))


# -- views (every face shows the same) -----------------------------------------------------


def scenario_view(row: ScenarioRow) -> dict:
    return {"scenario": row.id, "title": row.title, "category": row.category, "state": row.state,
            "proposer": row.proposer, "reviewer": row.reviewer}  # fmt: skip


def local_today() -> str:
    """Today in Asia/Shanghai, the day due dates are counted in."""
    from sandbox.display import SHANGHAI

    return datetime.now(SHANGHAI).date().isoformat()


def consent_view(row: ConsentRow, today: str | None = None) -> dict:
    """A data-use request; ``overdue`` when still pending after its due date (``today``: Shanghai's)."""
    today = today or local_today()
    return {"scenario": row.scenario_id, "dataset": row.dataset_id, "provider": row.provider_id, "state": row.state,
            "due_on": row.due_on, "overdue": row.state == ConsentState.PENDING.value and row.due_on < today,
            "decided_by": row.decided_by}  # fmt: skip


def scenario_detail(row: ScenarioRow, today: str | None = None) -> dict:
    """A scenario (from ``get``) with its requested columns, their answers, the requests and its developers."""
    today = today or local_today()
    return {**scenario_view(row), "decision_comment": row.decision_comment, "description": row.description,
            "value_statement": row.value_statement, "planned_products": json.loads(row.planned_products_json),
            "developers": sorted(m.username for m in row.members),
            "columns": [{"dataset": c.dataset_id, "column": c.column, "justification": c.justification,
                         "status": c.status} for c in row.columns],
            "consents": [consent_view(c, today) for c in row.consents]}  # fmt: skip


def data_use_request(
    ctx: PlatformContext, actor: Principal, scenario_id: str, dataset_id: str, today: str | None = None
) -> dict:
    """One data-use request as its provider decides it: the scenario's purpose and the columns it asks of
    the dataset with their justifications. Shown to whoever ``consents_for`` shows the request to; the
    same answer whether it does not exist or is another provider's."""
    with audited_refusals(ctx, actor, "consent.read", "consent", f"{scenario_id}/{dataset_id}"):
        request = next((c for c in consents_for(ctx, actor)
                        if (c.scenario_id, c.dataset_id) == (scenario_id, dataset_id)), None)  # fmt: skip
        if request is None:
            raise NotFoundError(
                f"场景 {scenario_id} 没有对数据集 {dataset_id} 的申请，或无权查看",
                f"scenario {scenario_id} has no request for {dataset_id}, or it is not yours to see",
            )
    row = get(ctx, scenario_id)
    return {**consent_view(request, today), "title": row.title, "category": row.category,
            "description": row.description, "value_statement": row.value_statement,
            "planned_products": json.loads(row.planned_products_json), "requested_at": request.requested_at,
            "decided_at": request.decided_at, "comment": request.comment,
            "columns": [{"column": c.column, "justification": c.justification, "status": c.status}
                        for c in row.columns if c.dataset_id == dataset_id]}  # fmt: skip


def org_name(ctx: PlatformContext, org_id: str) -> str:
    with ctx.sessions() as session:
        org = session.get(OrganizationRow, org_id)
        return org.name if org else org_id
