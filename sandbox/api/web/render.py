"""Rendering a page: Jinja2 templates from the package, the language, the user's menu, safe headers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sandbox.display import shanghai_time
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal

from .i18n import LANG_COOKIE, LANGS, label, lang_of, text
from .rules import CSRF_FIELD, form_token

HERE = Path(__file__).parent
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_DIGEST = re.compile(r"[0-9a-f]{40,}")


def brief(value: Any) -> Any:
    """A long hex digest as its first 12 characters (as the CLI shows hashes); anything else as it is."""
    return f"{value[:12]}…" if isinstance(value, str) and _DIGEST.fullmatch(value) else value


env.filters["brief"] = brief

#: Every page answers with these: nothing inline runs, nothing loads from elsewhere, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

#: The menu: (path, text key, roles that see it), in order; every entry's page admits those roles.
MENU: list[tuple[str, str, frozenset[Role]]] = [
    ("/provider", "nav.provider.datasets", frozenset({Role.PROVIDER})),
    ("/provider/requests", "nav.provider.requests", frozenset({Role.PROVIDER})),
    ("/provider/quality", "nav.provider.quality", frozenset({Role.PROVIDER})),
    ("/provider/tickets", "nav.provider.tickets", frozenset({Role.PROVIDER})),
    ("/provider/scorecard", "nav.provider.scorecard", frozenset({Role.PROVIDER})),
    ("/developer", "nav.developer.scenarios", frozenset({Role.DEVELOPER})),
    ("/developer/jobs", "nav.developer.jobs", frozenset({Role.DEVELOPER})),
    ("/operator", "nav.operator.queue", frozenset({Role.OPERATOR})),
    ("/operator/scenarios", "nav.operator.scenarios", frozenset({Role.OPERATOR, Role.ADMIN})),
    ("/operator/runs", "nav.operator.runs", frozenset({Role.OPERATOR, Role.ADMIN})),
    ("/operator/products", "nav.operator.products", frozenset({Role.OPERATOR, Role.ADMIN})),
    ("/operator/tickets", "nav.operator.tickets", frozenset({Role.OPERATOR, Role.ADMIN})),
    ("/operator/redevelopment", "nav.operator.redevelopment", frozenset({Role.OPERATOR, Role.ADMIN})),
    ("/admin", "nav.admin.people", frozenset({Role.ADMIN, Role.OPERATOR})),
    ("/admin/authorizations", "nav.admin.authorizations", frozenset({Role.ADMIN, Role.OPERATOR})),
    ("/consumer", "nav.consumer.catalogue", frozenset({Role.CONSUMER})),
    ("/consumer/keys", "nav.consumer.keys", frozenset({Role.CONSUMER})),
    ("/auditor", "nav.auditor.audit", frozenset({Role.AUDITOR, Role.OPERATOR, Role.ADMIN})),
    ("/auditor/disclosure", "nav.auditor.disclosure", frozenset({Role.AUDITOR, Role.OPERATOR, Role.ADMIN})),
    ("/tasks", "nav.tasks", frozenset(Role)),
]


def menu(who: Principal | None) -> list[tuple[str, str]]:
    if who is None:
        return []
    return [(path, key) for path, key, roles in MENU if who.roles & roles]


def landing(who: Principal) -> str:
    """Where a user starts: the first page of their menu."""
    return next((path for path, _key in menu(who)), "/tasks")


def switch_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(query)}"


def _time(value: str | None) -> str:
    return shanghai_time(value) if value else "—"


def context(request: Request, who: Principal | None) -> dict[str, Any]:
    lang = lang_of(request)
    return {
        "request": request,
        "who": who,
        "lang": lang,
        "other_lang": "en" if lang == "zh" else "zh",
        "switch_url": switch_url(request, "en" if lang == "zh" else "zh"),
        "t": lambda key, **values: text(lang, key, **values),
        "label": lambda kind, value: label(lang, kind, value),
        "time": _time,
        "menu": menu(who),
        "path": request.url.path,
        "csrf_field": CSRF_FIELD,
        "csrf": form_token(request) if who is not None else "",
    }


def _finish(request: Request, response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    chosen = request.query_params.get("lang")
    if chosen in LANGS and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


def page(request: Request, who: Principal | None, template: str, *, status: int = 200,
         headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:  # fmt: skip
    html = env.get_template(template).render(**context(request, who), **values)
    return _finish(request, HTMLResponse(html, status_code=status, headers=headers))


def redirect(request: Request, url: str) -> RedirectResponse:
    """After a form: 303 to the page that shows its outcome (a reload does not post it again)."""
    return _finish(request, RedirectResponse(url, status_code=303))
