"""Re-development (再开发): other entities build on a delivered product, after operator review.

The operator organization that delivered the product may not re-develop it itself.
"""

from __future__ import annotations

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identity import Role
from sandbox.domain.product import REDEVELOPMENT_LIFECYCLE, ProductState, RedevelopmentState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.models import ProductRow, RedevelopmentRow


class RedevelopmentError(ShuyuError):
    code = "E550"


def check_may_redevelop(product: ProductRow, actor: Principal) -> None:
    if product.operator_org_id == actor.org_id:
        raise PermissionDenied(
            f"交付数据产品 {product.id} 的运营机构不能作为再开发主体",
            f"the operator that delivered product {product.id} may not be its re-developer",
        )
    if product.state != ProductState.REGISTERED.value:
        raise RedevelopmentError(f"数据产品 {product.id} 已注销", f"product {product.id} is deregistered")


def apply(ctx: PlatformContext, actor: Principal, product_id: str, purpose: str) -> RedevelopmentRow:
    with (
        audited_refusals(ctx, actor, "redevelopment.apply", "product", product_id),
        ctx.transaction() as session,
    ):
        check_role(
            actor, {Role.DEVELOPER, Role.CONSUMER, Role.OPERATOR}, "申请再开发", "apply for re-development"
        )
        product = session.get(ProductRow, product_id)
        if product is None:
            raise NotFoundError(f"数据产品 {product_id} 不存在", f"product {product_id} does not exist")
        check_may_redevelop(product, actor)
        if not purpose.strip():
            raise RedevelopmentError("须说明再开发用途", "a re-development purpose is required")
        row = RedevelopmentRow(
            product_id=product_id, applicant=actor.username, applicant_org_id=actor.org_id, purpose=purpose,
            state=REDEVELOPMENT_LIFECYCLE.check(None, "apply").value, created_at=utc_now_iso(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        ctx.audit(session, "redevelopment.apply", "redevelopment", str(row.id), actor=actor.username,
                  product=product_id, applicant_org=actor.org_id)  # fmt: skip
        return row


def review(
    ctx: PlatformContext, actor: Principal, application_id: int, *, approve: bool, comment: str
) -> RedevelopmentRow:
    with (
        audited_refusals(ctx, actor, "redevelopment.review", "redevelopment", str(application_id)),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR}, "审核再开发申请", "review re-development applications")
        row = session.get(RedevelopmentRow, application_id, with_for_update=True)  # one decision at a time
        if row is None:
            raise NotFoundError(
                f"再开发申请 {application_id} 不存在",
                f"re-development application {application_id} does not exist",
            )
        if row.applicant_org_id == actor.org_id:
            raise PermissionDenied(
                "不能审核本机构的再开发申请", "may not review your own organization's application"
            )
        action = "approve" if approve else "reject"
        row.state = REDEVELOPMENT_LIFECYCLE.check(RedevelopmentState(row.state), action).value
        row.reviewer, row.reviewed_at, row.comment = actor.username, utc_now_iso(), comment
        ctx.audit(
            session,
            f"redevelopment.{action}",
            "redevelopment",
            str(application_id),
            actor=actor.username,
            comment=comment,
        )
        return row


def application_view(row: RedevelopmentRow) -> dict:
    return {"application": row.id, "product": row.product_id, "applicant": row.applicant_org_id,
            "purpose": row.purpose, "state": row.state}  # fmt: skip


def list_applications(ctx: PlatformContext, actor: Principal | None = None) -> list[RedevelopmentRow]:
    """Every application; for an ``actor`` who is not an operator, admin or auditor, their organization's only."""
    query = select(RedevelopmentRow).order_by(RedevelopmentRow.id)
    if actor is not None and not actor.has(Role.OPERATOR, Role.ADMIN, Role.AUDITOR):
        query = query.where(RedevelopmentRow.applicant_org_id == actor.org_id)
    with ctx.sessions() as session:
        return list(session.scalars(query))
