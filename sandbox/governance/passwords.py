"""Web passwords: argon2id hashes, a length rule, and sign-in that reveals nothing about who exists.

Tokens stay the way scripts and the CLI authenticate; a password only ever buys a session (a short
token, ``identities.issue_session``), so revoking tokens ends every session too.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput, NotFoundError, PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role, principal_from_row
from sandbox.store.models import UserRow

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY = _hasher.hash("a password nobody has")  # unknown users cost as much as known ones


def set_password(ctx: PlatformContext, actor: Principal, username: str, password: str) -> None:
    """Set a user's password: administrators for anyone, everybody for themselves."""
    with audited_refusals(ctx, actor, "user.password", "user", username):
        if actor.username != username:
            check_role(actor, {Role.ADMIN}, "设置他人的密码", "set other users' passwords")
        if len(password) < MIN_LENGTH:
            raise InvalidInput(
                f"密码至少 {MIN_LENGTH} 个字符", f"a password needs at least {MIN_LENGTH} characters"
            )
        with ctx.transaction() as session:
            user = session.get(UserRow, username)
            if user is None:
                raise NotFoundError(f"用户 {username} 不存在", f"user {username} does not exist")
            user.password_hash = _hasher.hash(password)
            ctx.audit(session, "user.password_set", "user", username, actor=actor.username)


def check_password(ctx: PlatformContext, username: str, password: str) -> Principal:
    """The user whose password this is; every failure is the same refusal, audited."""
    refused = PermissionDenied("用户名或密码错误", "wrong user name or password")
    with ctx.transaction() as session:
        user = session.get(UserRow, username)
        stored = user.password_hash if user is not None and user.active else None
        try:
            _hasher.verify(stored or _DUMMY, password)
            if stored is None:
                raise VerificationError
        except (VerificationError, InvalidHashError):
            ctx.audit(session, "refused", "user", username, actor=username, attempted="login",
                      code=refused.code, reason_en=refused.en, reason_zh=refused.zh)  # fmt: skip
            session.commit()
            raise refused from None
        if _hasher.check_needs_rehash(stored):
            user.password_hash = _hasher.hash(password)
        ctx.audit(session, "user.login", "user", username, actor=username)
        return principal_from_row(user, user.organization)
