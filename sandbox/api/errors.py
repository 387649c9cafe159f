"""Every error as JSON ``{code, zh, en}`` with an HTTP status; never a stack trace.

Validation errors name the field and what was wrong with it, never the value sent: a request body
could carry an identifier, and an error must not echo it into logs or a browser.
"""

from __future__ import annotations

import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return error_response(NotFoundError("没有这个地址", "no such path"), 404)
    if exc.status_code == 405:
        return error_response(InvalidInput("该地址不支持此方法", "method not allowed on this path"), 405)
    return error_response(ShuyuError(f"请求失败（HTTP {exc.status_code}）", f"request failed (HTTP {exc.status_code})",
                                     code="E120"), exc.status_code)  # fmt: skip


def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [
        ".".join(str(part) for part in e["loc"] if part != "body") + f": {e['msg']}" for e in exc.errors()
    ]
    err = InvalidInput("请求参数无效：" + "；".join(fields), "invalid request: " + "; ".join(fields))
    return JSONResponse({**err.as_dict(), "fields": fields}, status_code=422)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("incident %s on %s %s\n%s", incident, request.method, request.url.path,
              "".join(traceback.format_exception(exc)))  # fmt: skip
    return JSONResponse(
        {"code": "E990", "zh": f"服务内部错误（事件号 {incident}，运营人员可查看日志）",
         "en": f"internal error (incident {incident}; operators can read the log)"},
        status_code=500,
    )  # fmt: skip


def install(app: FastAPI) -> None:
    app.add_exception_handler(ShuyuError, lambda _r, e: error_response(e))
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
