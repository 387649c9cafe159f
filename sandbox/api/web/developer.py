"""Developer pages: scenarios and their approved columns, sample cards and the desensitized sample files
(members only), job submission, dev runs on samples with the gate's advisory verdict (queued; the task
page shows progress and the result; a submission's page shows the dev run of exactly its code), and the
status of production runs — ``developer_view`` only: type and line on failure."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from sandbox.api import uploads
from sandbox.api.access import platform
from sandbox.api.routers.developer import parquet_download
from sandbox.domain.identity import Role
from sandbox.governance import scenarios
from sandbox.governance.access import Principal
from sandbox.runtime import submissions
from sandbox.runtime.production import developer_view
from sandbox.runtime.runs import list_runs
from sandbox.samples import card_of, sample_file, show_samples
from sandbox.samples.card import flagged_columns

from .render import page, redirect
from .rules import Page

router = APIRouter(prefix="/developer", include_in_schema=False)
developer = Page(Role.DEVELOPER)


@router.get("")
def scenario_list(request: Request, who: Principal = Depends(developer), ctx=Depends(platform)) -> Response:
    """应用场景；本人参与的在前 / scenarios, the ones one works on first."""
    details = [scenarios.scenario_detail(scenarios.get(ctx, s.id)) for s in scenarios.list_scenarios(ctx)]
    details.sort(key=lambda s: who.username not in s["developers"])
    return page(request, who, "developer/scenarios.html", scenarios=details)


@router.get("/scenarios/{scenario_id}")
def scenario(scenario_id: str, request: Request, who: Principal = Depends(developer),
             ctx=Depends(platform)) -> Response:  # fmt: skip
    """场景详情与批准的列 / a scenario and its approved columns."""
    detail = scenarios.scenario_detail(scenarios.get(ctx, scenario_id))
    approved: dict[str, list[dict]] = {}
    for column in detail["columns"]:
        if column["status"] == "granted":
            approved.setdefault(column["dataset"], []).append(column)
    return page(request, who, "developer/scenario.html", s=detail, approved=approved,
                member=who.username in detail["developers"])  # fmt: skip


@router.get("/scenarios/{scenario_id}/samples")
def samples(scenario_id: str, request: Request, who: Principal = Depends(developer),
            ctx=Depends(platform)) -> Response:  # fmt: skip
    """场景当前样例的样例卡（仅场景开发人员）/ the card of a scenario's current samples (its developers only)."""
    card = card_of(show_samples(ctx, who, scenario_id))
    return page(request, who, "developer/samples.html", card=card, flagged=flagged_columns(card))


@router.get("/scenarios/{scenario_id}/samples/{dataset_id}.parquet")
def sample_download(scenario_id: str, dataset_id: str, who: Principal = Depends(developer),
                    ctx=Depends(platform)) -> Response:  # fmt: skip
    """下载一个数据集的脱敏样例（Parquet；仅场景开发人员）/ download a dataset's desensitized sample (members only)."""
    return parquet_download(*sample_file(ctx, who, scenario_id, dataset_id))


@router.get("/jobs")
def jobs(request: Request, who: Principal = Depends(developer), ctx=Depends(platform)) -> Response:
    """提交作业、样例试运行、我的提交与生产运行状态 / submit, dev-run, my submissions and my runs' status."""
    mine = [submissions.submission_view(s) for s in submissions.list_submissions(ctx, who)]
    runs = [developer_view(r) for r in list_runs(ctx, who)]
    return page(
        request, who, "developer/jobs.html", submissions=list(reversed(mine)), runs=list(reversed(runs))
    )


@router.post("/submissions")
def submit(request: Request, files: list[UploadFile] = File(...), who: Principal = Depends(developer),
           ctx=Depends(platform)) -> Response:  # fmt: skip
    """提交作业（上传作业目录；快照 + SHA-256 + 策略检查）/ submit a job: snapshot, SHA-256, policy check."""
    row = uploads.submit_job(ctx, who, files)
    return redirect(request, f"/developer/submissions/{row.id}")


@router.post("/dev-runs")
def dev_run(request: Request, files: list[UploadFile] = File(...), who: Principal = Depends(developer),
            ctx=Depends(platform)) -> Response:  # fmt: skip
    """在场景样例上试运行作业（排队；结果含门控建议）/ run a job on samples (queued; with the gate's advice)."""
    row = uploads.queue_dev_run(ctx, who, files)
    return redirect(request, f"/tasks/{row.id}")


@router.get("/submissions/{submission_id}")
def submission(submission_id: str, request: Request, who: Principal = Depends(developer),
               ctx=Depends(platform)) -> Response:  # fmt: skip
    """我的提交：代码、哈希、策略检查、同一代码的试运行建议、审核意见与生产运行状态 / my submission: code, hash,
    check, the dev run of exactly this code, the review, runs."""
    packet = submissions.packet_view(submissions.review_packet(ctx, who, submission_id))
    advisory = submissions.advisory_for(ctx, who, submission_id)
    runs = [developer_view(r) for r in list_runs(ctx, who, submission_id)]
    return page(request, who, "developer/submission.html", p=packet, advisory=advisory, runs=runs)
