"""Operators (and administrators where the services admit them): scenario proposals and review, the job
review queue, promotion, production runs and their logs, samples, quality runs and tickets, the product
registry with its terms of use, product downloads and re-development, the release register.

Long actions (sample builds, promotions, quality runs) are queued: the endpoint answers 202 with the
task, and a worker runs it (``sandbox/tasks``); its progress is at ``/me/tasks/{task}``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sandbox.api import downloads
from sandbox.api.access import Allow, platform
from sandbox.api.bodies import ID, ProposeRequest, RaiseRequest
from sandbox.api.params import MAX_INT, RowId, VersionQuery
from sandbox.api.views import run_record
from sandbox.catalog.service import get_dataset
from sandbox.domain.identity import Role
from sandbox.domain.quality import TicketState
from sandbox.governance import release_register, scenarios
from sandbox.governance.access import Principal
from sandbox.products import catalogue, redevelopment, registry, terms, versions
from sandbox.quality import tickets
from sandbox.runtime import approval, runs, submissions
from sandbox.samples import card_of, finding_view, findings_for, show_samples
from sandbox.tasks import queue

router = APIRouter(prefix="/operator", tags=["operator"])
operator = Allow(Role.OPERATOR)
staff = Allow(Role.OPERATOR, Role.ADMIN)


class CommentRequest(BaseModel):
    comment: str = Field("", max_length=2000)


class ReasonRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


# -- scenarios -----------------------------------------------------------------------------------


def _scenario(ctx, scenario_id: str) -> dict:
    return scenarios.scenario_view(scenarios.get(ctx, scenario_id))


@router.get("/scenarios")
def scenario_list(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """场景 / scenarios."""
    return [scenarios.scenario_view(s) for s in scenarios.list_scenarios(ctx)]


@router.get("/scenarios/{scenario_id}")
def scenario_show(scenario_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """场景详情：申请的列、说明、答复与开发人员 / a scenario's columns, justifications, consents and developers."""
    return scenarios.scenario_detail(scenarios.get(ctx, scenario_id))


@router.post("/scenarios", status_code=201)
def scenario_propose(body: ProposeRequest, who: Principal = Depends(operator), ctx=Depends(platform)) -> dict:
    """提出场景建设方案（草稿）/ propose a scenario (a draft)."""
    return scenarios.scenario_view(scenarios.propose(ctx, who, **body.arguments()))


@router.post("/scenarios/{scenario_id}/submit")
def scenario_submit(
    scenario_id: str, who: Principal = Depends(operator), ctx=Depends(platform)
) -> list[dict]:
    """提交审核并向数据提供单位发出申请（提出人）/ submit for review and request the providers' consent (proposer)."""
    return [scenarios.consent_view(c) for c in scenarios.submit(ctx, who, scenario_id)]


@router.post("/scenarios/{scenario_id}/withdraw")
def scenario_withdraw(scenario_id: str, who: Principal = Depends(operator), ctx=Depends(platform)) -> dict:
    """撤回场景（提出人）/ withdraw a scenario (proposer)."""
    scenarios.withdraw(ctx, who, scenario_id)
    return _scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/start-review")
def scenario_start_review(
    scenario_id: str, who: Principal = Depends(operator), ctx=Depends(platform)
) -> dict:
    """开始审核（非提出人）/ start reviewing a scenario (not its proposer)."""
    scenarios.start_review(ctx, who, scenario_id)
    return _scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/approve")
def scenario_approve(scenario_id: str, body: CommentRequest, who: Principal = Depends(operator),
                     ctx=Depends(platform)) -> dict:  # fmt: skip
    """批准场景（非提出人）/ approve a scenario (not its proposer)."""
    scenarios.approve(ctx, who, scenario_id, body.comment)
    return _scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/reject")
def scenario_reject(scenario_id: str, body: CommentRequest, who: Principal = Depends(operator),
                    ctx=Depends(platform)) -> dict:  # fmt: skip
    """驳回场景 / reject a scenario."""
    scenarios.reject(ctx, who, scenario_id, body.comment)
    return _scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/activate")
def scenario_activate(scenario_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """启用场景（需有效授权）/ activate a scenario (needs a covering authorization)."""
    scenarios.activate(ctx, who, scenario_id)
    return _scenario(ctx, scenario_id)


@router.post("/scenarios/{scenario_id}/revoke")
def scenario_revoke(scenario_id: str, body: CommentRequest, who: Principal = Depends(staff),
                    ctx=Depends(platform)) -> dict:  # fmt: skip
    """撤销场景并删除其样例数据 / revoke a scenario and delete its samples."""
    scenarios.revoke(ctx, who, scenario_id, body.comment or "revoked")
    return _scenario(ctx, scenario_id)


class DeveloperRequest(BaseModel):
    username: str = Field(min_length=1, max_length=ID)


@router.post("/scenarios/{scenario_id}/developers")
def scenario_add_developer(scenario_id: str, body: DeveloperRequest, who: Principal = Depends(staff),
                           ctx=Depends(platform)) -> dict:  # fmt: skip
    """为场景添加开发人员（须已签保密协议）/ add a cleared developer to a scenario."""
    scenarios.add_member(ctx, who, scenario_id, body.username)
    return scenarios.scenario_detail(scenarios.get(ctx, scenario_id))


# -- samples -------------------------------------------------------------------------------------


class SamplesRequest(BaseModel):
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


@router.post("/scenarios/{scenario_id}/samples", status_code=202)
def samples_build(scenario_id: str, body: SamplesRequest, who: Principal = Depends(operator),
                  ctx=Depends(platform)) -> dict:  # fmt: skip
    """排队生成场景的脱敏样例（种子留空则随机并记录）/ queue a build of a scenario's desensitized samples."""
    scenarios.get(ctx, scenario_id)  # an unknown scenario is refused now, not by a task later
    args = {"scenario": scenario_id} | ({"seed": body.seed} if body.seed is not None else {})
    return queue.task_view(queue.enqueue(ctx, who, "samples.build", args))


@router.get("/scenarios/{scenario_id}/samples")
def samples_show(scenario_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """场景当前样例的样例卡 / the card of a scenario's current samples."""
    return card_of(show_samples(ctx, who, scenario_id))


@router.get("/samples/findings")
def samples_findings(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """数据画像发现的误登记列 / columns declared harmless that hold identifiers."""
    return [finding_view(f) for f in findings_for(ctx, who)]


# -- the job review queue ----------------------------------------------------------------------


@router.get("/submissions")
def submission_list(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """作业提交（审核队列）/ job submissions (the review queue)."""
    return [submissions.submission_view(s) for s in submissions.list_submissions(ctx, who)]


@router.get("/submissions/{submission_id}")
def submission_packet(submission_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """审核包：完整代码、哈希、与上次批准版本的差异、策略检查 / the review packet: code, hash, diff, static check."""
    return submissions.packet_view(submissions.review_packet(ctx, who, submission_id))


class ReviewRequest(BaseModel):
    approve: bool
    comment: str = Field("", max_length=2000)
    max_runs: int = Field(approval.DEFAULT_MAX_RUNS, ge=1, le=1000)
    period_days: int = Field(approval.DEFAULT_PERIOD_DAYS, ge=1, le=approval.MAX_PERIOD_DAYS)


@router.post("/submissions/{submission_id}/review")
def submission_review(submission_id: str, body: ReviewRequest, who: Principal = Depends(operator),
                      ctx=Depends(platform)) -> dict:  # fmt: skip
    """审核作业（非提交人；驳回须写理由）；批准限定运行次数与期限 / review a job (not its submitter)."""
    row = submissions.review(ctx, who, submission_id, approve=body.approve, comment=body.comment,
                             max_runs=body.max_runs, period_days=body.period_days)  # fmt: skip
    return submissions.submission_view(row)


@router.post("/submissions/{submission_id}/promote", status_code=202)
def submission_promote(submission_id: str, who: Principal = Depends(operator), ctx=Depends(platform)) -> dict:
    """排队转入生产：隔离运行、门控、发布 / queue a promotion: isolated run, gate, release."""
    submissions.get(ctx, who, submission_id)  # an unknown submission is refused now, not by a task later
    return queue.task_view(queue.enqueue(ctx, who, "job.promote", {"submission": submission_id}))


# -- production runs ---------------------------------------------------------------------------


@router.get("/runs")
def run_list(submission: str | None = Query(None, max_length=ID), who: Principal = Depends(staff),
             ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """生产运行（完整记录，含门控摘要；不含数据；``developer_view``：开发人员所见，即 sandbox job runs 所示）/
    production runs in full, with the gate summary (no data); ``developer_view``: what a developer sees, as
    ``sandbox job runs`` shows it."""
    return [run_record(r) for r in runs.list_runs(ctx, who, submission)]


@router.get("/runs/{run_id}/logs")
def run_logs(run_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict[str, str]:
    """运行日志，含完整的错误回溯（仅运营审核人员）/ a run's logs with the full traceback (operators only)."""
    return runs.operator_logs(ctx, who, run_id)


# -- quality -----------------------------------------------------------------------------------


class QualityRunRequest(BaseModel):
    datasets: list[str] = Field(min_length=1, max_length=100)
    version: int | None = Field(None, ge=1, le=MAX_INT)
    as_of: date | None = None
    cross_check: bool = False


@router.post("/quality/runs", status_code=202)
def quality_run(
    body: QualityRunRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> list[dict]:
    """排队对原始数据运行质量检查（每个数据集一个任务）/ queue quality runs, one task per dataset."""
    for dataset in body.datasets:  # every one known before anything is queued
        get_dataset(ctx, dataset)
    args = {"version": body.version, "as_of": body.as_of.isoformat() if body.as_of else None,
            "cross_check": body.cross_check}  # fmt: skip
    return [
        queue.task_view(queue.enqueue(ctx, who, "quality.run", {"dataset": d, **args})) for d in body.datasets
    ]


@router.get("/tickets")
def ticket_list(dataset: str | None = Query(None, max_length=ID), state: TicketState | None = None,
                provider: str | None = Query(None, max_length=ID), who: Principal = Depends(staff),
                ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """整改工单 / correction tickets."""
    found = tickets.list_tickets(ctx, who, dataset_id=dataset, state=state, provider_id=provider)
    return [tickets.ticket_view(t) for t in found]


@router.post("/tickets", status_code=201)
def ticket_raise(body: RaiseRequest, who: Principal = Depends(operator), ctx=Depends(platform)) -> dict:
    """提出数据治理校核需求 / raise a manual data correction request."""
    return tickets.ticket_view(tickets.raise_request(ctx, who, **body.arguments()))


class DecideRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=2000)
    uphold: bool = False


@router.post("/tickets/{ticket}/decide")
def ticket_decide(
    ticket: str, body: DecideRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> dict:
    """裁决异议：成立则关闭工单并将键记为例外 / decide a dispute (upheld: closed, keys become exceptions)."""
    return tickets.ticket_view(tickets.decide(ctx, who, ticket, uphold=body.uphold, comment=body.comment))


@router.post("/tickets/{ticket}/verify")
def ticket_verify(
    ticket: str, body: CommentRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> dict:
    """核验人工校核需求已整改 / confirm a manual request is fixed."""
    return tickets.ticket_view(tickets.confirm_request(ctx, who, ticket, verified=True, comment=body.comment))


@router.post("/tickets/{ticket}/reopen")
def ticket_reopen(
    ticket: str, body: CommentRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> dict:
    """人工校核需求未整改，重新打开 / reopen a manual request that is not fixed."""
    return tickets.ticket_view(
        tickets.confirm_request(ctx, who, ticket, verified=False, comment=body.comment)
    )


@router.get("/tickets/export", response_class=Response)
def ticket_export(format: Literal["csv", "xlsx"] = "csv",
                  ticket: list[str] | None = Query(None, max_length=1000),
                  dataset: str | None = Query(None, max_length=ID), state: TicketState | None = None,
                  who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:  # fmt: skip
    """导出工单及不合格键（CSV/XLSX，供转交数据提供单位）/ export tickets with their failing keys."""
    return downloads.ticket_export(ctx, who, format, refs=ticket, dataset=dataset, state=state)


# -- products ----------------------------------------------------------------------------------


def _product(ctx, row) -> dict:
    return registry.product_view(row, versions.released(ctx).get(row.id, []))


@router.get("/products")
def product_list(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """登记的数据产品 / registered products."""
    return catalogue.catalogue(ctx)


@router.get("/products/{product_id}")
def product_show(product_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """数据产品登记详情 / a product's registration."""
    return _product(ctx, registry.get(ctx, product_id))


class ProductRequest(BaseModel):
    product: str = Field(min_length=1, max_length=ID)
    title: str = Field(min_length=1, max_length=200)
    scenario: str = Field(min_length=1, max_length=ID)
    description: str = Field("", max_length=5000)
    form: str = Field("数据集", max_length=16)


@router.post("/products", status_code=201)
def product_register(body: ProductRequest, who: Principal = Depends(operator), ctx=Depends(platform)) -> dict:
    """首次登记（须有该场景已批准的同名作业）/ first registration (needs an approved job of that id)."""
    row = registry.register(ctx, who, product_id=body.product, title=body.title, scenario_id=body.scenario,
                            description=body.description, form=body.form)  # fmt: skip
    return _product(ctx, row)


class AmendRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    form: str | None = Field(None, max_length=16)

    def changes(self) -> dict:
        return {k: v for k in registry.EDITABLE if (v := getattr(self, k)) is not None}


@router.post("/products/{product_id}/change")
def product_change(product_id: str, body: AmendRequest, who: Principal = Depends(staff),
                   ctx=Depends(platform)) -> dict:  # fmt: skip
    """变更登记 / change a registration (the product changed)."""
    return _product(ctx, registry.change(ctx, who, product_id, body.reason, **body.changes()))


@router.post("/products/{product_id}/correct")
def product_correct(product_id: str, body: AmendRequest, who: Principal = Depends(staff),
                    ctx=Depends(platform)) -> dict:  # fmt: skip
    """更正登记 / correct a registration (it was wrong)."""
    return _product(ctx, registry.correct(ctx, who, product_id, body.reason, **body.changes()))


@router.post("/products/{product_id}/deregister")
def product_deregister(product_id: str, body: ReasonRequest, who: Principal = Depends(staff),
                       ctx=Depends(platform)) -> dict:  # fmt: skip
    """注销登记 / deregister a product."""
    return _product(ctx, registry.deregister(ctx, who, product_id, body.reason))


@router.get("/products/{product_id}/versions")
def product_versions(product_id: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """已发布的版本及其血缘 / released versions and their lineage."""
    return catalogue.released_versions(ctx, product_id)


@router.get("/products/{product_id}/download", response_class=Response,
            responses=downloads.ARCHIVE_RESPONSES)  # fmt: skip
def product_download(
    product_id: str,
    fmt: downloads.ArchiveFormat = "csv",
    version: VersionQuery = None,
    who: Principal = Depends(staff),
    ctx=Depends(platform),
) -> Response:
    """下载已发布版本的聚合表与公开门控报告（任何已登记产品）/ download a released version of any registered product."""
    return downloads.product_archive(ctx, who, product_id, fmt, version)


class TermsRequest(BaseModel):
    consumer: str = Field(min_length=1, max_length=ID)
    ends_on: date | None = None


@router.post("/products/{product_id}/terms", status_code=201)
def terms_grant(product_id: str, body: TermsRequest, who: Principal = Depends(staff),
                ctx=Depends(platform)) -> dict:  # fmt: skip
    """授予使用方有偿产品的使用条款（默认至撤销）/ grant a consumer organization terms of use."""
    return terms.terms_view(terms.grant_terms(ctx, who, product_id, body.consumer, ends_on=body.ends_on))


@router.get("/terms")
def terms_list(product: str | None = Query(None, max_length=ID), who: Principal = Depends(staff),
               ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """使用条款（运营人员看本机构的产品）/ terms of use (operators: their organization's products)."""
    return [terms.terms_view(t) for t in terms.list_terms(ctx, who, product)]


@router.post("/terms/{terms_id}/revoke")
def terms_revoke(terms_id: RowId, body: ReasonRequest, who: Principal = Depends(staff),
                 ctx=Depends(platform)) -> dict:  # fmt: skip
    """撤销使用条款 / revoke terms of use."""
    return terms.terms_view(terms.revoke_terms(ctx, who, terms_id, body.reason))


# -- re-development ------------------------------------------------------------------------------


@router.get("/redevelopment")
def redevelopment_list(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """再开发申请 / re-development applications."""
    return [redevelopment.application_view(r) for r in redevelopment.list_applications(ctx, who)]


class PurposeRequest(BaseModel):
    purpose: str = Field(min_length=1, max_length=2000)


@router.post("/products/{product_id}/redevelop", status_code=201)
def redevelopment_apply(product_id: str, body: PurposeRequest, who: Principal = Depends(operator),
                        ctx=Depends(platform)) -> dict:  # fmt: skip
    """申请再开发另一运营机构的产品 / apply to re-develop another operator's product."""
    return redevelopment.application_view(redevelopment.apply(ctx, who, product_id, body.purpose))


class RedevelopmentReview(BaseModel):
    approve: bool
    comment: str = Field("", max_length=2000)


@router.post("/redevelopment/{application_id}/review")
def redevelopment_review(application_id: RowId, body: RedevelopmentReview, who: Principal = Depends(operator),
                         ctx=Depends(platform)) -> dict:  # fmt: skip
    """审核再开发申请（非本机构）/ review a re-development application (not one's own organization's)."""
    row = redevelopment.review(ctx, who, application_id, approve=body.approve, comment=body.comment)
    return redevelopment.application_view(row)


# -- the release register ------------------------------------------------------------------------


@router.get("/register")
def register_list(dataset: str | None = Query(None, max_length=ID), who: Principal = Depends(staff),
                  ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """发布登记（防差分）及其大小 / the release register: releases and what they keep."""
    return [asdict(r) for r in release_register.releases(ctx, who, dataset)]
