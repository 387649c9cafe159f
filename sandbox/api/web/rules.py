"""The access rule of a page: the API's own (``Allow``), with one difference for forms.

A form posted with the session cookie carries its anti-forgery token in a hidden field (a browser
cannot set a header on a plain form), so ``Page`` hands that field to ``Allow`` as the header it
checks (``check_csrf``). Nothing else changes: the same caller resolution, the same roles check,
the same audited refusal; a bearer token needs no token, as on the API.
"""

from __future__ import annotations

import re

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from sandbox.api.access import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    Allow,
    bearer_token,
    csrf_for,
    platform,
)
from sandbox.governance.access import Principal

#: The hidden field every form carries.
CSRF_FIELD = "csrf_token"
_TOKEN = re.compile(r"[0-9a-f]{64}")


class Page(Allow):
    """A page's access rule: ``Page(Role.PROVIDER)`` admits providers, ``Page()`` anyone signed in."""

    async def __call__(  # type: ignore[override]
        self, request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_token)
    ) -> Principal:
        if credentials is None and request.method not in SAFE_METHODS and CSRF_HEADER not in request.headers:
            token = (await request.form()).get(CSRF_FIELD)
            if isinstance(token, str) and _TOKEN.fullmatch(token):
                request = _with_header(request, CSRF_HEADER, token)
        return await run_in_threadpool(Allow.__call__, self, request, credentials)

    def __repr__(self) -> str:
        return "Page" + super().__repr__().removeprefix("Allow")


def _with_header(request: Request, name: str, value: str) -> Request:
    scope = dict(request.scope)
    scope["headers"] = [*request.scope["headers"], (name.lower().encode("latin-1"), value.encode("latin-1"))]
    return Request(scope, request.receive)


def session_secret(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def form_token(request: Request) -> str:
    """The anti-forgery token the page's forms carry ("" for a caller without a session cookie)."""
    secret = session_secret(request)
    return csrf_for(platform(request), secret) if secret else ""
