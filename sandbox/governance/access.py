"""Who is acting, what their roles allow, and the audited refusal of everything else.

The CLI (``--as USER``) and the API (bearer token) both resolve a ``Principal`` here and every
service checks it the same way. Every refusal is written to the audit chain in its own
transaction, so it survives the rollback of the refused action.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied, ShuyuError
from sandbox.domain.identity import ROLE_ZH, OrgKind, Role
from sandbox.store.models import OrganizationRow, UserRow


@dataclass(frozen=True)
class Principal:
    username: str
    org_id: str
    org_kind: OrgKind
    roles: frozenset[Role]
    provider_id: str | None
    cleared: bool  # identity verified, registered (备案) and confidentiality agreement signed

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


def developer_cleared(user: UserRow) -> bool:
    return bool(user.identity_verified_at and user.filing_no and user.nda_version and user.nda_signed_on)


def principal_from_row(user: UserRow, org: OrganizationRow) -> Principal:
    return Principal(
        username=user.username,
        org_id=org.id,
        org_kind=OrgKind(org.kind),
        roles=frozenset(Role(r) for r in user.role_set),
        provider_id=org.provider_id,
        cleared=developer_cleared(user),
    )


def principal_for(ctx: PlatformContext, username: str | None) -> Principal:
    if not username:
        raise PermissionDenied(
            "请用 --as 用户名 或 SANDBOX_USER 指定操作用户",
            "say who is acting with --as USER or SANDBOX_USER",
        )
    with ctx.sessions() as session:
        user = session.get(UserRow, username)
        if user is None or not user.active:
            raise PermissionDenied(
                f"用户 {username} 不存在或已停用", f"user {username} does not exist or is disabled"
            )
        return principal_from_row(user, user.organization)


def check_role(principal: Principal, roles: Iterable[Role], what_zh: str, what_en: str) -> None:
    """Raise unless the principal holds one of ``roles``; developers must also be cleared."""
    roles = frozenset(roles)
    held = principal.roles & roles
    if not held:
        wanted_zh = "、".join(ROLE_ZH[r] for r in sorted(roles))
        raise PermissionDenied(
            f"用户 {principal.username} 无权{what_zh}（需要角色：{wanted_zh}）",
            f"user {principal.username} may not {what_en} (requires role: {', '.join(sorted(roles))})",
        )
    if held == {Role.DEVELOPER} and not principal.cleared:
        raise PermissionDenied(
            f"开发人员 {principal.username} 尚未完成身份核验、备案和保密协议签署，不能{what_zh}",
            f"developer {principal.username} may do nothing before identity verification, registration (备案) "
            f"and a signed confidentiality agreement are recorded; cannot {what_en}",
        )


def can_role(principal: Principal, roles: Iterable[Role]) -> bool:
    try:
        check_role(principal, roles, "", "")
    except PermissionDenied:
        return False
    return True


@contextmanager
def audited_refusals(
    ctx: PlatformContext, principal: Principal | str, action: str, object_type: str, object_id: str
) -> Iterator[None]:
    """Record any Shuyu error raised inside as a ``refused`` event, then re-raise it unchanged."""
    try:
        yield
    except ShuyuError as err:
        actor = principal.username if isinstance(principal, Principal) else principal
        with ctx.transaction() as session:
            ctx.audit(session, "refused", object_type, object_id, actor=actor,
                      attempted=action, code=err.code, reason_en=err.en, reason_zh=err.zh)  # fmt: skip
        raise
