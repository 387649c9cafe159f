"""Provider scorecards (数据质量、审核时效、应用情况): data quality and its trend, how fast tickets are
answered against their deadline, the share answered late or not at all, and how much the data is
used in scenarios and products.

A delivered version that fixes a ticket answers it (``tickets._ANSWERS``), at its delivery: fixing
data is never scored worse than acknowledging it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.context import PlatformContext
from sandbox.display import shanghai_date
from sandbox.domain.errors import NotFoundError
from sandbox.domain.product import ProductState
from sandbox.governance.access import Principal, audited_refusals
from sandbox.products.versions import dataset_reads
from sandbox.quality.access import check_may_read_provider
from sandbox.quality.tickets import shanghai_today
from sandbox.store import catalog_repo
from sandbox.store.models import ProductRow, QualityRunRow, QualityTicketRow, ScenarioColumnRow


@dataclass(frozen=True)
class DatasetQuality:
    dataset_id: str
    title: str
    trend: list[tuple[int, float]]  # (version, score) of the latest run per version, oldest first

    @property
    def latest(self) -> float | None:
        return self.trend[-1][1] if self.trend else None

    @property
    def change(self) -> float | None:
        return round(self.trend[-1][1] - self.trend[-2][1], 2) if len(self.trend) > 1 else None


@dataclass(frozen=True)
class DatasetUsage:
    dataset_id: str
    scenarios: int  # scenarios granted at least one of its columns
    granted_columns: int
    products: list[str] = field(default_factory=list)  # registered products whose releases read it
    releases: int = 0  # released versions of those products that read it


@dataclass(frozen=True)
class Scorecard:
    provider_id: str
    provider_name: str
    as_of: date
    quality: list[DatasetQuality]
    tickets: int
    open_tickets: int
    answered: int
    median_response_hours: float | None
    answered_on_time_share: float | None  # of answered tickets, answered by their due date
    overdue_share: float | None  # of tickets due by now or answered: late or still unanswered
    usage: list[DatasetUsage]

    @property
    def quality_score(self) -> float | None:
        scores = [q.latest for q in self.quality if q.latest is not None]
        return round(statistics.fmean(scores), 2) if scores else None


def _hours(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 3600


def _quality(session: Session, dataset_ids: dict[str, str]) -> list[DatasetQuality]:
    result = []
    for dataset_id, title in dataset_ids.items():
        runs = session.scalars(
            select(QualityRunRow)
            .where(QualityRunRow.dataset_id == dataset_id)
            .order_by(QualityRunRow.finished_at)
        )
        latest_by_version = {run.version: run.score for run in runs}
        result.append(DatasetQuality(dataset_id, title, sorted(latest_by_version.items())))
    return result


def _usage(session: Session, dataset_ids: list[str]) -> list[DatasetUsage]:
    """Scenarios and columns granted, and the released product versions that actually read each dataset."""
    registered = {
        p.id for p in session.scalars(select(ProductRow)) if p.state != ProductState.DEREGISTERED.value
    }
    reads = [r for r in dataset_reads(session) if r.product_id in registered]
    usage = []
    for dataset_id in dataset_ids:
        granted = select(ScenarioColumnRow).where(
            ScenarioColumnRow.dataset_id == dataset_id, ScenarioColumnRow.status == "granted"
        )
        columns = list(session.scalars(granted))
        read = [r for r in reads if r.dataset_id == dataset_id]
        usage.append(
            DatasetUsage(
                dataset_id,
                len({c.scenario_id for c in columns}),
                len(columns),
                sorted({r.product_id for r in read}),
                len(read),
            )
        )
    return usage


def scorecard(
    ctx: PlatformContext, actor: Principal, provider_id: str, *, today: date | None = None
) -> Scorecard:
    """The scorecard as ``actor`` may read it: operators any provider's, a provider's user its own."""
    with audited_refusals(ctx, actor, "quality.scorecard", "provider", provider_id):
        check_may_read_provider(actor, provider_id)
    return build_scorecard(ctx, provider_id, today=today or shanghai_today())


def build_scorecard(ctx: PlatformContext, provider_id: str, *, today: date) -> Scorecard:
    with ctx.sessions() as session:
        provider = catalog_repo.get_provider(session, provider_id)
        if provider is None:
            raise NotFoundError(
                f"数据提供单位 {provider_id} 未登记", f"provider {provider_id} is not registered"
            )
        datasets = {
            d.id: d.title for d in catalog_repo.list_datasets(session) if d.provider_id == provider_id
        }
        tickets = list(
            session.scalars(select(QualityTicketRow).where(QualityTicketRow.provider_id == provider_id))
        )
        quality = _quality(session, datasets)
        usage = _usage(session, list(datasets))
    answered = [t for t in tickets if t.answered_at]
    on_time = [t for t in answered if shanghai_date(t.answered_at) <= date.fromisoformat(t.due_on)]
    judged = [t for t in tickets if t.answered_at or date.fromisoformat(t.due_on) < today]
    overdue = [t for t in judged if t not in on_time]
    return Scorecard(
        provider_id=provider_id,
        provider_name=provider.name,
        as_of=today,
        quality=quality,
        tickets=len(tickets),
        open_tickets=sum(t.closed_at is None for t in tickets),
        answered=len(answered),
        median_response_hours=round(
            statistics.median(_hours(t.created_at, t.answered_at) for t in answered), 1
        )
        if answered
        else None,
        answered_on_time_share=round(len(on_time) / len(answered), 4) if answered else None,
        overdue_share=round(len(overdue) / len(judged), 4) if judged else None,
        usage=usage,
    )


def scorecard_view(card: Scorecard) -> dict[str, Any]:
    """A scorecard as every face and the provider report show it: counts and scores, never keys."""
    return {
        "provider": card.provider_id,
        "name": card.provider_name,
        "as_of": card.as_of.isoformat(),
        "quality_score": card.quality_score,
        "tickets": card.tickets,
        "open_tickets": card.open_tickets,
        "answered": card.answered,
        "median_response_hours": card.median_response_hours,
        "answered_on_time_share": card.answered_on_time_share,
        "overdue_share": card.overdue_share,
        "datasets": [
            {
                "id": q.dataset_id,
                "title": q.title,
                "score": q.latest,
                "change": q.change,
                "trend": [{"version": v, "score": s} for v, s in q.trend],
            }
            for q in card.quality
        ],
        "usage": [
            {
                "dataset": u.dataset_id,
                "scenarios": u.scenarios,
                "granted_columns": u.granted_columns,
                "products": u.products,
                "releases": u.releases,
            }
            for u in card.usage
        ],
    }
