"""Operator pages: the review queue (the job's code and hash, the diff against the same job's previous
approved submission, the static check's findings, the dev run of exactly that code with what the
gate would release; approve or reject with a comment), promotion (queued; its task page shows the
progress), scenario review (start, approve, reject, activate, add developers), correction tickets
(decide disputes, verify or reopen manual requests), gate reports of production runs, the product
registry with its 登记 actions and terms of use, and re-development applications."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from sandbox.api.access import platform
from sandbox.api.views import rows_view
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identity import Role
from sandbox.domain.job import SubmissionState
from sandbox.domain.quality import MANUAL_RULE, TicketState
from sandbox.domain.scenario import ScenarioState
from sandbox.governance import identities, scenarios
from sandbox.governance.access import Principal
from sandbox.products import catalogue, redevelopment, registry, terms
from sandbox.quality import tickets
from sandbox.runtime import approval, runs, submissions
from sandbox.tasks import queue

from .render import page, redirect
from .rules import Page
from .ticket_list import ticket_list as ticket_list_page

router = APIRouter(prefix="/operator", include_in_schema=False)
operator = Page(Role.OPERATOR)
staff = Page(Role.OPERATOR, Role.ADMIN)


@router.get("")
def review_queue(request: Request, who: Principal = Depends(operator), ctx=Depends(platform)) -> Response:
    """审核队列：待审核的作业在前，已批准的可转入生产 / the review queue: waiting jobs first, approved ones to promote."""
    rows = [submissions.submission_view(s) for s in submissions.list_submissions(ctx, who)]
    waiting = [s for s in rows if s["state"] == SubmissionState.SUBMITTED.value]
    approved = [s for s in reversed(rows) if s["state"] == SubmissionState.APPROVED.value]
    promotions = [queue.task_view(t) for t in queue.list_tasks(ctx, who, limit=20) if t.kind == "job.promote"]
    return page(
        request, who, "operator/queue.html", waiting=waiting, approved=approved, promotions=promotions
    )


@router.get("/submissions/{submission_id}")
def submission(submission_id: str, request: Request, who: Principal = Depends(operator),
               ctx=Depends(platform)) -> Response:  # fmt: skip
    """审核包：代码与哈希、差异、策略检查、同一代码的试运行建议、生产运行 / the review packet: code, hash, diff,
    check, the dev run of exactly this code (what the gate would release), runs."""
    packet = submissions.packet_view(submissions.review_packet(ctx, who, submission_id))
    advisory = submissions.advisory_for(ctx, who, submission_id)
    done = rows_view(runs.list_runs(ctx, who, submission_id), drop=("logs_path",))
    return page(request, who, "operator/submission.html", p=packet, advisory=advisory, runs=done,
                max_runs=approval.DEFAULT_MAX_RUNS, period_days=approval.DEFAULT_PERIOD_DAYS,
                max_period=approval.MAX_PERIOD_DAYS)  # fmt: skip


@router.post("/submissions/{submission_id}/review")
def review(submission_id: str, request: Request, decision: str = Form(...),
           comment: str = Form("", max_length=2000), max_runs: int = Form(approval.DEFAULT_MAX_RUNS, ge=1, le=1000),
           period_days: int = Form(approval.DEFAULT_PERIOD_DAYS, ge=1, le=approval.MAX_PERIOD_DAYS),
           who: Principal = Depends(operator), ctx=Depends(platform)) -> Response:  # fmt: skip
    """批准或驳回（非提交人；驳回须写理由）/ approve or reject (not the submitter; a rejection needs a comment)."""
    if decision not in ("approve", "reject"):
        raise InvalidInput("审核结论无效", "invalid review decision")
    submissions.review(ctx, who, submission_id, approve=decision == "approve", comment=comment, max_runs=max_runs,
                       period_days=period_days)  # fmt: skip
    return redirect(request, f"/operator/submissions/{submission_id}")


@router.post("/submissions/{submission_id}/promote")
def promote(submission_id: str, request: Request, who: Principal = Depends(operator),
            ctx=Depends(platform)) -> Response:  # fmt: skip
    """转入生产（排队；任务页显示进度）/ promote to production: queued; the task page follows its progress."""
    submissions.get(ctx, who, submission_id)  # an unknown submission is refused now, not by the task later
    row = queue.enqueue(ctx, who, "job.promote", {"submission": submission_id})
    return redirect(request, f"/tasks/{row.id}")


@router.get("/runs")
def gate_reports(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """门控报告：每次生产运行各输出发布与抑制的单元格（按规则）/ gate reports: cells released and suppressed per output."""
    done = rows_view(runs.list_runs(ctx, who), drop=("logs_path",))
    return page(request, who, "operator/runs.html", runs=list(reversed(done)))


# -- scenarios -----------------------------------------------------------------------------------


@router.get("/scenarios")
def scenario_list(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """应用场景及其审核状态；待审核的在前 / scenarios and their review state, those waiting first."""
    waiting = (ScenarioState.SUBMITTED.value, ScenarioState.UNDER_REVIEW.value)
    rows = [scenarios.scenario_view(s) for s in scenarios.list_scenarios(ctx)]
    rows.sort(key=lambda s: s["state"] not in waiting)
    return page(request, who, "operator/scenarios.html", scenarios=rows)


@router.get("/scenarios/{scenario_id}")
def scenario(scenario_id: str, request: Request, who: Principal = Depends(staff),
             ctx=Depends(platform)) -> Response:  # fmt: skip
    """场景审核：用途、申请的列及说明、数据提供单位的答复、开发人员 / a scenario's review: purpose, columns
    and why, the providers' answers, its developers; start review, approve, reject, activate, add developers."""
    detail = scenarios.scenario_detail(scenarios.get(ctx, scenario_id))
    cleared = [identities.user_view(u, o) for u, o in identities.list_users(ctx)]
    candidates = [u["user"] for u in cleared if u["cleared"] and u["user"] not in detail["developers"]]
    return page(request, who, "operator/scenario.html", s=detail, candidates=candidates)


@router.post("/scenarios/{scenario_id}/{action}")
def scenario_action(scenario_id: str, action: str, request: Request, comment: str = Form("", max_length=2000),
                    who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:  # fmt: skip
    """开始审核、批准、驳回（须写意见）、启用场景（四眼原则与授权由服务检查）/ start review, approve, reject
    (with a comment) or activate a scenario; the services check four eyes and the authorization."""
    if action == "start-review":
        scenarios.start_review(ctx, who, scenario_id)
    elif action == "approve":
        scenarios.approve(ctx, who, scenario_id, comment)
    elif action == "reject":
        scenarios.reject(ctx, who, scenario_id, comment)
    elif action == "activate":
        scenarios.activate(ctx, who, scenario_id)
    else:
        raise InvalidInput("未知的场景操作", "unknown scenario action")
    return redirect(request, f"/operator/scenarios/{scenario_id}")


@router.post("/scenarios/{scenario_id}/developers/add")
def add_developer(scenario_id: str, request: Request, username: str = Form(..., max_length=64),
                  who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:  # fmt: skip
    """为场景添加开发人员（须已核验身份、备案并签保密协议）/ add a cleared developer to a scenario."""
    scenarios.add_member(ctx, who, scenario_id, username)
    return redirect(request, f"/operator/scenarios/{scenario_id}")


# -- correction tickets --------------------------------------------------------------------------


@router.get("/tickets")
def ticket_list(request: Request, state: TicketState | None = None, who: Principal = Depends(staff),
                ctx=Depends(platform)) -> Response:  # fmt: skip
    """整改工单；有异议待裁决的在前 / correction tickets, disputed ones (waiting for a decision) first."""
    return ticket_list_page(
        request, who, ctx, state, base="/operator", lead="optickets.lead", disputed_first=True
    )


@router.get("/tickets/{ticket}")
def ticket(ticket: str, request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """工单详情：异议裁决、人工校核需求的核验 / a ticket: decide its dispute, or verify a manual request."""
    detail = tickets.ticket_detail(tickets.get_ticket(ctx, who, ticket))
    detail.pop("examples")  # failing keys are records: exported inside the domain, never shown on a page
    state = TicketState(detail["state"])
    return page(request, who, "operator/ticket.html", tk=detail, disputed=state is TicketState.DISPUTED,
                confirmable=detail["rule"] == MANUAL_RULE and state is TicketState.FIXED)  # fmt: skip


@router.post("/tickets/{ticket}/decide")
def decide_ticket(ticket: str, request: Request, decision: str = Form(...),
                  comment: str = Form("", max_length=2000), who: Principal = Depends(staff),
                  ctx=Depends(platform)) -> Response:  # fmt: skip
    """裁决异议（须说明理由）：成立则关闭工单、键记为例外；驳回则提供单位须整改 / decide a dispute, with a reason."""
    if decision not in ("uphold", "reject"):
        raise InvalidInput("裁决结论无效", "invalid decision")
    row = tickets.decide(ctx, who, ticket, uphold=decision == "uphold", comment=comment)
    return redirect(request, f"/operator/tickets/{tickets.ticket_view(row)['ticket']}")


@router.post("/tickets/{ticket}/{action}")
def confirm_ticket(ticket: str, action: str, request: Request, comment: str = Form("", max_length=2000),
                   who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:  # fmt: skip
    """核验人工校核需求已整改，或重新打开 / confirm a manual request fixed (verify), or reopen it."""
    if action not in ("verify", "reopen"):
        raise InvalidInput("未知的工单操作", "unknown ticket action")
    row = tickets.confirm_request(ctx, who, ticket, verified=action == "verify", comment=comment)
    return redirect(request, f"/operator/tickets/{tickets.ticket_view(row)['ticket']}")


# -- products ------------------------------------------------------------------------------------


@router.get("/products")
def products(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """产品登记簿与首次登记 / the product registry, and first registration."""
    rows = catalogue.catalogue(ctx)
    return page(request, who, "operator/products.html", products=rows, forms=registry.FORMS)


@router.post("/products")
def register(request: Request, product: str = Form(..., max_length=64), title: str = Form(..., max_length=200),
             scenario: str = Form(..., max_length=64), description: str = Form("", max_length=5000),
             form: str = Form("数据集", max_length=16), who: Principal = Depends(operator),
             ctx=Depends(platform)) -> Response:  # fmt: skip
    """首次登记（须有该场景已批准的同名作业）/ first registration (needs an approved job of that id)."""
    row = registry.register(ctx, who, product_id=product, title=title, scenario_id=scenario, description=description,
                            form=form)  # fmt: skip
    return redirect(request, f"/operator/products/{row.id}")


@router.get("/products/{product_id}")
def product(
    product_id: str, request: Request, who: Principal = Depends(staff), ctx=Depends(platform)
) -> Response:
    """登记详情、已发布版本及其血缘、使用条款；变更、更正、注销 / a registration, its versions, terms; 登记 actions."""
    view = catalogue.product(ctx, product_id)
    released = catalogue.released_versions(ctx, product_id)
    granted = [terms.terms_view(t) for t in terms.list_terms(ctx, who, product_id)]
    return page(request, who, "operator/product.html", p=view, versions=list(reversed(released)), terms=granted,
                forms=registry.FORMS)  # fmt: skip


@router.post("/products/{product_id}/terms")
def grant_terms(product_id: str, request: Request, consumer: str = Form(..., max_length=64),
                ends_on: date | None = Form(None), who: Principal = Depends(staff),
                ctx=Depends(platform)) -> Response:  # fmt: skip
    """授予使用方有偿产品的使用条款 / grant a consumer organization terms of use."""
    terms.grant_terms(ctx, who, product_id, consumer, ends_on=ends_on)
    return redirect(request, f"/operator/products/{product_id}")


@router.post("/products/{product_id}/{action}")
def amend(product_id: str, action: str, request: Request, reason: str = Form(..., max_length=2000),
          title: str = Form("", max_length=200), description: str = Form("", max_length=5000),
          form: str = Form("", max_length=16), who: Principal = Depends(staff),
          ctx=Depends(platform)) -> Response:  # fmt: skip
    """变更、更正或注销登记（须说明理由）/ change, correct or deregister a registration (with a reason)."""
    if action == "deregister":
        registry.deregister(ctx, who, product_id, reason)
    elif action in ("change", "correct"):
        changes = {k: v for k, v in (("title", title), ("description", description), ("form", form)) if v}
        getattr(registry, action)(ctx, who, product_id, reason, **changes)
    else:
        raise InvalidInput("未知的登记操作", "unknown registration action")
    return redirect(request, f"/operator/products/{product_id}")


# -- re-development ------------------------------------------------------------------------------


@router.get("/redevelopment")
def applications(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """再开发申请及审核 / re-development applications and their review."""
    rows = [redevelopment.application_view(r) for r in redevelopment.list_applications(ctx, who)]
    return page(request, who, "operator/redevelopment.html", applications=rows)


@router.post("/redevelopment/{application_id}")
def review_application(application_id: int, request: Request, decision: str = Form(...),
                       comment: str = Form("", max_length=2000), who: Principal = Depends(operator),
                       ctx=Depends(platform)) -> Response:  # fmt: skip
    """批准或驳回再开发申请 / approve or reject a re-development application."""
    if decision not in ("approve", "reject"):
        raise InvalidInput("审核结论无效", "invalid review decision")
    redevelopment.review(ctx, who, application_id, approve=decision == "approve", comment=comment)
    return redirect(request, "/operator/redevelopment")
