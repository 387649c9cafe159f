"""Signing in: a password buys a web session (cookie) or, for ``sandbox login``, a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from sandbox.api.access import (
    PUBLIC,
    SESSION_COOKIE,
    Allow,
    check_attempts,
    count_failure,
    csrf_for,
    platform,
)
from sandbox.domain.errors import PermissionDenied
from sandbox.governance import identities, passwords
from sandbox.governance.access import Principal

router = APIRouter(tags=["session"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenCredentials(Credentials):
    days: int = Field(30, ge=1, le=identities.MAX_TOKEN_DAYS)


def _signed_in(request: Request, body: Credentials) -> Principal:
    ctx = platform(request)
    check_attempts(request)
    try:
        return passwords.check_password(ctx, body.username, body.password)
    except PermissionDenied:
        count_failure(request)
        raise


@router.post("/session", dependencies=[Depends(PUBLIC)])
def sign_in(body: Credentials, request: Request, response: Response) -> dict:
    """登录，取得网页会话 / sign in: a web session cookie and its anti-forgery token."""
    who = _signed_in(request, body)
    ctx = platform(request)
    _token_id, secret = identities.issue_session(ctx, who)
    response.set_cookie(SESSION_COOKIE, secret, max_age=identities.SESSION_HOURS * 3600, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")  # fmt: skip
    return {"user": who.username, "roles": sorted(who.roles), "csrf_token": csrf_for(ctx, secret),
            "expires_in_s": identities.SESSION_HOURS * 3600}  # fmt: skip


@router.post("/session/token", status_code=201, dependencies=[Depends(PUBLIC)])
def token_by_password(body: TokenCredentials, request: Request) -> dict:
    """用密码换取令牌（sandbox login）/ exchange a password for a bearer token (sandbox login)."""
    who = _signed_in(request, body)
    token_id, secret = identities.issue_token(
        platform(request), who, who.username, days=body.days, label="sandbox login"
    )
    return {"user": who.username, "token": token_id, "secret": secret}


@router.delete("/session")
def sign_out(request: Request, response: Response, who: Principal = Depends(Allow())) -> dict:
    """退出登录 / sign out: the session ends on the server, not just in the browser."""
    secret = request.cookies.get(SESSION_COOKIE) or request.headers.get("Authorization", "").removeprefix(
        "Bearer "
    )
    identities.revoke_secret(platform(request), who, secret, "signed out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"user": who.username, "signed_out": True}
