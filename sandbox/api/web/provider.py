"""Provider pages: datasets and versions with uploads (queued ingest, with progress), data-use requests
and their due dates, quality reports with the pass rate of every rule over versions, the ticket inbox
(acknowledge, fix, dispute), and the scorecard. Services narrow everything to the user's own provider."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from sandbox.api import uploads
from sandbox.api.access import platform
from sandbox.catalog.service import (
    dataset_row_view,
    dataset_view,
    list_datasets,
    show_dataset,
)
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identity import Role
from sandbox.domain.quality import TICKET_LIFECYCLE, TicketState
from sandbox.governance import scenarios
from sandbox.governance.access import Principal
from sandbox.quality import tickets
from sandbox.quality.access import provider_of
from sandbox.quality.history import rule_history
from sandbox.quality.reports import report_for_dataset
from sandbox.quality.scorecard import scorecard, scorecard_view

from . import charts
from .i18n import lang_of, text
from .render import page, redirect
from .rules import Page
from .ticket_list import OPEN, ticket_list

router = APIRouter(prefix="/provider", include_in_schema=False)
provider = Page(Role.PROVIDER)
#: The provider's answers, as the ticket page's forms name them, and the lifecycle's actions.
ANSWERS = (("ack", "acknowledge"), ("fix", "fix"), ("dispute", "dispute"))


def _own_datasets(ctx, who: Principal) -> list[dict]:
    return [
        dataset_row_view(row, latest)
        for row, latest in list_datasets(ctx, who)
        if row.provider_id == who.provider_id
    ]


@router.get("")
def datasets(request: Request, who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:
    """本单位数据集及最新版本 / one's own datasets and their latest versions."""
    today = scenarios.local_today()
    requests = [scenarios.consent_view(c, today) for c in scenarios.consents_for(ctx, who)]
    inbox = [tickets.ticket_view(t) for t in tickets.list_tickets(ctx, who)]
    return page(request, who, "provider/datasets.html", datasets=_own_datasets(ctx, who),
                pending=sum(r["state"] == "pending" for r in requests), overdue=sum(r["overdue"] for r in requests),
                open_tickets=sum(t["state"] in OPEN for t in inbox))  # fmt: skip


@router.get("/datasets/{dataset_id}")
def dataset(
    dataset_id: str, request: Request, who: Principal = Depends(provider), ctx=Depends(platform)
) -> Response:
    """数据集的列、分级、版本与隔离区，上传新版本 / a dataset's columns, grading, versions, quarantine; upload."""
    view = dataset_view(show_dataset(ctx, dataset_id, who))
    return page(request, who, "provider/dataset.html", d=view, mine=view["provider"] == who.provider_id,
                max_files=uploads.DELIVERY.max_files)  # fmt: skip


@router.post("/datasets/{dataset_id}/upload", max_body_size=uploads.DELIVERY.max_body_bytes,
             form_limits={"max_files": uploads.DELIVERY.max_files})  # fmt: skip
def upload(dataset_id: str, request: Request, files: list[UploadFile] = File(...),
           who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:  # fmt: skip
    """上传数据集的新版本（排队导入，显示进度）/ deliver a new version: the ingest is queued; its page shows progress."""
    row = uploads.queue_delivery(ctx, who, dataset_id, files)
    return redirect(request, f"/tasks/{row.id}")


# -- data-use requests -----------------------------------------------------------------------


@router.get("/requests")
def requests(request: Request, who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:
    """数据使用申请及答复期限，逾期标红 / data-use requests with their due dates; overdue ones in red."""
    today = scenarios.local_today()
    rows = [scenarios.consent_view(c, today) for c in scenarios.consents_for(ctx, who)]
    return page(request, who, "provider/requests.html", requests=rows, today=today)


@router.get("/requests/{scenario_id}/{dataset_id}")
def request_detail(scenario_id: str, dataset_id: str, request: Request, who: Principal = Depends(provider),
                   ctx=Depends(platform)) -> Response:  # fmt: skip
    """一项数据使用申请：用途、申请的列及必要性说明；答复 / one request: purpose, columns and why; the answer."""
    detail = scenarios.data_use_request(ctx, who, scenario_id, dataset_id)
    return page(request, who, "provider/request.html", r=detail)


@router.post("/requests/{scenario_id}/{dataset_id}")
def decide(scenario_id: str, dataset_id: str, request: Request, decision: str = Form(...),
           refuse: list[str] = Form([]), comment: str = Form("", max_length=2000),
           who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:  # fmt: skip
    """答复数据使用申请：同意（可拒绝若干列）或拒绝 / decide: grant (refusing some columns) or refuse."""
    if decision not in ("grant", "refuse") or len(refuse) > 500 or any(len(c) > 64 for c in refuse):
        raise InvalidInput("答复无效", "invalid decision")
    scenarios.decide_consent(ctx, who, scenario_id, dataset_id, grant=decision == "grant",
                             refuse_columns=set(refuse), comment=comment)  # fmt: skip
    return redirect(request, f"/provider/requests/{scenario_id}/{dataset_id}")


# -- quality ---------------------------------------------------------------------------------


@router.get("/quality")
def quality(request: Request, who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:
    """本单位各数据集的质量得分与趋势 / quality scores and trends of one's own datasets."""
    card = scorecard_view(scorecard(ctx, who, provider_of(who, None)))
    return page(request, who, "provider/quality.html", card=card)


@router.get("/quality/{dataset_id}")
def quality_report(dataset_id: str, request: Request, who: Principal = Depends(provider),
                   ctx=Depends(platform)) -> Response:  # fmt: skip
    """数据集质量报告：各规则通过率随版本变化（图）、各维度得分、工单 / a dataset's quality report with its charts."""
    history = rule_history(ctx, who, dataset_id)
    json_path, _html = report_for_dataset(ctx, who, dataset_id)
    report = json.loads(json_path.read_text(encoding="utf-8"))
    lang = lang_of(request)
    series = [(r["rule"], [(p["version"], p["pass_rate"]) for p in r["points"]]) for r in history["rules"]]
    chart = charts.pass_rates(series, text(lang, "quality.chart_title"))
    return page(request, who, "provider/quality_report.html", report=report, history=history, chart=chart,
                legend=charts.legend([r for r, _ in series]))  # fmt: skip


# -- tickets ---------------------------------------------------------------------------------


@router.get("/tickets")
def inbox(request: Request, state: TicketState | None = None, who: Principal = Depends(provider),
          ctx=Depends(platform)) -> Response:  # fmt: skip
    """整改工单收件箱 / the correction-ticket inbox."""
    return ticket_list(request, who, ctx, state, base="/provider")


@router.get("/tickets/{ticket}")
def ticket(
    ticket: str, request: Request, who: Principal = Depends(provider), ctx=Depends(platform)
) -> Response:
    """工单详情与答复（确认、已整改、异议）/ a ticket and its answers: acknowledge, fixed, dispute."""
    detail = tickets.ticket_detail(tickets.get_ticket(ctx, who, ticket))
    detail.pop("examples")  # failing keys are records: exported inside the domain, never shown on a page
    state = TicketState(detail["state"])
    answers = [name for name, action in ANSWERS if state in TICKET_LIFECYCLE.states_allowing(action)]
    return page(request, who, "provider/ticket.html", tk=detail, answers=answers)


@router.post("/tickets/{ticket}/{action}")
def answer(ticket: str, action: str, request: Request, text_: str = Form("", alias="text", max_length=2000),
           who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:  # fmt: skip
    """答复工单：确认收到、报告已整改（须说明）、提出异议（须说明理由）/ answer a ticket."""
    if action == "ack":
        row = tickets.acknowledge(ctx, who, ticket, text_ or None)
    elif action == "fix":
        if not text_.strip():
            raise InvalidInput("请说明整改了什么", "say what was corrected")
        row = tickets.mark_fixed(ctx, who, ticket, text_)
    elif action == "dispute":
        row = tickets.dispute(ctx, who, ticket, text_)
    else:
        raise InvalidInput("未知的答复", "unknown answer")
    return redirect(request, f"/provider/tickets/{tickets.ticket_view(row)['ticket']}")


@router.get("/scorecard")
def card(request: Request, who: Principal = Depends(provider), ctx=Depends(platform)) -> Response:
    """本单位评价：数据质量、整改时效、应用情况 / the scorecard: quality, response times, use."""
    return page(
        request,
        who,
        "provider/scorecard.html",
        card=scorecard_view(scorecard(ctx, who, provider_of(who, None))),
    )
