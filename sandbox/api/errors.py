"""Every error as JSON ``{code, zh, en}`` with an HTTP status; never a stack trace.

Validation errors name the field and what was wrong with it, never the value sent: a request body
could carry an identifier, and an error must not echo it into logs or a browser.

Outside ``/api`` are the web pages: there the same errors go to the page renderer ``install`` was
given (a redirect to the sign-in page, or an HTML page that names the code); the API answers as JSON.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.domain.errors import (
    Busy,
    HomeError,
    IllegalTransition,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    ShuyuError,
)

log = logging.getLogger("sandbox.api")

#: Renders an error for a browser: (request, error, status, invalid fields) -> response.
PageRenderer = Callable[[Request, ShuyuError, int, list[str] | None], Response]


class NotAuthenticated(PermissionDenied):
    """No credentials, or credentials that are invalid, expired or revoked."""

    code = "E601"


class TooManyAttempts(PermissionDenied):
    code = "E602"


class EndpointRefused(PermissionDenied):
    """The endpoint's access rule does not admit the caller's roles (the front door; services check again)."""

    code = "E603"


#: The most specific class wins; anything else a service refuses is a 400.
_STATUS: list[tuple[type[ShuyuError], int]] = [
    (NotAuthenticated, 401),
    (TooManyAttempts, 429),
    (PermissionDenied, 403),
    (NotFoundError, 404),
    (IllegalTransition, 409),
    (InvalidInput, 422),
    (Busy, 503),
    (HomeError, 500),
]


def status_of(err: ShuyuError) -> int:
    return next((status for kind, status in _STATUS if isinstance(err, kind)), 400)


def error_response(err: ShuyuError, status: int | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, NotAuthenticated) else None
    if isinstance(err, Busy | TooManyAttempts):
        headers = {"Retry-After": "5"}
    return JSONResponse(err.as_dict(), status_code=status or status_of(err), headers=headers)


def _page_renderer(request: Request) -> PageRenderer | None:
    """The page renderer for a request outside ``/api`` (the web UI), if the app has one."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return None
    return getattr(request.app.state, "error_page", None)


def _answer(request: Request, err: ShuyuError, status: int | None = None,
            fields: list[str] | None = None) -> Response:  # fmt: skip
    pages = _page_renderer(request)
    if pages is not None:
        return pages(request, err, status or status_of(err), fields)
    return error_response(err, status)


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return _answer(request, NotFoundError("没有这个地址", "no such path"), 404)
    if exc.status_code == 405:
        return _answer(request, InvalidInput("该地址不支持此方法", "method not allowed on this path"), 405)
    return _answer(request, ShuyuError(f"请求失败（HTTP {exc.status_code}）", f"request failed (HTTP {exc.status_code})",
                                       code="E120"), exc.status_code)  # fmt: skip


def _invalid(request: Request, exc: RequestValidationError) -> Response:
    fields = [
        ".".join(str(part) for part in e["loc"] if part != "body") + f": {e['msg']}" for e in exc.errors()
    ]
    err = InvalidInput("请求参数无效：" + "；".join(fields), "invalid request: " + "; ".join(fields))
    if _page_renderer(request) is not None:
        return _answer(request, err, 422, fields)
    return JSONResponse({**err.as_dict(), "fields": fields}, status_code=422)


def _unexpected(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex[:12]
    log.error("incident %s on %s %s\n%s", incident, request.method, request.url.path,
              "".join(traceback.format_exception(exc)))  # fmt: skip
    err = ShuyuError(f"服务内部错误（事件号 {incident}，运营人员可查看日志）",
                     f"internal error (incident {incident}; operators can read the log)", code="E990")  # fmt: skip
    if _page_renderer(request) is not None:
        return _answer(request, err, 500)
    return JSONResponse(err.as_dict(), status_code=500)


def install(app: FastAPI, pages: PageRenderer | None = None) -> None:
    """JSON errors for the API; ``pages`` renders them for the web UI (every path outside ``/api``)."""
    app.state.error_page = pages
    app.add_exception_handler(ShuyuError, _answer)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
