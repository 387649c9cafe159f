"""Data providers (and, where the services let them, operators and administrators): their datasets and
versions, uploads of new versions (queued ingest), quality reports and the scorecard, the correction-ticket
inbox, data-use requests, the samples' profile findings on their datasets, the ticket webhook, and the
release register over their datasets. The catalog itself is read here by every role that works with it.

The services narrow what a provider's user sees to its own provider; the rules here only say which roles
may knock. An upload arrives as multipart files: the dataset and the caller's right to deliver it are
checked first, then the files go, under plain names and within a size limit, to a fresh private directory
of the work zone, and the ingest is queued; the worker removes the directory when the task has run.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from sandbox.api import uploads
from sandbox.api.access import Allow, platform
from sandbox.catalog.service import (
    dataset_row_view,
    dataset_view,
    get_dataset,
    list_datasets,
    show_dataset,
)
from sandbox.domain.identity import Role
from sandbox.domain.quality import TicketState
from sandbox.governance import release_register, scenarios
from sandbox.governance.access import Principal
from sandbox.quality import tickets
from sandbox.quality.access import provider_of
from sandbox.quality.export import export_tickets
from sandbox.quality.reports import report_for_dataset, report_for_provider
from sandbox.quality.scorecard import scorecard, scorecard_view
from sandbox.quality.suites import suite_view
from sandbox.quality.webhooks import register_endpoint
from sandbox.samples import finding_view, findings_for
from sandbox.store.zones import Zone, zone_path
from sandbox.tasks import queue

router = APIRouter(prefix="/provider", tags=["provider"])
provider = Allow(Role.PROVIDER)
ingesters = Allow(Role.PROVIDER, Role.ADMIN)
#: Providers read their own provider's results; operators and administrators everyone's (services decide).
readers = Allow(Role.PROVIDER, Role.OPERATOR, Role.ADMIN)
request_readers = Allow(Role.PROVIDER, Role.OPERATOR, Role.ADMIN, Role.AUDITOR)
#: The catalog entry (columns, grading) is for everyone who works with it: developers propose scenarios on
#: its columns, and auditors read deliveries too; versions and quarantine only where ``can_read_deliveries``.
catalog_readers = Allow(Role.PROVIDER, Role.OPERATOR, Role.ADMIN, Role.DEVELOPER, Role.AUDITOR)
register_readers = Allow(*release_register.READERS)

Id = Annotated[str | None, Query(max_length=64)]


# -- datasets --------------------------------------------------------------------------------


@router.get("/datasets")
def datasets(who: Principal = Depends(catalog_readers), ctx=Depends(platform)) -> list[dict]:
    """数据目录（只显示本单位数据集的最新版本）/ the catalog, with latest versions of one's own datasets."""
    return [dataset_row_view(row, latest) for row, latest in list_datasets(ctx, who)]


@router.get("/datasets/{dataset_id}")
def dataset(dataset_id: str, who: Principal = Depends(catalog_readers), ctx=Depends(platform)) -> dict:
    """数据集的列、分级、版本与隔离区（版本仅本单位可见）/ a dataset's columns, grading, versions and quarantine."""
    return dataset_view(show_dataset(ctx, dataset_id, who))


@router.post(
    "/datasets/{dataset_id}/versions",
    status_code=202,
    max_body_size=uploads.DELIVERY.max_body_bytes,
    form_limits={"max_files": uploads.DELIVERY.max_files},
)
def upload(
    dataset_id: str,
    files: list[UploadFile] = File(
        description="上传文件（CSV、Parquet、JSON Lines、XLSX）/ the files of one delivery"
    ),
    who: Principal = Depends(ingesters),
    ctx=Depends(platform),
) -> dict:
    """上传数据集的新版本（排队导入）/ deliver a dataset's next version: the ingest is queued."""
    return queue.task_view(uploads.queue_delivery(ctx, who, dataset_id, files))


# -- quality -------------------------------------------------------------------------------


@router.get("/datasets/{dataset_id}/suite")
def suite(dataset_id: str, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """数据集生效的质量规则（YAML）/ the rule suite a dataset is checked with (YAML)."""
    return suite_view(ctx, get_dataset(ctx, dataset_id))


@router.get("/datasets/{dataset_id}/quality")
def dataset_quality(dataset_id: str, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """数据集的质量报告：得分、各维度、规则、趋势、工单 / a dataset's quality report: scores, rules, trend, tickets."""
    json_path, _html = report_for_dataset(ctx, who, dataset_id)
    return _read_json(json_path)


@router.get("/datasets/{dataset_id}/quality.html", response_class=HTMLResponse)
def dataset_quality_page(dataset_id: str, who: Principal = Depends(readers), ctx=Depends(platform)) -> str:
    """数据集质量报告（自包含 HTML，含图表）/ a dataset's quality report as a self-contained HTML page."""
    _json, html_path = report_for_dataset(ctx, who, dataset_id)
    return html_path.read_text(encoding="utf-8")


@router.get("/quality")
def provider_quality(provider: Id = None, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """数据提供单位质量汇总报告（默认本单位）/ a provider's quality summary (default: one's own)."""
    json_path, _html = report_for_provider(ctx, who, provider_of(who, provider))
    return _read_json(json_path)


@router.get("/quality.html", response_class=HTMLResponse)
def provider_quality_page(provider: Id = None, who: Principal = Depends(readers),
                          ctx=Depends(platform)) -> str:  # fmt: skip
    """数据提供单位质量汇总报告（HTML）/ a provider's quality summary as an HTML page."""
    _json, html_path = report_for_provider(ctx, who, provider_of(who, provider))
    return html_path.read_text(encoding="utf-8")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@router.get("/scorecard")
def provider_scorecard(provider: Id = None, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """数据提供单位评价：数据质量、整改时效、应用情况 / the provider scorecard: quality, response times, use."""
    return scorecard_view(scorecard(ctx, who, provider_of(who, provider)))


class WebhookRequest(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    provider: str | None = Field(None, max_length=64, description="默认本单位 / default: one's own")


@router.post("/webhook", status_code=201)
def webhook(body: WebhookRequest, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """登记接收工单通知的地址；签名密钥只显示一次 / register the ticket webhook; the signing key is shown once."""
    provider_id = provider_of(who, body.provider)
    key = register_endpoint(ctx, who, provider_id, body.url)
    return {"provider": provider_id, "url": body.url, "signing_key": key.hex()}


# -- profile findings ------------------------------------------------------------------------


@router.get("/samples/findings")
def sample_findings(who: Principal = Depends(provider), ctx=Depends(platform)) -> list[dict]:
    """样例画像在本单位数据集中发现的误登记列 / columns of one's own datasets declared harmless that the
    samples' profiling found holding identifiers."""
    return [finding_view(f) for f in findings_for(ctx, who)]


# -- correction tickets ----------------------------------------------------------------------


@router.get("/tickets")
def ticket_list(dataset: Id = None, state: TicketState | None = None, provider: Id = None,
                who: Principal = Depends(readers), ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """整改工单收件箱（本单位）/ the correction-ticket inbox (one's own provider's)."""
    found = tickets.list_tickets(ctx, who, dataset_id=dataset, state=state, provider_id=provider)
    return [tickets.ticket_view(t) for t in found]


_EXPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}  # fmt: skip


@router.get("/tickets/export", response_class=Response)
def ticket_export(
    format: Literal["xlsx", "csv"] = "xlsx",
    ticket: list[str] = Query([], max_length=200, description="工单，默认全部 / tickets, default all"),
    dataset: Id = None,
    state: TicketState | None = None,
    who: Principal = Depends(provider),
    ctx=Depends(platform),
) -> Response:
    """导出本单位工单及不合格键（XLSX/CSV）/ export one's own tickets with their failing keys (XLSX/CSV)."""
    scratch = zone_path(ctx.settings, Zone.WORK, "exports")
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        out = export_tickets(ctx, who, Path(folder) / f"tickets.{format}", refs=ticket or None, dataset_id=dataset,
                             state=state)  # fmt: skip
        content = out.read_bytes()
    name = f"tickets-{scenarios.local_today()}.{format}"
    return Response(content, media_type=_EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/tickets/{ticket}")
def ticket_show(ticket: str, who: Principal = Depends(readers), ctx=Depends(platform)) -> dict:
    """工单详情（示例键与不合格列）/ a ticket with its example keys and the failing column."""
    return tickets.ticket_detail(tickets.get_ticket(ctx, who, ticket))


class NoteRequest(BaseModel):
    note: str | None = Field(None, max_length=2000)


class FixRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="整改说明 / what was corrected")


class DisputeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/tickets/{ticket}/ack")
def ticket_ack(ticket: str, body: NoteRequest | None = None, who: Principal = Depends(provider),
               ctx=Depends(platform)) -> dict:  # fmt: skip
    """确认收到工单 / acknowledge a ticket."""
    return tickets.ticket_view(tickets.acknowledge(ctx, who, ticket, body.note if body else None))


@router.post("/tickets/{ticket}/fix")
def ticket_fix(
    ticket: str, body: FixRequest, who: Principal = Depends(provider), ctx=Depends(platform)
) -> dict:
    """报告已整改；交付新版本后由质量检查核验 / report a ticket fixed; the next version's run verifies it."""
    return tickets.ticket_view(tickets.mark_fixed(ctx, who, ticket, body.note))


@router.post("/tickets/{ticket}/dispute")
def ticket_dispute(ticket: str, body: DisputeRequest, who: Principal = Depends(provider),
                   ctx=Depends(platform)) -> dict:  # fmt: skip
    """对工单提出异议（须说明理由）/ dispute a ticket, with a reason."""
    return tickets.ticket_view(tickets.dispute(ctx, who, ticket, body.reason))


# -- data-use requests -----------------------------------------------------------------------


@router.get("/requests")
def requests(
    overdue: bool = False, who: Principal = Depends(request_readers), ctx=Depends(platform)
) -> list[dict]:
    """数据使用申请及答复期限（数据提供单位只看本单位）/ data-use requests and their due dates (one's own)."""
    today = scenarios.local_today()
    found = scenarios.consents_for(ctx, who, overdue_on=date.fromisoformat(today) if overdue else None)
    return [scenarios.consent_view(c, today) for c in found]


@router.get("/requests/{scenario_id}/{dataset_id}")
def request_detail(scenario_id: str, dataset_id: str, who: Principal = Depends(request_readers),
                   ctx=Depends(platform)) -> dict:  # fmt: skip
    """一项数据使用申请：场景用途、申请的列及必要性说明 / one request: the scenario's purpose, the columns and why."""
    return scenarios.data_use_request(ctx, who, scenario_id, dataset_id)


class ConsentRequest(BaseModel):
    grant: bool = Field(description="同意（true）或拒绝（false）/ grant (true) or refuse (false)")
    refuse_columns: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=500, description="拒绝的列 / columns to refuse"
    )
    comment: str = Field("", max_length=2000)


@router.post("/requests/{scenario_id}/{dataset_id}")
def decide_request(scenario_id: str, dataset_id: str, body: ConsentRequest, who: Principal = Depends(provider),
                   ctx=Depends(platform)) -> dict:  # fmt: skip
    """答复数据使用申请：同意、部分同意（拒绝若干列）或拒绝 / decide a request: grant, grant in part, or refuse."""
    consent = scenarios.decide_consent(ctx, who, scenario_id, dataset_id, grant=body.grant,
                                       refuse_columns=set(body.refuse_columns), comment=body.comment)  # fmt: skip
    return scenarios.consent_view(consent)


# -- release register ------------------------------------------------------------------------


@router.get("/register")
def register(
    dataset: Id = None, who: Principal = Depends(register_readers), ctx=Depends(platform)
) -> list[dict]:
    """发布登记（数据提供单位须指定本单位数据集）/ releases in the register (a provider names its own dataset)."""
    return [asdict(r) for r in release_register.releases(ctx, who, dataset)]


class ClearRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="清除理由（记入审计）/ why (audited)")


@router.post("/register/{dataset_id}/clear")
def clear_register(dataset_id: str, body: ClearRequest, who: Principal = Depends(provider),
                   ctx=Depends(platform)) -> dict:  # fmt: skip
    """清除本单位数据集的发布登记 / clear the releases over one's own dataset."""
    return {
        "dataset": dataset_id,
        "cleared": release_register.clear(ctx, who, dataset_id, reason=body.reason),
    }
