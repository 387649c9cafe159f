"""Organizations, users, developer clearance and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identifiers import IdKind, check_id
from sandbox.domain.identity import ROLES_BY_ORG_KIND, OrgKind, Role
from sandbox.governance.access import (
    Principal,
    audited_refusals,
    check_role,
    developer_cleared,
    principal_from_row,
)
from sandbox.store.models import ApiTokenRow, OrganizationRow, ProviderRow, UserRow

TOKEN_PREFIX = "sy_"
MAX_TOKEN_DAYS = 365


class IdentityError(ShuyuError):
    code = "E610"


def bootstrap_admin(
    ctx: PlatformContext, username: str = "admin", org_name: str = "公共数据主管部门（实施机构）"
) -> bool:
    """Create the first administrator on a new home; does nothing once any user exists."""
    with ctx.transaction() as session:
        if session.scalar(select(UserRow.username).limit(1)) is not None:
            return False
        now = utc_now_iso()
        session.add(OrganizationRow(id="agency", name=org_name, kind=OrgKind.AGENCY.value, created_at=now))
        session.add(UserRow(username=username, display_name="平台管理员", org_id="agency", roles=Role.ADMIN.value,
                            active=True, created_at=now))  # fmt: skip
        ctx.audit(session, "org.created", "organization", "agency", actor="system", kind=OrgKind.AGENCY.value)
        ctx.audit(session, "user.created", "user", username, actor="system", roles=[Role.ADMIN.value])
    return True


def create_org(
    ctx: PlatformContext,
    actor: Principal,
    org_id: str,
    name: str,
    kind: OrgKind,
    provider_id: str | None = None,
) -> OrganizationRow:
    with audited_refusals(ctx, actor, "org.create", "organization", org_id):
        check_id(IdKind.ORGANIZATION, org_id)
        check_role(actor, {Role.ADMIN}, "创建机构", "create organizations")
        if (kind is OrgKind.PROVIDER) != (provider_id is not None):
            raise IdentityError(
                "数据提供单位机构必须关联目录中的数据提供单位，其他机构不能关联",
                "a provider organization must name its catalog provider, and only a provider organization may",
            )
        with ctx.transaction() as session:
            if session.get(OrganizationRow, org_id) is not None:
                raise IdentityError(f"机构 {org_id} 已存在", f"organization {org_id} already exists")
            if provider_id and session.get(ProviderRow, provider_id) is None:
                raise NotFoundError(
                    f"数据提供单位 {provider_id} 未登记", f"provider {provider_id} is not registered"
                )
            row = OrganizationRow(
                id=org_id, name=name, kind=kind.value, provider_id=provider_id, created_at=utc_now_iso()
            )
            session.add(row)
            ctx.audit(session, "org.created", "organization", org_id, actor=actor.username, kind=kind.value,
                      provider=provider_id)  # fmt: skip
        return row


def create_user(
    ctx: PlatformContext, actor: Principal, username: str, display_name: str, org_id: str, roles: set[Role]
) -> UserRow:
    with audited_refusals(ctx, actor, "user.create", "user", username):
        check_id(IdKind.USER, username)
        check_role(actor, {Role.ADMIN}, "创建用户", "create users")
        if not roles:
            raise IdentityError("用户至少需要一个角色", "a user needs at least one role")
        with ctx.transaction() as session:
            org = session.get(OrganizationRow, org_id)
            if org is None:
                raise NotFoundError(f"机构 {org_id} 不存在", f"organization {org_id} does not exist")
            allowed = ROLES_BY_ORG_KIND[OrgKind(org.kind)]
            if not roles <= allowed:
                bad = ", ".join(sorted(r.value for r in roles - allowed))
                raise IdentityError(
                    f"{org.name}（{org.kind}）的用户不能担任角色 {bad}",
                    f"users of {org_id} ({org.kind}) cannot hold role(s) {bad}",
                )
            if session.get(UserRow, username) is not None:
                raise IdentityError(f"用户 {username} 已存在", f"user {username} already exists")
            row = UserRow(username=username, display_name=display_name, org_id=org_id,
                          roles=",".join(sorted(r.value for r in roles)), active=True, created_at=utc_now_iso())  # fmt: skip
            session.add(row)
            ctx.audit(session, "user.created", "user", username, actor=actor.username, org=org_id,
                      roles=sorted(r.value for r in roles))  # fmt: skip
        return row


def _update_user(
    ctx: PlatformContext, actor: Principal, username: str, action: str, what_zh: str, what_en: str, **fields
):
    with audited_refusals(ctx, actor, action, "user", username):
        check_role(actor, {Role.ADMIN, Role.OPERATOR}, what_zh, what_en)
        with ctx.transaction() as session:
            user = session.get(UserRow, username)
            if user is None:
                raise NotFoundError(f"用户 {username} 不存在", f"user {username} does not exist")
            for key, value in fields.items():
                setattr(user, key, value)
            ctx.audit(session, action, "user", username, actor=actor.username, **fields)


def verify_identity(ctx: PlatformContext, actor: Principal, username: str) -> None:
    _update_user(ctx, actor, username, "user.identity_verified", "登记身份核验", "record identity verification",
                 identity_verified_at=utc_now_iso())  # fmt: skip


def record_filing(ctx: PlatformContext, actor: Principal, username: str, filing_no: str) -> None:
    _update_user(ctx, actor, username, "user.filed", "登记备案", "record registration (备案)",
                 filing_no=filing_no, filed_at=utc_now_iso())  # fmt: skip


def record_nda(ctx: PlatformContext, actor: Principal, username: str, version: str, signed_on: date) -> None:
    _update_user(ctx, actor, username, "user.nda_signed", "登记保密协议", "record the confidentiality agreement",
                 nda_version=version, nda_signed_on=signed_on.isoformat())  # fmt: skip


def list_users(ctx: PlatformContext) -> list[tuple[UserRow, OrganizationRow]]:
    with ctx.sessions() as session:
        users = session.scalars(select(UserRow).order_by(UserRow.org_id, UserRow.username)).all()
        return [(u, u.organization) for u in users]


def get_user(ctx: PlatformContext, username: str) -> tuple[UserRow, OrganizationRow]:
    with ctx.sessions() as session:
        user = session.get(UserRow, username)
        if user is None:
            raise NotFoundError(f"用户 {username} 不存在", f"user {username} does not exist")
        return user, user.organization


def user_view(user: UserRow, org: OrganizationRow) -> dict:
    """What every face shows of a user: roles, and for a developer the clearance records and whether
    they add up (``developer_cleared``); whether a web password is set, never its hash."""
    return {"user": user.username, "name": user.display_name, "org": org.id, "roles": sorted(user.role_set),
            "active": user.active, "identity_verified": bool(user.identity_verified_at), "filing_no": user.filing_no,
            "nda": user.nda_version, "cleared": developer_cleared(user) if Role.DEVELOPER in user.role_set else None,
            "identity_verified_at": user.identity_verified_at, "filed_at": user.filed_at,
            "nda_signed_on": user.nda_signed_on, "password_set": user.password_hash is not None}  # fmt: skip


def org_view(row: OrganizationRow) -> dict:
    return {"org": row.id, "name": row.name, "kind": row.kind, "provider": row.provider_id,
            "created_at": row.created_at}  # fmt: skip


def list_orgs(ctx: PlatformContext) -> list[OrganizationRow]:
    with ctx.sessions() as session:
        return list(
            session.scalars(select(OrganizationRow).order_by(OrganizationRow.kind, OrganizationRow.id))
        )


# -- API tokens ---------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    ctx: PlatformContext, actor: Principal, username: str, *, days: int = 30, label: str = ""
) -> tuple[str, str]:
    """Create a token for ``username``; returns (token id, secret). The secret is shown once only."""
    with audited_refusals(ctx, actor, "token.issue", "user", username):
        if actor.username != username:
            check_role(actor, {Role.ADMIN}, "为他人签发令牌", "issue tokens for other users")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise IdentityError(
                f"令牌有效期须在 1 到 {MAX_TOKEN_DAYS} 天之间",
                f"token lifetime must be 1–{MAX_TOKEN_DAYS} days",
            )
        return _store_token(ctx, actor.username, username, timedelta(days=days), label)


#: How long a web session lasts without signing in again.
SESSION_HOURS = 8


def issue_session(ctx: PlatformContext, principal: Principal) -> tuple[str, str]:
    """A short token for a user who just signed in with a password (the web session cookie holds it)."""
    return _store_token(
        ctx, principal.username, principal.username, timedelta(hours=SESSION_HOURS), "web session"
    )


def _store_token(
    ctx: PlatformContext, actor: str, username: str, lifetime: timedelta, label: str
) -> tuple[str, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4().hex[:16]
    expires = (datetime.now(UTC) + lifetime).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with ctx.transaction() as session:
        if session.get(UserRow, username) is None:
            raise NotFoundError(f"用户 {username} 不存在", f"user {username} does not exist")
        session.add(ApiTokenRow(id=token_id, username=username, token_hash=_token_hash(secret), label=label,
                                created_at=utc_now_iso(), expires_at=expires))  # fmt: skip
        ctx.audit(session, "token.issued", "token", token_id, actor=actor, user=username, expires_at=expires,
                  label=label)  # fmt: skip
    return token_id, secret


def revoke_token(ctx: PlatformContext, actor: Principal, token_id: str, reason: str = "revoked") -> None:
    with audited_refusals(ctx, actor, "token.revoke", "token", token_id), ctx.transaction() as session:
        token = session.get(ApiTokenRow, token_id)
        if token is None:
            raise NotFoundError(f"令牌 {token_id} 不存在", f"token {token_id} does not exist")
        if token.username != actor.username:
            check_role(actor, {Role.ADMIN}, "吊销他人的令牌", "revoke other users' tokens")
        if token.revoked_at is None:
            token.revoked_at, token.revoked_reason = utc_now_iso(), reason
            ctx.audit(session, "token.revoked", "token", token_id, actor=actor.username, reason=reason)


def revoke_secret(ctx: PlatformContext, actor: Principal, secret: str, reason: str) -> None:
    """End the token whose secret the caller holds (signing out)."""
    with ctx.sessions() as session:
        token_id = session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.token_hash == _token_hash(secret)))
    if token_id is not None:
        revoke_token(ctx, actor, token_id, reason)


def revoke_org_tokens(ctx: PlatformContext, session, org_id: str, reason: str, actor: str) -> int:
    """End every live token of an organization's users (inside the caller's transaction)."""
    tokens = session.scalars(
        select(ApiTokenRow)
        .join(UserRow, UserRow.username == ApiTokenRow.username)
        .where(UserRow.org_id == org_id, ApiTokenRow.revoked_at.is_(None))
    ).all()
    now = utc_now_iso()
    for token in tokens:
        token.revoked_at, token.revoked_reason = now, reason
    if tokens:
        ctx.audit(
            session, "token.revoked", "organization", org_id, actor=actor, count=len(tokens), reason=reason
        )
    return len(tokens)


def authenticate_token(ctx: PlatformContext, secret: str) -> Principal:
    """Resolve a bearer token; expired, revoked or unknown tokens are refused alike."""
    refused = PermissionDenied("令牌无效、已过期或已吊销", "token is invalid, expired or revoked")
    if not secret.startswith(TOKEN_PREFIX):
        raise refused
    with ctx.sessions() as session:
        token = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == _token_hash(secret)))
        if token is None or token.revoked_at is not None or token.expires_at <= utc_now_iso():
            raise refused
        user = session.get(UserRow, token.username)
        if user is None or not user.active:
            raise refused
        return principal_from_row(user, user.organization)


def token_view(row: ApiTokenRow) -> dict:
    """A token as every face lists it: never its hash."""
    return {"token": row.id, "user": row.username, "label": row.label, "created_at": row.created_at,
            "expires_at": row.expires_at, "revoked_at": row.revoked_at, "revoked_reason": row.revoked_reason}  # fmt: skip


def list_tokens(ctx: PlatformContext, actor: Principal) -> list[ApiTokenRow]:
    with ctx.sessions() as session:
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at)
        if Role.ADMIN not in actor.roles:
            query = query.where(ApiTokenRow.username == actor.username)
        return list(session.scalars(query))
