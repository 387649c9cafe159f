"""Product delivery: consumers' API keys, the metered product query API, usage and billing.

The query endpoints take an API key (``X-API-Key``), not a user's token: ``ConsumerKey`` is their
access rule. It is an ``Allow`` for the consumer role, so the role × endpoint matrix reads it like
any other rule, but it authenticates differently:

* a valid key: the request acts as the key's consumer organization (``KeyPrincipal``), whatever
  else it carries — a bearer token beside a key is ignored;
* a bad, unknown or revoked key: 401, counted against the client address's failed-credential limit
  like a bad token (``check_attempts`` / ``count_failure``);
* no key, but a user's bearer token or session: the user is resolved by ``Allow`` as usual, so a
  non-consumer is refused by the rule (403, E603, audited) — and a consumer is still answered 401:
  products are delivered against a key, which carries the quota and the metering, never against a
  login (the web pages and downloads for signed-in consumers are the consumer router's);
* nothing: 401.

A key this process has checked before is not read from the store again at the door
(``api_keys.known_key``): the query and describe services check it in their own transaction, and a
key refused there (revoked since) is answered 401 and counted like any bad key. The query endpoint
is a coroutine that hands the whole service to one worker thread: a request crosses threads once,
with a thread limit of its own (``QUERY_THREADS``).
"""

from __future__ import annotations

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sandbox.api import delivery_query
from sandbox.api.access import (
    SESSION_COOKIE,
    Allow,
    bearer_token,
    check_attempts,
    count_failure,
    platform,
)
from sandbox.api.errors import NotAuthenticated, error_response
from sandbox.api.params import VersionQuery
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal
from sandbox.products import api_keys, delivery, metering
from sandbox.products.api_keys import KeyPrincipal, KeyRefused

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="POST /api/v1/delivery/keys")


class ConsumerKey(Allow):
    """The rule of the key-authenticated endpoints: a consumer organization's API key (see the module)."""

    def __init__(self) -> None:
        super().__init__(Role.CONSUMER)

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer_token),
        key: str | None = Security(_api_key),
    ) -> KeyPrincipal:
        return await self.resolve(request, key, credentials)

    async def resolve(
        self, request: Request, key: str | None, credentials: HTTPAuthorizationCredentials | None
    ) -> KeyPrincipal:
        ctx = platform(request)
        if key:
            check_attempts(request)
            known = api_keys.known_key(ctx, key)  # checked again by the service, in its transaction
            if known is not None:
                return known
            try:
                return await run_in_threadpool(api_keys.authenticate_key, ctx, key)
            except PermissionDenied:
                raise await run_in_threadpool(_key_refused, request) from None
        if credentials is not None or request.cookies.get(SESSION_COOKIE):
            # a user: refused here unless a consumer
            await run_in_threadpool(super().__call__, request, credentials)
            raise NotAuthenticated(
                f"产品查询接口用 API 密钥认证：请在请求头 {API_KEY_HEADER} 中提供密钥（可在 /api/v1/delivery/keys 创建）",
                f"the product query API takes an API key, not a sign-in: send it in the {API_KEY_HEADER} header "
                "(create one at /api/v1/delivery/keys)",
            )
        raise NotAuthenticated(
            f"请在请求头 {API_KEY_HEADER} 中提供 API 密钥", f"send an API key in the {API_KEY_HEADER} header"
        )

    def __repr__(self) -> str:
        return "ConsumerKey(consumer, X-API-Key)"


class HeaderKey(ConsumerKey):
    """``ConsumerKey`` for the query endpoint under load: it reads the key header itself, and the bearer
    header only without a key, instead of having two security dependencies solved per request
    (bench/api.py). Its OpenAPI operation names the key scheme that ``ConsumerKey`` declares."""

    async def __call__(self, request: Request) -> KeyPrincipal:  # type: ignore[override]
        key = request.headers.get(API_KEY_HEADER)
        return await self.resolve(request, key, None if key else await bearer_token(request))


def _key_refused(request: Request) -> NotAuthenticated:
    """A bad, unknown or revoked key: 401, counted against the address's failed-credential limit (a write
    to the store: off the event loop)."""
    count_failure(request)
    return NotAuthenticated("API 密钥无效或已吊销", "API key is invalid or revoked")


router = APIRouter(prefix="/delivery", tags=["delivery"])
consumer_key = ConsumerKey()
header_key = HeaderKey()
key_managers = Allow(Role.CONSUMER, Role.OPERATOR)
staff = Allow(Role.OPERATOR)
readers = Allow(*metering.READERS)


# -- API keys ------------------------------------------------------------------------------------


class KeyRequest(BaseModel):
    label: str = Field("", max_length=100)


@router.get("/keys")
def keys(who: Principal = Depends(key_managers), ctx=Depends(platform)) -> list[dict]:
    """API 密钥（使用方看本机构，运营人员看全部）/ API keys (consumers their organization's, operators all)."""
    return api_keys.list_keys(ctx, who)


@router.post("/keys", status_code=201)
def create_key(
    body: KeyRequest, who: Principal = Depends(Allow(Role.CONSUMER)), ctx=Depends(platform)
) -> dict:
    """为本机构创建 API 密钥（只显示一次）/ create an API key for one's organization (the secret is shown once)."""
    row, secret = api_keys.create_key(ctx, who, body.label)
    return {**api_keys.key_view(row), "secret": secret}


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, reason: str = Query("revoked", max_length=200), who: Principal = Depends(key_managers),
               ctx=Depends(platform)) -> dict:  # fmt: skip
    """吊销 API 密钥 / revoke an API key (consumers their organization's, operators any)."""
    return api_keys.key_view(api_keys.revoke_key(ctx, who, key_id, reason))


class QuotaRequest(BaseModel):
    daily_quota: int = Field(ge=0, le=api_keys.MAX_DAILY_QUOTA)


@router.put("/keys/{key_id}/quota")
def set_quota(
    key_id: str, body: QuotaRequest, who: Principal = Depends(staff), ctx=Depends(platform)
) -> dict:
    """设置 API 密钥的每日配额 / set an API key's daily request quota."""
    return api_keys.key_view(api_keys.set_quota(ctx, who, key_id, body.daily_quota))


# -- the product query API (API key) -------------------------------------------------------------


@router.get("/products/{product_id}")
def describe(product_id: str, request: Request, version: VersionQuery = None,
             who: KeyPrincipal = Depends(consumer_key), ctx=Depends(platform)) -> dict:  # fmt: skip
    """数据产品版本的表与列（API 密钥）/ a product version's tables and columns (API key)."""
    try:
        return delivery.describe(ctx, who, product_id, version)
    except KeyRefused:
        raise _key_refused(request) from None


#: The one endpoint under load is a route of the app itself (``app.create_app``), not of this router: an
#: included router's routes cost a walk of the router's bookkeeping on every request (bench/api.py).
QUERY_PATH = "/delivery/products/{product_id}/query"
QUERY_ROUTE = {"methods": ["GET"], "response_class": Response, "tags": ["delivery"],
               "openapi_extra": {"parameters": delivery_query.PARAMETERS, "security": [{"APIKeyHeader": []}]}}  # fmt: skip


#: Threads the product query may hold at once, beyond the 40 the rest of the app shares. On SQLite a query
#: thread mostly waits for the group commit its metering joins (``GroupCommit``); a query still waiting for
#: a thread cannot join the commit being gathered and waits for the whole next one, which under a burst
#: doubled the slowest answers (bench/api.py: p99 51 -> 35 ms at 64 clients).
QUERY_THREADS = 128
_query_threads = CapacityLimiter(QUERY_THREADS)


async def query(request: Request, product_id: str, who: KeyPrincipal = Depends(header_key)) -> Response:
    """查询已发布的数据产品版本，计量计费（API 密钥）/ query a released product version, metered (API key)."""
    spec = delivery_query.query_from(request.query_params, request.headers.get("accept"))
    try:
        answer = await to_thread.run_sync(
            delivery.query, platform(request), who, product_id, spec, limiter=_query_threads
        )
    except KeyRefused:
        raise await run_in_threadpool(_key_refused, request) from None
    except metering.QuotaExceeded as err:
        refused = error_response(err, 429)
        refused.headers["Retry-After"] = str(metering.seconds_to_reset())
        return refused
    return Response(answer.body, media_type=answer.media_type, headers=answer.headers())


# -- usage and billing ---------------------------------------------------------------------------


@router.get("/usage")
def usage(month: str | None = Query(None, max_length=7, description="YYYY-MM"), product: str | None = None,
          who: Principal = Depends(readers), ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """按日用量（使用方看本机构）/ usage per organization, product and day (consumers their own)."""
    return metering.usage(ctx, who, month, product)


@router.get("/billing")
def billing(month: str | None = Query(None, max_length=7, description="YYYY-MM"),
            who: Principal = Depends(readers), ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """各使用方按产品的应付费用（使用方看本机构）/ what each consumer owes per product (consumers their own)."""
    return metering.billing(ctx, who, month)
