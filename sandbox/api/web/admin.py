"""Administration pages (the host administrator; operators read them and keep developers' clearance):
organizations and users, a user's web password and clearance records (identity verified, 备案, the
confidentiality agreement), and authorizations — granted to operator organizations, revoked with a
reason. The same services as ``routers/admin.py``; each checks its own rule again."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from sandbox.api.access import platform
from sandbox.catalog.service import list_datasets
from sandbox.domain.authorization import MAX_AUTHORIZATION_YEARS
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identity import ROLES_BY_ORG_KIND, OrgKind, Role
from sandbox.governance import authorizations, identities, passwords
from sandbox.governance.access import Principal

from .render import page, redirect
from .rules import Page

router = APIRouter(prefix="/admin", include_in_schema=False)
admin = Page(Role.ADMIN)
staff = Page(Role.ADMIN, Role.OPERATOR)
ID = 64


@router.get("")
def people(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """机构与用户（含开发人员资质）/ organizations and users, with developers' clearance."""
    orgs = [identities.org_view(o) for o in identities.list_orgs(ctx)]
    users = [identities.user_view(u, o) for u, o in identities.list_users(ctx)]
    roles = {kind.value: sorted(r.value for r in ROLES_BY_ORG_KIND[kind]) for kind in OrgKind}
    return page(request, who, "admin/people.html", orgs=orgs, users=users, kinds=[k.value for k in OrgKind],
                roles=sorted(r.value for r in Role), roles_by_kind=roles)  # fmt: skip


@router.post("/orgs")
def add_org(request: Request, org: str = Form(..., max_length=ID), name: str = Form(..., max_length=200),
            kind: OrgKind = Form(...), provider: str = Form("", max_length=ID), who: Principal = Depends(admin),
            ctx=Depends(platform)) -> Response:  # fmt: skip
    """新增机构（数据提供单位须对应已登记的提供单位）/ add an organization (a provider's names its provider)."""
    identities.create_org(ctx, who, org, name, kind, provider or None)
    return redirect(request, "/admin")


@router.post("/users")
def add_user(request: Request, username: str = Form(..., max_length=ID), name: str = Form("", max_length=100),
             org: str = Form(..., max_length=ID), roles: list[Role] = Form([]), who: Principal = Depends(admin),
             ctx=Depends(platform)) -> Response:  # fmt: skip
    """新增用户（角色须与机构类别相符）/ add a user (roles must fit the organization's kind)."""
    identities.create_user(ctx, who, username, name or username, org, set(roles))
    return redirect(request, f"/admin/users/{username}")


@router.get("/users/{username}")
def user(username: str, request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """用户：角色、网页登录密码、开发人员资质记录 / a user: roles, web password, clearance records."""
    view = identities.user_view(*identities.get_user(ctx, username))
    return page(request, who, "admin/user.html", u=view, min_password=passwords.MIN_LENGTH)


@router.post("/users/{username}/password")
def set_password(username: str, request: Request, password: str = Form(..., max_length=200),
                 confirm: str = Form(..., max_length=200), who: Principal = Depends(admin),
                 ctx=Depends(platform)) -> Response:  # fmt: skip
    """设置用户的网页登录密码（argon2id 哈希保存）/ set a user's web password (kept as an argon2id hash)."""
    if password != confirm:
        raise InvalidInput("两次输入的密码不一致", "the two passwords differ")
    passwords.set_password(ctx, who, username, password)
    return redirect(request, f"/admin/users/{username}")


@router.post("/users/{username}/identity")
def verify_identity(username: str, request: Request, who: Principal = Depends(staff),
                    ctx=Depends(platform)) -> Response:  # fmt: skip
    """登记身份核验 / record that the user's identity was verified."""
    identities.verify_identity(ctx, who, username)
    return redirect(request, f"/admin/users/{username}")


@router.post("/users/{username}/filing")
def record_filing(username: str, request: Request, filing_no: str = Form(..., min_length=1, max_length=64),
                  who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:  # fmt: skip
    """登记备案号 / record the registration (备案) number."""
    identities.record_filing(ctx, who, username, filing_no.strip())
    return redirect(request, f"/admin/users/{username}")


@router.post("/users/{username}/nda")
def record_nda(username: str, request: Request, version: str = Form(..., min_length=1, max_length=32),
               signed_on: date = Form(...), who: Principal = Depends(staff),
               ctx=Depends(platform)) -> Response:  # fmt: skip
    """登记保密协议（版本与签署日）/ record the confidentiality agreement: version and the day it was signed."""
    identities.record_nda(ctx, who, username, version.strip(), signed_on)
    return redirect(request, f"/admin/users/{username}")


# -- authorizations ------------------------------------------------------------------------------


@router.get("/authorizations")
def authorization_list(request: Request, who: Principal = Depends(staff), ctx=Depends(platform)) -> Response:
    """授权：运营机构、范围、期限、状态；授予与撤销 / authorizations: operator, scope, period, state."""
    rows = [authorizations.authorization_view(a) for a in reversed(authorizations.list_authorizations(ctx))]
    operators = [o.id for o in identities.list_orgs(ctx) if o.kind == OrgKind.OPERATOR.value]
    datasets = [row.id for row, _latest in list_datasets(ctx)] if who.has(Role.ADMIN) else []
    return page(request, who, "admin/authorizations.html", authorizations=rows, operators=operators,
                datasets=datasets, max_years=MAX_AUTHORIZATION_YEARS)  # fmt: skip


@router.post("/authorizations")
def grant(request: Request, operator: str = Form(..., max_length=ID), datasets: list[str] = Form([]),
          starts_on: date = Form(...), ends_on: date = Form(...), content: str = Form(..., max_length=2000),
          who: Principal = Depends(admin), ctx=Depends(platform)) -> Response:  # fmt: skip
    """授予运营机构授权（范围：数据集；期限有上限）/ grant an operator organization an authorization."""
    if len(datasets) > 500 or any(len(d) > ID for d in datasets):
        raise InvalidInput("授权范围无效", "invalid scope")
    authorizations.grant(ctx, who, operator_org=operator, datasets=datasets, starts_on=starts_on, ends_on=ends_on,
                         content=content)  # fmt: skip
    return redirect(request, "/admin/authorizations")


@router.post("/authorizations/{authorization_id}/revoke")
def revoke(authorization_id: str, request: Request, reason: str = Form(..., max_length=500),
           who: Principal = Depends(admin), ctx=Depends(platform)) -> Response:  # fmt: skip
    """撤销授权（须说明理由）：不再被其他授权覆盖的场景随之结束 / revoke an authorization, with a reason."""
    authorizations.revoke(ctx, who, authorization_id, reason)
    return redirect(request, "/admin/authorizations")
