"""How a page answers a refusal: a browser without a session goes to the sign-in page; every other
error is an HTML page in the reader's language that still names its code (also in the
``X-Shuyu-Error`` header, for scripts and tests). Installed by ``sandbox.api.errors`` for every
path outside ``/api``; the JSON API answers as it always has."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from sandbox.api.access import SESSION_COOKIE, platform
from sandbox.api.errors import NotAuthenticated, TooManyAttempts
from sandbox.domain.errors import Busy, ShuyuError
from sandbox.governance.access import Principal
from sandbox.governance.identities import authenticate_token

from .i18n import lang_of
from .render import page, redirect

ERROR_HEADER = "X-Shuyu-Error"


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if request.method != "GET" or target == "/" else f"/login?next={quote(target, safe='')}"


def _reader(request: Request, err: ShuyuError) -> Principal | None:
    """Who is reading the error, for the page's menu: the session's user, if it still holds."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or isinstance(err, TooManyAttempts):
        return None
    try:
        return authenticate_token(platform(request), secret)
    except ShuyuError:
        return None


def error_page(request: Request, err: ShuyuError, status: int, fields: list[str] | None = None) -> Response:
    if isinstance(err, NotAuthenticated):
        response = redirect(request, sign_in_url(request))
        response.headers[ERROR_HEADER] = err.code
        if request.cookies.get(SESSION_COOKIE):  # an ended or expired session: forget it
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    headers = {ERROR_HEADER: err.code}
    if isinstance(err, Busy | TooManyAttempts):
        headers["Retry-After"] = "5"
    zh = lang_of(request) == "zh"
    return page(request, _reader(request, err), "error.html", status=status, headers=headers, code=err.code,
                message=err.zh if zh else err.en, other_message=err.en if zh else err.zh,
                fields=fields or [])  # fmt: skip
