"""Product registration (登记): first registration, change, correction, deregistration.

Each is a transition of the registration state machine, carries a reason, bumps the revision
where the registration's content changes, and writes one audit event.

A product is what an approved job releases, and its id is that job's id: a registration naming
no approved job submission of its scenario is refused, so nothing can be registered that no job
could ever release. A registration made by hand before the first release (production registers
automatically at the first release otherwise) stays "not released" until a version exists; that
status is read from the released versions (``versions.released``), never stored beside them.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identifiers import IdKind, check_id
from sandbox.domain.identity import Role
from sandbox.domain.job import SubmissionState
from sandbox.domain.product import PRODUCT_REGISTRATION, ProductState
from sandbox.domain.scenario import ScenarioCategory, ScenarioState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store import allocate
from sandbox.store.models import JobSubmissionRow, ProductRow, ScenarioRow

EDITABLE = ("title", "description", "form")
FORMS = ("数据集", "API接口", "数据报告", "模型")


class ProductError(ShuyuError):
    code = "E540"


def load(session: Session, product_id: str) -> ProductRow:
    row = session.get(ProductRow, product_id)
    if row is None:
        raise NotFoundError(f"数据产品 {product_id} 不存在", f"product {product_id} does not exist")
    return row


def _approved_submission(session: Session, product_id: str, scenario_id: str) -> JobSubmissionRow:
    """The latest approved submission of job ``product_id`` in the scenario: the job the product comes from."""
    submission = session.scalars(
        select(JobSubmissionRow)
        .where(
            JobSubmissionRow.job_id == product_id,
            JobSubmissionRow.scenario_id == scenario_id,
            JobSubmissionRow.state == SubmissionState.APPROVED.value,
        )
        .order_by(JobSubmissionRow.reviewed_at.desc())
    ).first()
    if submission is None:
        raise ProductError(
            f"场景 {scenario_id} 没有已批准的作业 {product_id}：数据产品只能登记为已批准作业的产出（产品标识即作业标识）",
            f"scenario {scenario_id} has no approved job {product_id}: a product can only be registered as the "
            "output of an approved job submission (the product id is the job id)",
        )
    return submission


def check_owner(row: ProductRow, actor: Principal) -> None:
    if Role.ADMIN not in actor.roles and row.operator_org_id != actor.org_id:
        raise PermissionDenied(
            f"数据产品 {row.id} 由 {row.operator_org_id} 登记，{actor.username} 无权修改",
            f"product {row.id} is registered by {row.operator_org_id}; {actor.username} may not change it",
        )


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ProductError(
            f"产品形态须为 {'、'.join(FORMS)} 之一", f"product form must be one of {', '.join(FORMS)}"
        )


def register(
    ctx: PlatformContext,
    actor: Principal,
    *,
    product_id: str,
    title: str,
    scenario_id: str,
    description: str,
    form: str = "数据集",
) -> ProductRow:
    with (
        audited_refusals(ctx, actor, "product.register", "product", product_id),
        ctx.transaction() as session,
    ):
        check_id(IdKind.PRODUCT, product_id)
        check_role(actor, {Role.OPERATOR}, "登记数据产品", "register products")
        _check_form(form)
        # Numbered first: under the allocation lock, a concurrent registration of the same id has
        # committed or not started, so the check below sees it (a clear refusal, not a key clash).
        serial = allocate.registration_serial(session)
        if session.get(ProductRow, product_id) is not None:
            raise ProductError(f"数据产品 {product_id} 已登记", f"product {product_id} is already registered")
        scenario = session.get(ScenarioRow, scenario_id)
        if scenario is None or scenario.state != ScenarioState.ACTIVE.value:
            raise ProductError(
                f"场景 {scenario_id} 不存在或未启用，不能登记产品",
                f"scenario {scenario_id} is missing or not active",
            )
        if scenario.operator_org_id != actor.org_id:
            raise PermissionDenied(
                "只能为本机构的场景登记产品",
                "products can only be registered for your own organization's scenarios",
            )
        submission = _approved_submission(session, product_id, scenario_id)
        category = ScenarioCategory(scenario.category)
        now = utc_now_iso()
        year = now[:4]
        row = ProductRow(
            id=product_id, title=title, description=description, scenario_id=scenario_id, category=category.value,
            fee_bearing=category.fee_bearing, operator_org_id=scenario.operator_org_id, form=form,
            registration_no=f"SYDJ-{year}-{serial:06d}", revision=1,
            state=PRODUCT_REGISTRATION.check(None, "register").value, registered_by=actor.username,
            registered_at=now, updated_at=now,
        )  # fmt: skip
        session.add(row)
        ctx.audit(session, "product.register", "product", product_id, actor=actor.username,
                  registration_no=row.registration_no, scenario=scenario_id, category=category.value,
                  fee_bearing=category.fee_bearing, job_submission=submission.id)  # fmt: skip
        return row


def _amend(
    ctx: PlatformContext, actor: Principal, product_id: str, action: str, reason: str, changes: dict
) -> ProductRow:
    with (
        audited_refusals(ctx, actor, f"product.{action}", "product", product_id),
        ctx.transaction() as session,
    ):
        check_role(actor, {Role.OPERATOR, Role.ADMIN}, "变更数据产品登记", "amend product registrations")
        if not reason.strip():
            raise ProductError("须说明理由", "a reason is required")
        row = load(session, product_id)
        check_owner(row, actor)
        row.state = PRODUCT_REGISTRATION.check(ProductState(row.state), action).value
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ProductError(
                f"不可修改的字段：{', '.join(sorted(unknown))}",
                f"fields not editable: {', '.join(sorted(unknown))}",
            )
        if "form" in changes:
            _check_form(changes["form"])
        before = {k: getattr(row, k) for k in changes}
        for key, value in changes.items():
            setattr(row, key, value)
        if action != "deregister":
            if not changes:
                raise ProductError("没有要修改的内容", "nothing to change")
            row.revision += 1
        row.updated_at = utc_now_iso()
        ctx.audit(session, f"product.{action}", "product", product_id, actor=actor.username, reason=reason,
                  before=before, after=changes, revision=row.revision)  # fmt: skip
        return row


def change(ctx: PlatformContext, actor: Principal, product_id: str, reason: str, **changes) -> ProductRow:
    """变更登记: the product itself changed (new content, new form)."""
    return _amend(ctx, actor, product_id, "change", reason, changes)


def correct(ctx: PlatformContext, actor: Principal, product_id: str, reason: str, **changes) -> ProductRow:
    """更正登记: the registration was wrong; the product did not change."""
    return _amend(ctx, actor, product_id, "correct", reason, changes)


def deregister(ctx: PlatformContext, actor: Principal, product_id: str, reason: str) -> ProductRow:
    """注销登记."""
    return _amend(ctx, actor, product_id, "deregister", reason, {})


def find(ctx: PlatformContext, product_id: str) -> ProductRow | None:
    with ctx.sessions() as session:
        return session.get(ProductRow, product_id)


def get(ctx: PlatformContext, product_id: str) -> ProductRow:
    with ctx.sessions() as session:
        return load(session, product_id)


def list_products(ctx: PlatformContext) -> list[ProductRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(ProductRow).order_by(ProductRow.registration_no)))


def product_view(row: ProductRow, released: list[int]) -> dict:
    """What every face shows of a registered product; ``released``: its released version numbers."""
    return {"registration_no": row.registration_no, "product": row.id, "title": row.title,
            "scenario": row.scenario_id, "category": row.category, "fee_bearing": row.fee_bearing,
            "revision": row.revision, "state": row.state, "released_versions": released,
            "description": row.description, "form": row.form, "operator": row.operator_org_id,
            "registered_by": row.registered_by, "registered_at": row.registered_at,
            "updated_at": row.updated_at}  # fmt: skip


def planned_products(scenario: ScenarioRow) -> list[str]:
    return json.loads(scenario.planned_products_json)
