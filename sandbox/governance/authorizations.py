"""Authorizations: an operator organization's scope (datasets) for at most five years.

When one expires or is revoked, everything that only it enabled ends in the same transaction:
the organization's tokens unless another of its authorizations is still in force, and each live
scenario on that scope that no other authorization in force still covers (and with it its
samples and staging). The audit log stays. An authorization granted after its period ended is
recorded as expired: it enables nothing, but stays on the record (and in the disclosure report).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.authorization import AUTHORIZATION_LIFECYCLE, MAX_AUTHORIZATION_YEARS, AuthorizationState
from sandbox.domain.errors import NotFoundError, ShuyuError
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.scenario import LIVE_STATES, ColumnStatus, ScenarioState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.identities import revoke_org_tokens
from sandbox.governance.scenarios import end_scenario
from sandbox.store import allocate
from sandbox.store.models import AuthorizationRow, DatasetRow, OrganizationRow, ScenarioRow


class AuthorizationError(ShuyuError):
    code = "E530"


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check_period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise AuthorizationError("授权结束日期早于开始日期", "authorization ends before it starts")
    if ends_on > _years_later(starts_on, MAX_AUTHORIZATION_YEARS):
        raise AuthorizationError(
            f"授权期限不得超过 {MAX_AUTHORIZATION_YEARS} 年",
            f"an authorization may last at most {MAX_AUTHORIZATION_YEARS} years",
        )


def can_period(starts_on: date, ends_on: date) -> bool:
    try:
        check_period(starts_on, ends_on)
    except AuthorizationError:
        return False
    return True


def grant(
    ctx: PlatformContext,
    actor: Principal,
    *,
    operator_org: str,
    datasets: list[str],
    starts_on: date,
    ends_on: date,
    content: str,
    today: date | None = None,
) -> AuthorizationRow:
    """Record an authorization; one whose period is already over is recorded expired (``row.state``)."""
    today = today or datetime.now(UTC).date()
    with (
        audited_refusals(ctx, actor, "authorization.grant", "organization", operator_org),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.ADMIN}, "授予授权", "grant authorizations")
        check_period(starts_on, ends_on)
        org = session.get(OrganizationRow, operator_org)
        if org is None or org.kind != OrgKind.OPERATOR.value:
            raise AuthorizationError(
                f"{operator_org} 不是运营机构", f"{operator_org} is not an operator organization"
            )
        if not datasets:
            raise AuthorizationError("授权范围不能为空", "an authorization needs a scope of datasets")
        for dataset_id in datasets:
            if session.get(DatasetRow, dataset_id) is None:
                raise NotFoundError(f"数据集 {dataset_id} 未登记", f"dataset {dataset_id} is not registered")
        serial = allocate.authorization_serial(session)
        row = AuthorizationRow(
            id=f"AUTH-{starts_on.year}-{serial:04d}", operator_org_id=operator_org, content=content,
            datasets_json=json.dumps(sorted(set(datasets))), starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(), state=AUTHORIZATION_LIFECYCLE.check(None, "grant").value,
            granted_by=actor.username, created_at=utc_now_iso(),
        )  # fmt: skip
        session.add(row)
        ctx.audit(session, "authorization.grant", "authorization", row.id, actor=actor.username, operator=operator_org,
                  datasets=sorted(set(datasets)), starts_on=row.starts_on, ends_on=row.ends_on)  # fmt: skip
        if ends_on < today:
            reason = f"granted after its period ended {row.ends_on}"
            row.state = AUTHORIZATION_LIFECYCLE.check(AuthorizationState.ACTIVE, "expire").value
            row.ended_at, row.end_reason = utc_now_iso(), reason
            ctx.audit(session, "authorization.expire", "authorization", row.id, actor=actor.username, reason=reason,
                      operator=operator_org, datasets=sorted(set(datasets)))  # fmt: skip
        return row


def authorizations_in_force(session: Session, org_id: str, today: date) -> list[AuthorizationRow]:
    """The active authorizations of ``org_id`` whose period includes ``today``."""
    rows = session.scalars(
        select(AuthorizationRow)
        .where(
            AuthorizationRow.operator_org_id == org_id,
            AuthorizationRow.state == AuthorizationState.ACTIVE.value,
        )
        .order_by(AuthorizationRow.id)
    )
    return [row for row in rows if row.starts_on <= today.isoformat() <= row.ends_on]


def covering_authorization(
    session: Session, org_id: str, datasets: list[str], today: date
) -> AuthorizationRow | None:
    """An active authorization of ``org_id`` in force ``today`` whose scope includes every dataset."""
    for row in authorizations_in_force(session, org_id, today):
        if set(datasets) <= set(json.loads(row.datasets_json)):
            return row
    return None


def _end(
    ctx: PlatformContext,
    session: Session,
    row: AuthorizationRow,
    action: str,
    actor: str,
    reason: str,
    today: date,
) -> dict:
    """End ``row`` and whatever no other authorization in force on ``today`` still covers."""
    row.state = AUTHORIZATION_LIFECYCLE.check(AuthorizationState(row.state), action).value
    row.ended_at, row.end_reason = utc_now_iso(), reason
    session.flush()  # from here on, ``row`` no longer counts as in force
    scope = set(json.loads(row.datasets_json))
    ctx.audit(session, f"authorization.{action}", "authorization", row.id, actor=actor, reason=reason,
              operator=row.operator_org_id, datasets=sorted(scope))  # fmt: skip
    remaining = authorizations_in_force(session, row.operator_org_id, today)
    tokens = (
        0
        if remaining
        else revoke_org_tokens(ctx, session, row.operator_org_id, f"authorization {row.id} {action}", actor)
    )
    ended, kept = [], []
    scenarios = session.scalars(select(ScenarioRow).where(ScenarioRow.operator_org_id == row.operator_org_id))
    for scenario in list(scenarios):
        uses = {c.dataset_id for c in scenario.columns if c.status == ColumnStatus.GRANTED.value}
        if ScenarioState(scenario.state) not in LIVE_STATES or not uses & scope:
            continue
        if covering_authorization(session, row.operator_org_id, sorted(uses), today) is not None:
            kept.append(scenario.id)
        else:
            scenario_action = (
                "expire" if action == "expire" and scenario.state == ScenarioState.ACTIVE.value else "revoke"
            )
            end_scenario(
                ctx, session, scenario, scenario_action, actor, f"authorization {row.id} {action}: {reason}"
            )
            ended.append(scenario.id)
    return {"tokens_revoked": tokens, "scenarios_ended": ended, "scenarios_still_covered": kept}


def revoke(ctx: PlatformContext, actor: Principal, authorization_id: str, reason: str) -> dict:
    with (
        audited_refusals(ctx, actor, "authorization.revoke", "authorization", authorization_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.ADMIN}, "撤销授权", "revoke authorizations")
        if not reason.strip():
            raise AuthorizationError("撤销授权须说明理由", "revoking an authorization needs a reason")
        row = session.get(
            AuthorizationRow, authorization_id, with_for_update=True
        )  # one revocation at a time
        if row is None:
            raise NotFoundError(
                f"授权 {authorization_id} 不存在", f"authorization {authorization_id} does not exist"
            )
        return _end(ctx, session, row, "revoke", actor.username, reason, datetime.now(UTC).date())


def expire_due(ctx: PlatformContext, actor: Principal, *, today: date | None = None) -> dict[str, dict]:
    """Expire every active authorization whose period has ended by ``today``."""
    today = today or datetime.now(UTC).date()
    with (
        audited_refusals(ctx, actor, "authorization.expire", "authorization", "*"),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.ADMIN}, "处理到期授权", "expire authorizations")
        due = session.scalars(
            select(AuthorizationRow).where(
                AuthorizationRow.state == AuthorizationState.ACTIVE.value,
                AuthorizationRow.ends_on < today.isoformat(),
            )
        ).all()
        return {
            row.id: _end(ctx, session, row, "expire", actor.username, f"period ended {row.ends_on}", today)
            for row in due
        }


def authorization_view(row: AuthorizationRow) -> dict:
    return {"authorization": row.id, "operator": row.operator_org_id, "datasets": json.loads(row.datasets_json),
            "starts_on": row.starts_on, "ends_on": row.ends_on, "state": row.state, "end_reason": row.end_reason,
            "content": row.content, "granted_by": row.granted_by, "ended_at": row.ended_at}  # fmt: skip


def list_authorizations(ctx: PlatformContext) -> list[AuthorizationRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuthorizationRow).order_by(AuthorizationRow.id)))
