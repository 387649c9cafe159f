"""``create_app``: the FastAPI application over one platform home: the JSON API under ``/api`` and
the web UI's pages (``sandbox.api.web``) everywhere else.

No interactive docs page: Swagger UI and ReDoc load their scripts from a CDN, and nothing here
may fetch from the internet. The schema itself is served at ``/api/openapi.json``.
"""

from __future__ import annotations

from importlib.metadata import version

from fastapi import Depends, FastAPI

from sandbox.context import PlatformContext
from sandbox.settings import Settings

from . import errors, web
from .access import PUBLIC
from .attempts import Attempts
from .routers import admin, auditor, consumer, delivery, developer, me, operator, provider, session
from .web.error_page import error_page

API_PREFIX = "/api/v1"


def create_app(ctx: PlatformContext | None = None) -> FastAPI:
    ctx = ctx or PlatformContext(Settings(), actor="api")
    ctx.require_home()
    app = FastAPI(
        title="数域 Shuyu API",
        version=version("shuyu-sandbox"),
        description="公共数据授权运营隐私计算沙箱 / privacy-preserving sandbox for authorized public data",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.attempts = Attempts()
    errors.install(app, pages=error_page)
    # Routes are matched in order: the metered product query, the one endpoint under load, first and as the
    # app's own route, then the delivery router's other routes (bench/api.py)
    app.add_api_route(API_PREFIX + delivery.QUERY_PATH, delivery.query, **delivery.QUERY_ROUTE)
    for module in (delivery, session, me, admin, provider, developer, operator, consumer, auditor):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get("/api/health", tags=["public"], dependencies=[Depends(PUBLIC)])
    def health() -> dict:
        """服务存活 / the service is up (says nothing about the home)."""
        return {"ok": True}

    web.mount(app)
    return app
