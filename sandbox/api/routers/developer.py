"""Developers (cleared, on the scenarios they are members of): scenarios, sample cards, job
submission, dev runs on samples (queued), their submissions and the status of their production runs,
the data correction requests they raise, and the product catalogue they apply to re-develop from.

A job folder arrives as a multipart upload of its files (``job.toml``, ``job.py``, ``README.md``):
plain names only, within size limits, written to a private directory of the work zone; a submission
snapshots it and the directory goes at once, a dev run's directory goes when its task has run.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from sandbox.api import downloads, uploads
from sandbox.api.access import Allow, platform
from sandbox.api.bodies import ID, ProposeRequest, RaiseRequest
from sandbox.domain.identifiers import NAME
from sandbox.domain.identity import Role
from sandbox.domain.quality import TicketState
from sandbox.governance import scenarios
from sandbox.governance.access import Principal
from sandbox.products import catalogue, redevelopment
from sandbox.quality import tickets
from sandbox.runtime import submissions
from sandbox.runtime.production import developer_view
from sandbox.runtime.runs import list_runs
from sandbox.samples import card_of, sample_file, show_samples
from sandbox.samples.card import card_markdown, flagged_columns
from sandbox.tasks import queue

router = APIRouter(prefix="/developer", tags=["developer"])
developer = Allow(Role.DEVELOPER)

# -- scenarios -----------------------------------------------------------------------------


@router.get("/scenarios")
def list_scenarios(who: Principal = Depends(developer), ctx=Depends(platform)) -> list[dict]:
    """应用场景 / scenarios."""
    return [scenarios.scenario_view(s) for s in scenarios.list_scenarios(ctx)]


@router.get("/scenarios/{scenario_id}")
def show_scenario(scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """场景详情：申请的列、答复与开发人员 / a scenario's columns, their answers and its developers."""
    return scenarios.scenario_detail(scenarios.get(ctx, scenario_id))


@router.post("/scenarios", status_code=201)
def propose(body: ProposeRequest, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """提出场景建设方案（草稿；须属运营机构）/ propose a scenario (a draft; operator organizations only)."""
    return scenarios.scenario_view(scenarios.propose(ctx, who, **body.arguments()))


@router.post("/scenarios/{scenario_id}/submit")
def submit_scenario(
    scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)
) -> list[dict]:
    """提交审核并向数据提供单位发出申请（提出人）/ submit for review and request the providers' consent (proposer)."""
    return [scenarios.consent_view(c) for c in scenarios.submit(ctx, who, scenario_id)]


@router.post("/scenarios/{scenario_id}/withdraw")
def withdraw_scenario(scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """撤回场景（提出人）/ withdraw a scenario (proposer)."""
    scenarios.withdraw(ctx, who, scenario_id)
    return scenarios.scenario_view(scenarios.get(ctx, scenario_id))


# -- samples -------------------------------------------------------------------------------


@router.get("/scenarios/{scenario_id}/samples")
def sample_card(scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """场景当前样例的样例卡（场景开发人员）/ the card of the scenario's current samples (its developers)."""
    return card_of(show_samples(ctx, who, scenario_id))


@router.get("/scenarios/{scenario_id}/samples/card.md", response_class=PlainTextResponse)
def sample_card_markdown(scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> str:
    """完整样例卡（Markdown）/ the full sample card as Markdown."""
    return card_markdown(card_of(show_samples(ctx, who, scenario_id)))


@router.get("/scenarios/{scenario_id}/samples/findings")
def sample_findings(
    scenario_id: str, who: Principal = Depends(developer), ctx=Depends(platform)
) -> list[dict]:
    """样例画像发现的误登记列 / columns the samples' profiling found holding identifiers."""
    return flagged_columns(card_of(show_samples(ctx, who, scenario_id)))


PARQUET = "application/vnd.apache.parquet"


def parquet_download(name: str, content: bytes) -> Response:
    return Response(
        content, media_type=PARQUET, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/scenarios/{scenario_id}/samples/{dataset_id}.parquet", response_class=Response,
            responses={200: {"content": {PARQUET: {}}, "description": "脱敏样例 / the desensitized sample"}})  # fmt: skip
def sample_download(scenario_id: str, dataset_id: str, who: Principal = Depends(developer),
                    ctx=Depends(platform)) -> Response:  # fmt: skip
    """下载场景当前的脱敏样例（一个数据集，Parquet；仅场景开发人员）/ download a dataset's desensitized sample
    of the scenario (Parquet; its developers only)."""
    return parquet_download(*sample_file(ctx, who, scenario_id, dataset_id))


# -- jobs ----------------------------------------------------------------------------------


_JOB_FILES = File(description="作业目录中的文件 / the job folder's files: job.toml, job.py, README.md")


@router.post("/submissions", status_code=201)
def submit_job(files: list[UploadFile] = _JOB_FILES, who: Principal = Depends(developer),
               ctx=Depends(platform)) -> dict:  # fmt: skip
    """提交作业（上传作业目录；快照 + SHA-256 + 策略检查）/ submit a job: upload its folder; snapshot, SHA-256, policy check."""
    return submissions.submission_view(uploads.submit_job(ctx, who, files))


@router.post("/dev-runs", status_code=202)
def dev_run(files: list[UploadFile] = _JOB_FILES, who: Principal = Depends(developer),
            ctx=Depends(platform)) -> dict:  # fmt: skip
    """在场景样例上运行作业（排队；结果含门控建议）/ run a job on samples (queued; the result has the gate's advisory)."""
    return queue.task_view(uploads.queue_dev_run(ctx, who, files))


@router.get("/submissions")
def my_submissions(who: Principal = Depends(developer), ctx=Depends(platform)) -> list[dict]:
    """我的作业提交 / my job submissions."""
    return [submissions.submission_view(s) for s in submissions.list_submissions(ctx, who)]


@router.get("/submissions/{submission_id}")
def review_packet(submission_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """我的提交的审核包：代码、哈希、策略检查、审核意见 / my submission's review packet: code, hash, check, review."""
    return submissions.packet_view(submissions.review_packet(ctx, who, submission_id))


@router.get("/runs")
def my_runs(submission: str | None = Query(None, max_length=32), who: Principal = Depends(developer),
            ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """我的作业的生产运行（只见状态）/ production runs of my submissions (status only, never logs)."""
    return [developer_view(r) for r in list_runs(ctx, who, submission)]


# -- data correction requests ----------------------------------------------------------------
# A developer raises them on a dataset of a scenario they work on, and sees those they raised
# (``quality.access.visible_tickets``): manual requests, which carry no failing keys.


@router.get("/tickets")
def ticket_list(dataset: str | None = Query(None, max_length=ID), state: TicketState | None = None,
                provider: str | None = Query(None, max_length=ID), who: Principal = Depends(developer),
                ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """我提出的数据治理校核需求 / the data correction requests I raised."""
    found = tickets.list_tickets(ctx, who, dataset_id=dataset, state=state, provider_id=provider)
    return [tickets.ticket_view(t) for t in found]


@router.post("/tickets", status_code=201)
def ticket_raise(body: RaiseRequest, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """提出数据治理校核需求（须参与使用该数据集的场景）/ raise a data correction request (on a dataset of
    a scenario one works on)."""
    return tickets.ticket_view(tickets.raise_request(ctx, who, **body.arguments()))


@router.get("/tickets/export", response_class=Response)
def ticket_export(format: Literal["csv", "xlsx"] = "csv",
                  ticket: list[str] | None = Query(None, max_length=1000),
                  dataset: str | None = Query(None, max_length=ID), state: TicketState | None = None,
                  who: Principal = Depends(developer), ctx=Depends(platform)) -> Response:  # fmt: skip
    """导出我提出的工单（CSV/XLSX）/ export the requests I raised (CSV/XLSX)."""
    return downloads.ticket_export(ctx, who, format, refs=ticket, dataset=dataset, state=state)


@router.get("/tickets/{ticket}")
def ticket_show(ticket: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """我提出的一项需求及其答复 / one request I raised, with the provider's note."""
    return tickets.ticket_detail(tickets.get_ticket(ctx, who, ticket))


# -- products and re-development -------------------------------------------------------------


@router.get("/products")
def products(who: Principal = Depends(developer), ctx=Depends(platform)) -> list[dict]:
    """数据产品目录（供申请再开发）/ the product catalogue (to apply to re-develop from)."""
    return catalogue.catalogue(ctx)


@router.get("/products/{product_id}")
def product(product_id: str, who: Principal = Depends(developer), ctx=Depends(platform)) -> dict:
    """数据产品登记详情 / a product's registration."""
    return catalogue.product(ctx, product_id)


@router.get("/products/{product_id}/versions")
def product_versions(
    product_id: str, who: Principal = Depends(developer), ctx=Depends(platform)
) -> list[dict]:
    """已发布的版本及其血缘 / released versions and their lineage."""
    return catalogue.released_versions(ctx, product_id)


class ApplicationRequest(BaseModel):
    product: str = Field(pattern=f"^{NAME}$")
    purpose: str = Field(min_length=1, max_length=2000)


@router.post("/redevelopments", status_code=201)
def apply_redevelopment(body: ApplicationRequest, who: Principal = Depends(developer),
                        ctx=Depends(platform)) -> dict:  # fmt: skip
    """申请再开发 / apply to re-develop a product."""
    return redevelopment.application_view(redevelopment.apply(ctx, who, body.product, body.purpose))


@router.get("/redevelopments")
def my_redevelopments(who: Principal = Depends(developer), ctx=Depends(platform)) -> list[dict]:
    """本机构的再开发申请 / my organization's re-development applications."""
    return [redevelopment.application_view(r) for r in redevelopment.list_applications(ctx, who)]
