"""Terms of use (使用条款): which consumer organization may take which fee-bearing product, until when.

A fee-bearing (有偿) product leaves the platform to a consumer only under a grant an operator of
the product's operator organization (or an admin) made to the consumer's organization; billing
comes later with the services. A free (免费) product needs no grant: any consumer may take it, so
granting terms on one is refused rather than recorded as a restriction it would not be. A grant
ends on its end date (inclusive, Asia/Shanghai) or when revoked; nothing is deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.product import ProductState, TermsState, terms_state
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.products.registry import check_owner, load
from sandbox.store.models import OrganizationRow, ProductRow, ProductTermsRow


class TermsError(ShuyuError):
    code = "E560"


class TermsRequired(PermissionDenied):
    """A consumer asked for a fee-bearing product without terms of use in force for its organization."""

    code = "E561"


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def state(row: ProductTermsRow, today: date | None = None) -> TermsState:
    return terms_state(row.ends_on, row.revoked_at, today or _today())


def active_terms(session: Session, product_id: str, org_id: str, today: date) -> ProductTermsRow | None:
    """The grant of ``product_id`` to ``org_id`` in force ``today``, if any."""
    grants = session.scalars(
        select(ProductTermsRow).where(
            ProductTermsRow.product_id == product_id, ProductTermsRow.consumer_org_id == org_id
        )
    )
    return next((g for g in grants if state(g, today) is TermsState.ACTIVE), None)


def check_terms(session: Session, actor: Principal, product: ProductRow, today: date) -> None:
    """Raise unless ``product`` is free or ``actor``'s organization holds terms of use for it ``today``."""
    if product.fee_bearing and active_terms(session, product.id, actor.org_id, today) is None:
        raise TermsRequired(
            f"数据产品 {product.id} 为有偿产品，机构 {actor.org_id} 没有有效的使用条款授予，不能导出；请联系运营机构",
            f"product {product.id} is fee-bearing and organization {actor.org_id} holds no terms of use in force "
            "for it; ask its operator for a grant",
        )


def grant_terms(
    ctx: PlatformContext,
    actor: Principal,
    product_id: str,
    consumer_org: str,
    *,
    ends_on: date | None = None,
    today: date | None = None,
) -> ProductTermsRow:
    """Let ``consumer_org`` take ``product_id`` until ``ends_on`` (inclusive; ``None``: until revoked)."""
    today = today or _today()
    with (
        audited_refusals(ctx, actor, "product.terms_grant", "product", product_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR, Role.ADMIN}, "授予使用条款", "grant terms of use")
        product = load(session, product_id)
        check_owner(product, actor)
        if product.state != ProductState.REGISTERED.value:
            raise TermsError(f"数据产品 {product_id} 已注销", f"product {product_id} is deregistered")
        if not product.fee_bearing:
            raise TermsError(
                f"数据产品 {product_id} 为免费产品，任何使用方均可导出，无需授予使用条款",
                f"product {product_id} is free: any consumer may export it, so it takes no terms of use",
            )
        org = session.get(OrganizationRow, consumer_org)
        if org is None or org.kind != OrgKind.CONSUMER.value:
            raise TermsError(
                f"{consumer_org} 不是使用方机构", f"{consumer_org} is not a consumer organization"
            )
        if ends_on is not None and ends_on < today:
            raise TermsError("使用条款的结束日期已过", "the terms' end date has already passed")
        existing = active_terms(session, product_id, consumer_org, today)
        if existing is not None:
            raise TermsError(
                f"{consumer_org} 已有数据产品 {product_id} 的有效使用条款 #{existing.id}；如需变更请先撤销",
                f"{consumer_org} already holds terms of use #{existing.id} for product {product_id}; revoke them first",
            )
        row = ProductTermsRow(
            product_id=product_id, consumer_org_id=consumer_org, granted_by=actor.username, granted_at=utc_now_iso(),
            ends_on=ends_on.isoformat() if ends_on else None,
        )  # fmt: skip
        session.add(row)
        session.flush()
        ctx.audit(session, "product.terms_grant", "product_terms", str(row.id), actor=actor.username,
                  product=product_id, consumer_org=consumer_org, ends_on=row.ends_on)  # fmt: skip
        return row


def revoke_terms(ctx: PlatformContext, actor: Principal, terms_id: int, reason: str) -> ProductTermsRow:
    with (
        audited_refusals(ctx, actor, "product.terms_revoke", "product_terms", str(terms_id)),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR, Role.ADMIN}, "撤销使用条款", "revoke terms of use")
        row = session.get(ProductTermsRow, terms_id)
        if row is None:
            raise NotFoundError(f"使用条款 #{terms_id} 不存在", f"terms of use #{terms_id} do not exist")
        check_owner(load(session, row.product_id), actor)
        if row.revoked_at is not None:
            raise TermsError(f"使用条款 #{terms_id} 已撤销", f"terms of use #{terms_id} are already revoked")
        if not reason.strip():
            raise TermsError("须说明理由", "a reason is required")
        row.revoked_at, row.revoked_by, row.revoke_reason = utc_now_iso(), actor.username, reason
        ctx.audit(session, "product.terms_revoke", "product_terms", str(terms_id), actor=actor.username,
                  product=row.product_id, consumer_org=row.consumer_org_id, reason=reason)  # fmt: skip
        return row


def terms_view(row: ProductTermsRow) -> dict:
    return {"terms": row.id, "product": row.product_id, "consumer": row.consumer_org_id, "granted_by": row.granted_by,
            "granted_at": row.granted_at, "ends_on": row.ends_on, "state": state(row).value}  # fmt: skip


def list_terms(
    ctx: PlatformContext, actor: Principal, product_id: str | None = None
) -> list[ProductTermsRow]:
    """Admins and auditors see every grant, operators their organization's products', consumers their own."""
    with audited_refusals(ctx, actor, "product.terms_list", "product", product_id or "*"):
        check_role(
            actor,
            {Role.OPERATOR, Role.ADMIN, Role.AUDITOR, Role.CONSUMER},
            "查看使用条款",
            "read terms of use",
        )
        query = select(ProductTermsRow).order_by(ProductTermsRow.id)
        if product_id is not None:
            query = query.where(ProductTermsRow.product_id == product_id)
        if not actor.has(Role.ADMIN, Role.AUDITOR):
            if actor.has(Role.OPERATOR):
                operated = select(ProductRow.id).where(ProductRow.operator_org_id == actor.org_id)
                query = query.where(ProductTermsRow.product_id.in_(operated))
            else:
                query = query.where(ProductTermsRow.consumer_org_id == actor.org_id)
        with ctx.sessions() as session:
            return list(session.scalars(query))
