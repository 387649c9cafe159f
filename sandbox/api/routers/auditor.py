"""Auditors (and operators, administrators): the audit trail, its verification, disclosure; and, for
auditors, what the services let them read of the rest: every job submission with its review packet,
every production run (never its logs), the product registry with downloads of any released version,
every grant of terms of use, and every re-development application.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from sandbox.api import downloads
from sandbox.api.access import Allow, platform
from sandbox.api.bodies import ID
from sandbox.api.params import VersionQuery
from sandbox.api.views import run_record
from sandbox.domain.identity import Role
from sandbox.governance import audit_log, disclosure
from sandbox.governance.access import Principal
from sandbox.products import catalogue, redevelopment, terms
from sandbox.runtime import runs, submissions

router = APIRouter(prefix="/auditor", tags=["auditor"])
readers = Allow(*audit_log.READERS)
auditor = Allow(Role.AUDITOR)


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


# -- jobs and production runs --------------------------------------------------------------------


@router.get("/submissions")
def submission_list(who: Principal = Depends(auditor), ctx=Depends(platform)) -> list[dict]:
    """全部作业提交及审核结论 / every job submission and its review."""
    return [submissions.submission_view(s) for s in submissions.list_submissions(ctx, who)]


@router.get("/submissions/{submission_id}")
def submission_packet(submission_id: str, who: Principal = Depends(auditor), ctx=Depends(platform)) -> dict:
    """审核包：完整代码、哈希、与上次批准版本的差异、策略检查 / the review packet: code, hash, diff, static check."""
    return submissions.packet_view(submissions.review_packet(ctx, who, submission_id))


@router.get("/runs")
def run_list(submission: str | None = Query(None, max_length=ID), who: Principal = Depends(auditor),
             ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """生产运行（完整记录，含门控摘要；不含日志与数据）/ production runs in full, with the gate summary (no logs,
    no data); ``developer_view``: what a developer sees, as ``sandbox job runs`` shows it."""
    return [run_record(r) for r in runs.list_runs(ctx, who, submission)]


# -- products ------------------------------------------------------------------------------------


@router.get("/products")
def product_list(who: Principal = Depends(auditor), ctx=Depends(platform)) -> list[dict]:
    """登记的数据产品 / registered products."""
    return catalogue.catalogue(ctx)


@router.get("/products/{product_id}")
def product_show(product_id: str, who: Principal = Depends(auditor), ctx=Depends(platform)) -> dict:
    """数据产品登记详情 / a product's registration."""
    return catalogue.product(ctx, product_id)


@router.get("/products/{product_id}/versions")
def product_versions(product_id: str, who: Principal = Depends(auditor), ctx=Depends(platform)) -> list[dict]:
    """已发布的版本及其血缘 / released versions and their lineage."""
    return catalogue.released_versions(ctx, product_id)


@router.get("/products/{product_id}/download", response_class=Response,
            responses=downloads.ARCHIVE_RESPONSES)  # fmt: skip
def product_download(
    product_id: str,
    fmt: downloads.ArchiveFormat = "csv",
    version: VersionQuery = None,
    who: Principal = Depends(auditor),
    ctx=Depends(platform),
) -> Response:
    """下载已发布版本的聚合表与公开门控报告（任何已登记产品）/ download a released version of any registered product."""
    return downloads.product_archive(ctx, who, product_id, fmt, version)


@router.get("/terms")
def terms_list(product: str | None = Query(None, max_length=ID), who: Principal = Depends(auditor),
               ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """全部使用条款 / every grant of terms of use."""
    return [terms.terms_view(t) for t in terms.list_terms(ctx, who, product)]


@router.get("/redevelopments")
def redevelopment_list(who: Principal = Depends(auditor), ctx=Depends(platform)) -> list[dict]:
    """全部再开发申请 / every re-development application."""
    return [redevelopment.application_view(r) for r in redevelopment.list_applications(ctx, who)]
