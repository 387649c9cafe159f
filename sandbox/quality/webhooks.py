"""Optional webhook delivery of new tickets to a provider's endpoint: HMAC-SHA256 signed, bounded retries.

The payload names tickets, rules, columns, counts and due dates — never keys or values; the
provider fetches keys through the export. The signing key is generated per provider into
``secrets/`` (never the database) and shown once when the endpoint is registered. The receiver
checks ``X-Shuyu-Signature: sha256=HMAC(key, "<X-Shuyu-Timestamp>." + body)``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.quality import WebhookError, ticket_label
from sandbox.governance.access import Principal, audited_refusals
from sandbox.quality.access import check_may_read_provider
from sandbox.store import catalog_repo
from sandbox.store.models import QualityDeliveryRow, QualityTicketRow, QualityWebhookRow

MAX_ATTEMPTS = 3
TIMEOUT_SECONDS = 5
BACKOFF_SECONDS = 0.2  # doubled after each failed attempt
EVENT_TICKETS_RAISED = "quality.tickets_raised"


def key_name(provider_id: str) -> str:
    return f"webhook-{provider_id}"


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def register_endpoint(ctx: PlatformContext, actor: Principal, provider_id: str, url: str) -> bytes:
    """Set (or replace) a provider's endpoint; returns the new signing key, which is shown only now."""
    with (
        audited_refusals(ctx, actor, "quality.webhook_registered", "provider", provider_id),
        ctx.transaction() as session,
    ):
        check_may_read_provider(actor, provider_id)
        if catalog_repo.get_provider(session, provider_id) is None:
            raise WebhookError(
                f"数据提供单位 {provider_id} 未登记", f"provider {provider_id} is not registered"
            )
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise WebhookError(
                f"回调地址须为 http(s) URL：{url}", f"the endpoint must be an http(s) URL: {url}"
            )
        ctx.keys.delete(key_name(provider_id))
        key = ctx.keys.create(key_name(provider_id))
        row = session.get(QualityWebhookRow, provider_id)
        if row is None:
            row = QualityWebhookRow(provider_id=provider_id)
            session.add(row)
        row.url, row.key_name, row.created_by, row.created_at = (
            url,
            key_name(provider_id),
            actor.username,
            utc_now_iso(),
        )
        ctx.audit(
            session, "quality.webhook_registered", "provider", provider_id, actor=actor.username, url=url
        )
    return key


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.status


def deliver(ctx: PlatformContext, provider_id: str, event: str, payload: dict) -> QualityDeliveryRow | None:
    """POST ``payload`` to the provider's endpoint, retrying network errors, 429 and 5xx a bounded number of times."""
    with ctx.sessions() as session:
        hook = session.get(QualityWebhookRow, provider_id)
    if hook is None:
        return None
    key = ctx.keys.get(hook.key_name)
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    status, error, attempts = None, None, 0
    while attempts < MAX_ATTEMPTS:
        attempts += 1
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Shuyu-Event": event,
            "X-Shuyu-Timestamp": timestamp,
            "X-Shuyu-Signature": sign(key, timestamp, body),
        }
        try:
            status, error = _post(hook.url, body, headers), None
            break
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            status, error = None, type(getattr(exc, "reason", exc)).__name__
        time.sleep(BACKOFF_SECONDS * 2 ** (attempts - 1))
    state = "delivered" if error is None else "failed"
    with ctx.transaction() as session:
        row = QualityDeliveryRow(
            provider_id=provider_id,
            event=event,
            payload_sha256=hashlib.sha256(body).hexdigest(),
            state=state,
            attempts=attempts,
            status_code=status,
            last_error=error,
            created_at=utc_now_iso(),
        )
        session.add(row)
        ctx.audit(
            session,
            f"quality.webhook_{state}",
            "provider",
            provider_id,
            event=event,
            attempts=attempts,
            status=status,
            error=error,
        )
    return row


def notify_tickets(
    ctx: PlatformContext, provider_id: str, ticket_ids: list[int]
) -> QualityDeliveryRow | None:
    with ctx.sessions() as session:
        tickets = list(session.scalars(select(QualityTicketRow).where(QualityTicketRow.id.in_(ticket_ids))))
    payload = {
        "event": EVENT_TICKETS_RAISED,
        "provider": provider_id,
        "sent_at": utc_now_iso(),
        "tickets": [
            {
                "id": ticket_label(t.id),
                "dataset": t.dataset_id,
                "rule": t.rule_id,
                "column": t.column_label,
                "dimension": t.dimension,
                "severity": t.severity,
                "keys": t.key_count,
                "due_on": t.due_on,
                "state": t.state,
            }
            for t in tickets
        ],
    }
    return deliver(ctx, provider_id, EVENT_TICKETS_RAISED, payload)
