"""The host administrator (and operators, for developer clearance): organizations, users, the
catalog, authorizations, the audit log's retention."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from sandbox.api.access import Allow, platform
from sandbox.catalog.service import catalog_from_yaml, load_catalog
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import audit_log, authorizations, identities
from sandbox.governance.access import Principal

router = APIRouter(prefix="/admin", tags=["admin"])
admin = Allow(Role.ADMIN)
staff = Allow(Role.ADMIN, Role.OPERATOR)


class OrgRequest(BaseModel):
    id: str
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind
    provider: str | None = None


@router.get("/orgs")
def orgs(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """机构 / organizations."""
    return [identities.org_view(o) for o in identities.list_orgs(ctx)]


@router.post("/orgs", status_code=201)
def add_org(body: OrgRequest, who: Principal = Depends(admin), ctx=Depends(platform)) -> dict:
    """新增机构 / add an organization."""
    return identities.org_view(identities.create_org(ctx, who, body.id, body.name, body.kind, body.provider))


class UserRequest(BaseModel):
    username: str
    org: str
    roles: list[Role] = Field(min_length=1)
    name: str = ""


@router.get("/users")
def users(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """用户及资质 / users and their clearance."""
    return [identities.user_view(u, o) for u, o in identities.list_users(ctx)]


@router.post("/users", status_code=201)
def add_user(body: UserRequest, who: Principal = Depends(admin), ctx=Depends(platform)) -> dict:
    """新增用户 / add a user."""
    row = identities.create_user(
        ctx, who, body.username, body.name or body.username, body.org, set(body.roles)
    )
    return {"user": row.username, "org": row.org_id, "roles": sorted(row.role_set)}


@router.post("/users/{username}/identity")
def verify_identity(username: str, who: Principal = Depends(staff), ctx=Depends(platform)) -> dict:
    """登记身份核验 / record identity verification."""
    identities.verify_identity(ctx, who, username)
    return {"user": username, "identity_verified": True}


class FilingRequest(BaseModel):
    filing_no: str = Field(min_length=1, max_length=64)


@router.post("/users/{username}/filing")
def record_filing(username: str, body: FilingRequest, who: Principal = Depends(staff),
                  ctx=Depends(platform)) -> dict:  # fmt: skip
    """登记备案 / record the registration (备案) number."""
    identities.record_filing(ctx, who, username, body.filing_no)
    return {"user": username, "filing_no": body.filing_no}


class NdaRequest(BaseModel):
    version: str = Field(min_length=1, max_length=32)
    signed_on: date


@router.post("/users/{username}/nda")
def record_nda(
    username: str, body: NdaRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> dict:
    """登记保密协议 / record the signed confidentiality agreement."""
    identities.record_nda(ctx, who, username, body.version, body.signed_on)
    return {"user": username, "nda": body.version, "signed_on": body.signed_on.isoformat()}


class UserTokenRequest(BaseModel):
    days: int = Field(30, ge=1, le=identities.MAX_TOKEN_DAYS)
    label: str = Field("", max_length=100)


@router.post("/users/{username}/tokens", status_code=201)
def issue_token(username: str, body: UserTokenRequest, who: Principal = Depends(admin),
                ctx=Depends(platform)) -> dict:  # fmt: skip
    """为用户签发令牌（只显示一次）/ issue a user a token (shown once)."""
    token_id, secret = identities.issue_token(ctx, who, username, days=body.days, label=body.label)
    return {"token": token_id, "secret": secret}


@router.post("/catalog", status_code=201)
def load(yaml_text: str = Body(..., media_type="application/yaml", max_length=5_000_000),
         who: Principal = Depends(admin), ctx=Depends(platform)) -> dict:  # fmt: skip
    """登记目录（YAML 正文）/ register the providers and datasets of a catalog (YAML body)."""
    summary = load_catalog(ctx, who, catalog_from_yaml(yaml_text))
    return {"providers_added": summary.providers_added, "datasets_added": summary.datasets_added,
            "datasets_unchanged": summary.datasets_unchanged, "code_tables_added": summary.code_tables_added}  # fmt: skip


class GrantRequest(BaseModel):
    operator: str
    datasets: list[str] = Field(min_length=1)
    starts_on: date
    ends_on: date
    content: str = Field(min_length=1, max_length=2000)


@router.get("/authorizations")
def list_authorizations(who: Principal = Depends(staff), ctx=Depends(platform)) -> list[dict]:
    """授权 / authorizations."""
    return [authorizations.authorization_view(a) for a in authorizations.list_authorizations(ctx)]


@router.post("/authorizations", status_code=201)
def grant(body: GrantRequest, who: Principal = Depends(admin), ctx=Depends(platform)) -> dict:
    """授予运营机构授权 / grant an operator an authorization."""
    row = authorizations.grant(ctx, who, operator_org=body.operator, datasets=body.datasets,
                               starts_on=body.starts_on, ends_on=body.ends_on, content=body.content)  # fmt: skip
    return authorizations.authorization_view(row)


class ReasonRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/authorizations/{authorization_id}/revoke")
def revoke(authorization_id: str, body: ReasonRequest, who: Principal = Depends(admin),
           ctx=Depends(platform)) -> dict:  # fmt: skip
    """撤销授权 / revoke an authorization: ends what no other authorization still covers."""
    return authorizations.revoke(ctx, who, authorization_id, body.reason)


@router.post("/authorizations/expire")
def expire(who: Principal = Depends(admin), ctx=Depends(platform)) -> dict:
    """处理已到期的授权 / expire authorizations whose period has ended."""
    return authorizations.expire_due(ctx, who)


@router.post("/audit/purge")
def purge(
    before: date = Body(..., embed=True), who: Principal = Depends(admin), ctx=Depends(platform)
) -> dict:
    """清除三年以上的审计事件 / purge audit events older than the 3-year retention."""
    return {"purged": audit_log.purge(ctx, who, before)}
