"""The web UI: server-rendered pages (Jinja2 and a little plain JS) over the same services as the API.

Every page declares its access rule (``rules.Page``, the API's ``Allow``), calls the service the
CLI and the API call, and renders what that service's view function makes of the answer; nothing
is fetched from outside (the CSS and the script are served from this package). Simplified Chinese
by default, English with ``?lang=en`` (remembered in a cookie), every label from ``i18n.TEXT``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .render import HERE

STATIC_PREFIX = "/static"


def mount(app: FastAPI) -> None:
    """The pages and their static files on ``app`` (outside ``/api``; not in the OpenAPI schema)."""
    from . import admin, auditor, auth, consumer, developer, operator, provider, tasks

    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, tasks, provider, developer, operator, consumer, auditor, admin):
        app.include_router(module.router)
