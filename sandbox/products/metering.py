"""Metering and billing of the product query API: per consumer organization, product and day.

Every answered query is counted in the request that answers it, before the answer leaves, in the
one transaction that also checked the key and the export rule (``delivery.query`` calls ``charge``):
one conditional upsert takes the request from the key's quota (``INSERT … ON CONFLICT DO UPDATE …
WHERE requests < quota RETURNING``, the same SQL on SQLite and PostgreSQL), a second adds the
request, its rows, its bytes and its fee to the day's usage. A request over quota changes neither,
and is refused (``QuotaExceeded``, HTTP 429): it was not served, so it is not counted. The commit is
as durable as any other of the store's (SQLite ``synchronous=FULL``: on disk before the answer is
sent; PostgreSQL ``synchronous_commit``).

Fees: products of public-governance and public-welfare scenarios (公共治理 / 公益事业) are free;
industry and sector-development products (产业发展 / 行业发展, ``fee_bearing``) cost the guided
price (政府指导价) per request plus per 1,000 rows, read from ``SANDBOX_PRICE_PER_REQUEST`` and
``SANDBOX_PRICE_PER_1000_ROWS`` (yuan, up to 0.001). A setting, not a gate policy key: the gate's
policy file may only tighten disclosure rules, and a price has no "tighter"; it is the deployment's
commercial term, set by the pricing authority. Each request's fee is recorded when it is answered,
at the price then in force, so changing the price never rewrites a bill already run up.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import InvalidInput, ShuyuError
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.db import Direct, Statement
from sandbox.store.models import OrganizationRow, ProductRow, ProductUsageRow

MICRO = 1_000_000
READERS = frozenset({Role.CONSUMER, Role.OPERATOR, Role.ADMIN, Role.AUDITOR})
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class Prices(BaseSettings):
    """The guided price of fee-bearing products, in yuan (``SANDBOX_PRICE_*``)."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_PRICE_", extra="ignore")

    per_request: Decimal = Field(default=Decimal("0.01"), ge=0, le=1000, decimal_places=3)
    per_1000_rows: Decimal = Field(default=Decimal("0.1"), ge=0, le=1000, decimal_places=3)

    def fee_micro_yuan(self, rows: int) -> int:
        """One answered request's fee in millionths of a yuan (exact: prices have at most 3 decimals)."""
        return int(self.per_request * MICRO) + int(self.per_1000_rows * 1000) * rows


class QuotaExceeded(ShuyuError):
    """The key has used its daily quota; the request was not served and is not counted (HTTP 429)."""

    code = "E582"

    def __init__(self, quota: int) -> None:
        super().__init__(
            f"API 密钥今日请求已达配额（{quota:,} 次），本次未提供数据、不计费；北京时间零点重置",
            f"this API key has used its daily quota ({quota:,} requests); nothing was served or "
            "counted; the count starts again at midnight Asia/Shanghai",
        )


def seconds_to_reset(now: datetime | None = None) -> int:
    """Seconds until midnight in Asia/Shanghai, when every key's daily count starts again."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
    return max(1, int((midnight - now).total_seconds()))


#: One statement each, the same text on SQLite (>= 3.35) and PostgreSQL: the key's count goes up
#: only while under its quota (no row back means over quota), the usage adds to the day's row.
_TAKE = Statement(
    "INSERT INTO api_key_days (key_id, day, requests) VALUES (:key_id, :day, 1) "
    "ON CONFLICT (key_id, day) DO UPDATE SET requests = api_key_days.requests + 1 "
    "WHERE api_key_days.requests < :quota RETURNING requests"
)
_COUNT = Statement(
    "INSERT INTO product_usage (org_id, product_id, day, requests, rows_served, bytes_served, fee_micro_yuan) "
    "VALUES (:org_id, :product_id, :day, 1, :rows, :nbytes, :fee) "
    "ON CONFLICT (org_id, product_id, day) DO UPDATE SET requests = product_usage.requests + 1, "
    "rows_served = product_usage.rows_served + excluded.rows_served, "
    "bytes_served = product_usage.bytes_served + excluded.bytes_served, "
    "fee_micro_yuan = product_usage.fee_micro_yuan + excluded.fee_micro_yuan"
)


@lru_cache(maxsize=4)
def _prices(per_request: str | None, per_1000_rows: str | None) -> Prices:
    return Prices()


def prices() -> Prices:
    """The prices in force (read once per distinct ``SANDBOX_PRICE_*`` environment)."""
    return _prices(os.environ.get("SANDBOX_PRICE_PER_REQUEST"), os.environ.get("SANDBOX_PRICE_PER_1000_ROWS"))


def charge(
    tx: Direct,
    *,
    key_id: str,
    org_id: str,
    quota: int,
    product_id: str,
    fee_bearing: bool,
    rows: int,
    nbytes: int,
    day: str,
) -> None:
    """In the caller's transaction: take one request from the key's ``quota`` (the one in force, read in
    that transaction) and count it as served, or raise ``QuotaExceeded`` having changed nothing."""
    taken = tx.one(_TAKE, {"key_id": key_id, "day": day, "quota": quota}) if quota > 0 else None
    if taken is None:
        raise QuotaExceeded(quota)
    fee = prices().fee_micro_yuan(rows) if fee_bearing else 0
    tx.run(_COUNT, {"org_id": org_id, "product_id": product_id, "day": day, "rows": rows, "nbytes": nbytes,
                    "fee": fee})  # fmt: skip


def check_month(month: str | None) -> str:
    """``YYYY-MM``; none given: this month in Asia/Shanghai."""
    if month is None:
        return datetime.now(SHANGHAI).strftime("%Y-%m")
    if not _MONTH.fullmatch(month):
        raise InvalidInput("月份须为 YYYY-MM 格式", "the month must be YYYY-MM")
    return month


def _month_range(month: str) -> tuple[str, str]:
    first = date.fromisoformat(f"{month}-01")
    after = (first + timedelta(days=32)).replace(day=1)
    return first.isoformat(), after.isoformat()


def _visible(query, actor: Principal):
    """Admins and auditors see every organization's usage, operators their organization's products',
    consumers their own organization's."""
    if actor.has(Role.ADMIN, Role.AUDITOR):
        return query
    if actor.has(Role.OPERATOR):
        return query.where(ProductRow.operator_org_id == actor.org_id)
    return query.where(ProductUsageRow.org_id == actor.org_id)


def yuan(micro_yuan: int) -> str:
    """An amount in yuan, to the fen (rounded half up), as text: ``"12.35"``."""
    return str((Decimal(micro_yuan) / MICRO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def billing(ctx: PlatformContext, actor: Principal, month: str | None = None) -> list[dict]:
    """What each consumer organization owes per product for ``month`` (free products at 0.00)."""
    month = check_month(month)
    with audited_refusals(ctx, actor, "billing.read", "billing", month):
        check_role(actor, READERS, "查看计费", "read billing")
    first, after = _month_range(month)
    query = (
        select(ProductUsageRow.org_id, OrganizationRow.name, ProductRow.id, ProductRow.title, ProductRow.category,
               ProductRow.fee_bearing, func.count(ProductUsageRow.day), func.sum(ProductUsageRow.requests),
               func.sum(ProductUsageRow.rows_served), func.sum(ProductUsageRow.bytes_served),
               func.sum(ProductUsageRow.fee_micro_yuan))
        .join(ProductRow, ProductRow.id == ProductUsageRow.product_id)
        .join(OrganizationRow, OrganizationRow.id == ProductUsageRow.org_id)
        .where(ProductUsageRow.day >= first, ProductUsageRow.day < after)
        .group_by(ProductUsageRow.org_id, OrganizationRow.name, ProductRow.id, ProductRow.title,
                  ProductRow.category, ProductRow.fee_bearing)
        .order_by(ProductUsageRow.org_id, ProductRow.id)
    )  # fmt: skip
    with ctx.sessions() as session:
        found = session.execute(_visible(query, actor)).all()
    return [
        {"month": month, "consumer": org, "consumer_name": name, "product": product, "title": title,
         "category": category, "charging": "有偿" if fee_bearing else "免费", "days": days, "requests": int(requests),
         "rows": int(rows), "bytes": int(nbytes), "amount_yuan": yuan(int(fee))}
        for org, name, product, title, category, fee_bearing, days, requests, rows, nbytes, fee in found
    ]  # fmt: skip


def usage(
    ctx: PlatformContext, actor: Principal, month: str | None = None, product_id: str | None = None
) -> list[dict]:
    """Usage per organization, product and day of ``month``, as visible to ``actor`` (see ``billing``)."""
    month = check_month(month)
    with audited_refusals(ctx, actor, "usage.read", "billing", month):
        check_role(actor, READERS, "查看用量", "read usage")
    first, after = _month_range(month)
    query = (
        select(ProductUsageRow)
        .join(ProductRow, ProductRow.id == ProductUsageRow.product_id)
        .where(ProductUsageRow.day >= first, ProductUsageRow.day < after)
        .order_by(ProductUsageRow.day, ProductUsageRow.org_id, ProductUsageRow.product_id)
    )
    if product_id is not None:
        query = query.where(ProductUsageRow.product_id == product_id)
    with ctx.sessions() as session:
        rows = session.scalars(_visible(query, actor)).all()
    return [
        {"day": r.day, "consumer": r.org_id, "product": r.product_id, "requests": r.requests, "rows": r.rows_served,
         "bytes": r.bytes_served, "amount_yuan": yuan(r.fee_micro_yuan)}
        for r in rows
    ]  # fmt: skip


def usage_by_product(session: Session) -> dict[str, dict[str, int]]:
    """All-time answered queries per product: how many consumer organizations, requests and rows (disclosure)."""
    query = select(
        ProductUsageRow.product_id,
        func.count(func.distinct(ProductUsageRow.org_id)),
        func.sum(ProductUsageRow.requests),
        func.sum(ProductUsageRow.rows_served),
    ).group_by(ProductUsageRow.product_id)
    return {
        product: {"consumers": int(consumers), "requests": int(requests), "rows": int(rows)}
        for product, consumers, requests, rows in session.execute(query)
    }
