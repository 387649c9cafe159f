"""Auditors (and operators, administrators): the audit trail, its verification, disclosure."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from sandbox.api.access import Allow, platform
from sandbox.governance import audit_log, disclosure
from sandbox.governance.access import Principal

router = APIRouter(prefix="/auditor", tags=["auditor"])
readers = Allow(*audit_log.READERS)


@router.get("/audit")
def events(limit: int = Query(50, ge=1, le=1000), action: str | None = None, actor: str | None = None,
           who: Principal = Depends(readers), ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """最近的审计事件，可按动作与操作者筛选 / recent audit events, filtered by action and actor."""
    return audit_log.events(ctx, who, limit, action=action, by=actor)


@router.get("/audit/verify")
def verify(who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """校验整条审计链 / verify the whole audit chain; names the first bad event."""
    result = audit_log.verify(ctx, who)
    return {"ok": result.ok, "message": result.message}


@router.get("/disclosure")
def disclosure_report(who: Principal = Depends(Allow(*disclosure.READERS)), ctx=Depends(platform)) -> dict:
    """信息披露报告 / the disclosure report: authorizations, products, usage."""
    return disclosure.report_for(ctx, who)


@router.get("/disclosure.md", response_class=PlainTextResponse)
def disclosure_markdown(who: Principal = Depends(Allow(*disclosure.READERS)),
                        ctx=Depends(platform)) -> str:  # fmt: skip
    """信息披露报告（Markdown）/ the disclosure report as Markdown."""
    return disclosure.to_markdown(disclosure.report_for(ctx, who))
