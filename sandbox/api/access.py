"""The one access rule every endpoint declares: who it is for, checked before anything runs.

``Allow(Role.OPERATOR, …)`` resolves the caller from a bearer token (API, CLI) or the web session
cookie, refuses anyone whose roles are not listed (audited, bilingual, 403), and hands the
endpoint a ``Principal``. Services check again on their own; this is the front door, and the
role × endpoint test reads these rules off the routes, so an endpoint without one fails it.
Failed credentials are limited per client address (``attempts``): after a limit the address is
refused for a while even with good credentials, so tokens and passwords cannot be guessed fast.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.identities import authenticate_token

from .attempts import Attempts
from .errors import EndpointRefused, NotAuthenticated

SESSION_COOKIE = "shuyu_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_KEY = "web-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_token = HTTPBearer(auto_error=False, description="sandbox user token-create / sandbox login")


def platform(request: Request) -> PlatformContext:
    return request.app.state.ctx


def attempts(request: Request) -> Attempts:
    """This API process's limit on failed credentials (``create_app`` makes one per app)."""
    return request.app.state.attempts


def check_attempts(request: Request) -> None:
    attempts(request).check(request)


def count_failure(request: Request) -> None:
    attempts(request).failed(platform(request), request)


def csrf_for(ctx: PlatformContext, session_secret: str) -> str:
    """The anti-forgery token of one web session: a keyed hash of it, so a page can carry it and no
    other site can compute it."""
    key = ctx.keys.create(CSRF_KEY)
    return hmac.new(key, session_secret.encode(), hashlib.sha256).hexdigest()


def check_csrf(ctx: PlatformContext, session_secret: str, supplied: str | None) -> None:
    if not supplied or not hmac.compare_digest(supplied, csrf_for(ctx, session_secret)):
        raise PermissionDenied(
            "表单已过期或来源不明（缺少防伪令牌），请刷新页面后重试",
            "the form is stale or not from this site (anti-forgery token missing); reload and try again",
            code="E604",
        )


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller behind a bearer token or the session cookie; anything else is 401. A cookie alone
    never authorises a change: unsafe methods must also carry the session's anti-forgery token."""
    ctx = platform(request)
    secret = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise NotAuthenticated("请先登录或提供令牌", "sign in or send a bearer token")
    check_attempts(request)
    try:
        principal = authenticate_token(ctx, secret)
    except PermissionDenied:
        count_failure(request)
        raise NotAuthenticated("令牌无效、已过期或已吊销", "token is invalid, expired or revoked") from None
    if credentials is None and request.method not in SAFE_METHODS:
        check_csrf(ctx, secret, request.headers.get(CSRF_HEADER))
    return principal


class Allow:
    """An endpoint's access rule. ``Allow()`` with no roles admits any signed-in user."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_token)
    ) -> Principal:
        principal = authenticate(request, credentials)
        if self.roles:
            where = f"{request.method} {request.url.path}"
            with audited_refusals(platform(request), principal, f"api {where}", "endpoint", where):
                try:
                    check_role(principal, self.roles, f"调用 {where}", f"call {where}")
                except PermissionDenied as err:
                    raise EndpointRefused(err.zh, err.en) from None
        return principal

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(self.roles)) or 'signed in'})"


class Public:
    """The rule of the few endpoints anyone may call (sign-in, health, the schema)."""

    roles: frozenset[Role] = frozenset()

    def __call__(self) -> None:
        return None


PUBLIC = Public()
