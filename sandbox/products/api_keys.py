"""Per-consumer API keys for the product query API (``X-API-Key``).

A key belongs to a consumer organization: any consumer user of it may create one, list its keys or
revoke one; operators (and admins) see and revoke every key and set a key's daily quota. The
secret (``sk_`` + 32 random bytes) is shown once; only its SHA-256 is stored, as for bearer tokens
(``governance.identities``): a random 256-bit secret needs no slow password hash. A key acts as
its organization with the consumer role only (``KeyPrincipal``): it can query products within the
organization's terms, and nothing else — it is no user's login.

Revocation takes effect at once: the product query path checks the key again inside the one
transaction that meters its answer (``delivery``), so no request whose transaction starts after the
revocation committed is answered. That is why the front door may remember which organization a key
it has seen belongs to (``known_key``): a key's id and organization never change, and everything
that does (revoked or not, its quota) is read in that transaction, never from this memory.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import NotFoundError, PermissionDenied, ShuyuError
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.db import Statement, direct
from sandbox.store.models import ApiKeyDayRow, ApiKeyRow

KEY_PREFIX = "sk_"
#: Answered requests a new key may make per day (Asia/Shanghai) until an operator sets another quota.
DEFAULT_DAILY_QUOTA = 10_000
MAX_DAILY_QUOTA = 10_000_000
#: Live keys one organization may hold: enough for its systems, few enough to keep track of.
MAX_KEYS_PER_ORG = 20
MANAGERS = frozenset({Role.CONSUMER, Role.OPERATOR, Role.ADMIN})
STAFF = frozenset({Role.OPERATOR, Role.ADMIN})


class ApiKeyError(ShuyuError):
    code = "E583"


class KeyRefused(PermissionDenied):
    """An unknown, revoked or otherwise unusable key (the API answers 401, as for a bad token)."""

    def __init__(self) -> None:
        super().__init__("API 密钥无效或已吊销", "API key is invalid or revoked")


@dataclass(frozen=True)
class KeyPrincipal(Principal):
    """Who a request with a valid API key acts as: its organization, as a consumer, under the key's quota
    (``daily_quota`` as it was when the key was checked; metering reads the quota in force)."""

    key_id: str
    daily_quota: int


_TURNS: dict[str, threading.Lock] = {}


@contextmanager
def store_turn(ctx: PlatformContext) -> Iterator[None]:
    """One writing transaction at a time per SQLite database in this process, for the query path's
    (a batch of ``GroupCommit``, or a refusal's reading of the export rule).

    On SQLite every writing transaction takes the database's one write lock (``BEGIN IMMEDIATE``,
    ``store.db``), and a thread that finds it taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms)
    however soon it is free again: under a burst of queries most of their time went to those sleeps.
    Waiting here instead, a transaction goes on the moment the one before it is done. PostgreSQL
    needs no such turn.
    """
    url = ctx.settings.db_url
    if not url.startswith("sqlite"):
        yield
        return
    with _TURNS.setdefault(url, threading.Lock()):
        yield


def today() -> str:
    """The metering day: the date in Asia/Shanghai."""
    return datetime.now(SHANGHAI).date().isoformat()


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_quota(quota: int) -> None:
    if not 0 <= quota <= MAX_DAILY_QUOTA:
        raise ApiKeyError(
            f"每日配额须在 0 到 {MAX_DAILY_QUOTA:,} 次之间",
            f"the daily quota must be 0–{MAX_DAILY_QUOTA:,} requests",
        )


def create_key(ctx: PlatformContext, actor: Principal, label: str = "") -> tuple[ApiKeyRow, str]:
    """A new key for the actor's consumer organization; returns the row and the secret (shown once)."""
    with audited_refusals(ctx, actor, "api_key.create", "organization", actor.org_id):
        check_role(actor, {Role.CONSUMER}, "创建 API 密钥", "create API keys")
        if actor.org_kind is not OrgKind.CONSUMER:
            raise ApiKeyError("只有使用方机构可以持有 API 密钥", "only consumer organizations hold API keys")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with ctx.transaction() as session:
            live = session.scalars(
                select(ApiKeyRow.id).where(ApiKeyRow.org_id == actor.org_id, ApiKeyRow.revoked_at.is_(None))
            ).all()
            if len(live) >= MAX_KEYS_PER_ORG:
                raise ApiKeyError(
                    f"机构 {actor.org_id} 已有 {len(live)} 个有效密钥（上限 {MAX_KEYS_PER_ORG}），请先吊销不用的密钥",
                    f"organization {actor.org_id} already holds {len(live)} live keys (at most {MAX_KEYS_PER_ORG}); "
                    "revoke unused ones first",
                )
            row = ApiKeyRow(id=uuid.uuid4().hex[:16], org_id=actor.org_id, key_hash=key_hash(secret), label=label,
                            daily_quota=DEFAULT_DAILY_QUOTA, created_by=actor.username, created_at=utc_now_iso())  # fmt: skip
            session.add(row)
            ctx.audit(session, "api_key.created", "api_key", row.id, actor=actor.username, org=actor.org_id,
                      label=label, daily_quota=row.daily_quota)  # fmt: skip
        return row, secret


def _load(session, actor: Principal, key_id: str) -> ApiKeyRow:
    row = session.get(ApiKeyRow, key_id)
    # Another organization's key is "not found" to a consumer: its existence is not theirs to learn.
    if row is None or (not actor.has(*STAFF) and row.org_id != actor.org_id):
        raise NotFoundError(f"API 密钥 {key_id} 不存在", f"API key {key_id} does not exist")
    return row


def revoke_key(ctx: PlatformContext, actor: Principal, key_id: str, reason: str = "revoked") -> ApiKeyRow:
    """End a key at once: consumers their organization's, operators and admins any."""
    with audited_refusals(ctx, actor, "api_key.revoke", "api_key", key_id), ctx.transaction() as session:
        check_role(actor, MANAGERS, "吊销 API 密钥", "revoke API keys")
        row = _load(session, actor, key_id)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by, row.revoked_reason = utc_now_iso(), actor.username, reason[:200]
            ctx.audit(session, "api_key.revoked", "api_key", key_id, actor=actor.username, org=row.org_id,
                      reason=reason[:200])  # fmt: skip
    forget_key(ctx, key_id)  # a courtesy: the query path checks the key in its own transaction anyway
    return row


def set_quota(ctx: PlatformContext, actor: Principal, key_id: str, daily_quota: int) -> ApiKeyRow:
    """An operator sets how many answered requests a key may make per day (0 stops it without revoking)."""
    with audited_refusals(ctx, actor, "api_key.quota", "api_key", key_id), ctx.transaction() as session:
        check_role(actor, STAFF, "设置 API 密钥配额", "set API key quotas")
        _check_quota(daily_quota)
        row = _load(session, actor, key_id)
        if row.revoked_at is not None:
            raise ApiKeyError(f"API 密钥 {key_id} 已吊销", f"API key {key_id} is revoked")
        before, row.daily_quota = row.daily_quota, daily_quota
        ctx.audit(session, "api_key.quota_set", "api_key", key_id, actor=actor.username, org=row.org_id,
                  before=before, after=daily_quota)  # fmt: skip
        return row


def list_keys(ctx: PlatformContext, actor: Principal) -> list[dict]:
    """Consumers see their organization's keys, operators and admins every key; each with today's requests."""
    with audited_refusals(ctx, actor, "api_key.list", "organization", actor.org_id):
        check_role(actor, MANAGERS, "查看 API 密钥", "list API keys")
    query = select(ApiKeyRow, ApiKeyDayRow.requests).outerjoin(
        ApiKeyDayRow, (ApiKeyDayRow.key_id == ApiKeyRow.id) & (ApiKeyDayRow.day == today())
    )
    if not actor.has(*STAFF):
        query = query.where(ApiKeyRow.org_id == actor.org_id)
    with ctx.sessions() as session:
        return [key_view(row, used) for row, used in session.execute(query.order_by(ApiKeyRow.created_at))]


def key_view(row: ApiKeyRow, used_today: int | None = None) -> dict:
    """A key as every face shows it: never its secret nor its hash."""
    return {"key": row.id, "org": row.org_id, "label": row.label, "daily_quota": row.daily_quota,
            "used_today": used_today or 0, "created_by": row.created_by, "created_at": row.created_at,
            "state": "revoked" if row.revoked_at else "active", "revoked_at": row.revoked_at}  # fmt: skip


#: The key (by its hash) and its organization, one indexed read: what ``authenticate_key`` checks.
_KEY = Statement(
    "SELECT k.id, k.org_id, k.daily_quota, k.revoked_at, o.kind FROM api_keys k "
    "JOIN organizations o ON o.id = k.org_id WHERE k.key_hash = :key_hash"
)
#: Per store (its engine): key hash -> the principal it authenticated as, most recently used last.
_KNOWN: WeakKeyDictionary[Engine, OrderedDict[str, KeyPrincipal]] = WeakKeyDictionary()
_KNOWN_LOCK = threading.Lock()
_KNOWN_MAX = 4096


def usable(revoked_at: str | None, org_kind: str | None) -> bool:
    """Whether a key answers: not revoked, and its organization a consumer organization."""
    return revoked_at is None and org_kind == OrgKind.CONSUMER.value


def authenticate_key(ctx: PlatformContext, secret: str) -> KeyPrincipal:
    """The organization behind a key, read from the store now; unknown and revoked keys are refused alike."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        raise KeyRefused()
    digest = key_hash(secret)
    with direct(ctx.engine, write=False) as tx:  # one statement, one snapshot; takes no write lock
        found = tx.one(_KEY, {"key_hash": digest})
    if found is None or not usable(found[3], found[4]):
        with _KNOWN_LOCK:
            _KNOWN.get(ctx.engine, {}).pop(digest, None)
        raise KeyRefused()
    key_id, org_id, daily_quota = found[0], found[1], found[2]
    who = KeyPrincipal(username=f"key:{key_id}", org_id=org_id, org_kind=OrgKind.CONSUMER,
                       roles=frozenset({Role.CONSUMER}), provider_id=None, cleared=False, key_id=key_id,
                       daily_quota=daily_quota)  # fmt: skip
    with _KNOWN_LOCK:
        known = _KNOWN.setdefault(ctx.engine, OrderedDict())
        known[digest] = who
        known.move_to_end(digest)
        while len(known) > _KNOWN_MAX:
            known.popitem(last=False)
    return who


def known_key(ctx: PlatformContext, secret: str) -> KeyPrincipal | None:
    """Who a key this process has authenticated before belongs to, without reading the store, or None.

    Not a check that the key still answers: only for paths that check it again in their own
    transaction (the product query API does, see the module's docstring).
    """
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    with _KNOWN_LOCK:
        known = _KNOWN.get(ctx.engine)
        return None if known is None else known.get(key_hash(secret))


def forget_key(ctx: PlatformContext, key_id: str) -> None:
    """Drop a key from ``known_key``'s memory (it was refused, or revoked here)."""
    with _KNOWN_LOCK:
        known = _KNOWN.get(ctx.engine, {})
        for digest in [d for d, who in known.items() if who.key_id == key_id]:
            del known[digest]
