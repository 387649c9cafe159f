"""Signing in and out of the web UI, and the start page.

The sign-in form is the JSON sign-in's twin (``routers/session.py``): the same attempt limit and
password check, the same session cookie. It is protected against forged posts as every form is,
before there is a session: a short-lived nonce cookie, and the form carries its keyed hash
(``csrf_for``), checked with ``check_csrf``.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from sandbox.api.access import PUBLIC, SESSION_COOKIE, check_csrf, csrf_for, platform
from sandbox.api.errors import status_of
from sandbox.api.routers.session import Credentials, _signed_in
from sandbox.domain.errors import InvalidInput, ShuyuError
from sandbox.governance import identities
from sandbox.governance.access import Principal

from .render import landing, page, redirect
from .rules import CSRF_FIELD, Page, session_secret

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "shuyu_login"
LOGIN_NONCE_S = 3600


def _local(target: str | None) -> str:
    """Only a path on this site is followed after signing in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, next_url: str, username: str = "", error: ShuyuError | None = None,
                status: int = 200) -> Response:  # fmt: skip
    nonce = secrets.token_urlsafe(24)
    response = page(request, None, "login.html", status=status, next=_local(next_url), username=username,
                    error=error, login_token=csrf_for(platform(request), nonce))  # fmt: skip
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_NONCE_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")  # fmt: skip
    return response


@router.get("/login", dependencies=[Depends(PUBLIC)])
def login_form(request: Request, next: str = "/") -> Response:
    """登录页 / the sign-in page."""
    return _login_page(request, next_url=next)


@router.post("/login", dependencies=[Depends(PUBLIC)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          csrf_token: str = Form("", alias=CSRF_FIELD)) -> Response:  # fmt: skip
    """登录 / sign in with a password: a session cookie, then the page asked for."""
    ctx = platform(request)
    try:
        nonce = request.cookies.get(LOGIN_COOKIE)
        check_csrf(ctx, nonce or "", csrf_token if nonce else None)
        if not (0 < len(username) <= 64 and 0 < len(password) <= 200):
            raise InvalidInput("请填写用户名和密码", "enter a user name and a password")
        who = _signed_in(request, Credentials(username=username, password=password))
    except ShuyuError as err:
        return _login_page(request, next_url=next, username=username[:64], error=err, status=status_of(err))
    _token_id, secret = identities.issue_session(ctx, who)
    target = _local(next)
    response = redirect(request, target if target != "/" else landing(who))
    response.set_cookie(SESSION_COOKIE, secret, max_age=identities.SESSION_HOURS * 3600, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: Principal = Depends(Page())) -> Response:
    """退出登录 / sign out: the session ends on the server, not just in the browser."""
    secret = session_secret(request)
    if secret:
        identities.revoke_secret(platform(request), who, secret, "signed out")
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request, who: Principal = Depends(Page())) -> Response:
    """首页：转到本人的工作页 / the start page: on to the signed-in user's own pages."""
    return redirect(request, landing(who))
