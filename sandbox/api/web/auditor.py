"""Auditor pages (and operators', administrators'): the audit trail with filters, one-click verification
of the whole chain, and the disclosure report."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from sandbox.api.access import platform
from sandbox.governance import audit_log, disclosure
from sandbox.governance.access import Principal

from .render import page
from .rules import Page

router = APIRouter(prefix="/auditor", include_in_schema=False)
readers = Page(*audit_log.READERS)


def _trail(
    request: Request, who: Principal, ctx, limit: int, action: str, actor: str, verified=None
) -> Response:
    found = audit_log.events(ctx, who, limit, action=action or None, by=actor or None)
    return page(request, who, "auditor/audit.html", events=list(reversed(found)), limit=limit, action=action,
                actor=actor, verified=verified)  # fmt: skip


@router.get("")
def trail(request: Request, limit: int = Query(50, ge=1, le=1000), action: str = Query("", max_length=64),
          actor: str = Query("", max_length=64), who: Principal = Depends(readers),
          ctx=Depends(platform)) -> Response:  # fmt: skip
    """审计记录，可按动作与操作者筛选 / the audit trail, filtered by action and actor."""
    return _trail(request, who, ctx, limit, action, actor)


@router.get("/verify")
def verify(request: Request, limit: int = Query(50, ge=1, le=1000), action: str = Query("", max_length=64),
           actor: str = Query("", max_length=64), who: Principal = Depends(readers),
           ctx=Depends(platform)) -> Response:  # fmt: skip
    """一键校验整条审计链 / verify the whole audit chain in one click (names the first bad event)."""
    result = audit_log.verify(ctx, who)
    return _trail(
        request, who, ctx, limit, action, actor, verified={"ok": result.ok, "message": result.message}
    )


@router.get("/disclosure")
def disclosure_report(request: Request, who: Principal = Depends(Page(*disclosure.READERS)),
                      ctx=Depends(platform)) -> Response:  # fmt: skip
    """信息披露报告：授权、产品、数据使用 / the disclosure report: authorizations, products, data usage."""
    return page(request, who, "auditor/disclosure.html", report=disclosure.report_for(ctx, who))
