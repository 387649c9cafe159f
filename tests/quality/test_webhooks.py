"""Webhook delivery against a real HTTP server on 127.0.0.1: HMAC-signed, bounded retries, no keys sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.domain.errors import PermissionDenied
from sandbox.domain.quality import WebhookError
from sandbox.governance.access import principal_for
from sandbox.quality import tickets, webhooks
from sandbox.store.models import AuditEventRow
from tests.quality.conftest import deliver


class Receiver:
    """A provider's endpoint: answers with the queued status codes (then 200) and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/shuyu/tickets"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform(sqlite_ctx, county, monkeypatch):
    monkeypatch.setattr(webhooks, "BACKOFF_SECONDS", 0.01)
    deliver(sqlite_ctx, county, [])
    return sqlite_ctx


@pytest.fixture
def receiver():
    made = []

    def start(*statuses: int) -> Receiver:
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield start
    for r in made:
        r.close()


def test_new_tickets_reach_the_provider_signed_after_a_retry(platform, receiver):
    ctx = platform
    operator = principal_for(ctx, "operator-1")
    endpoint = receiver(503)
    key = webhooks.register_endpoint(ctx, principal_for(ctx, "provider-gongan"), "gongan", endpoint.url)
    ticket = tickets.raise_request(
        ctx, operator, "hukou_population", "地址字段疑似缺少门牌号", column="address"
    )
    row = webhooks.notify_tickets(ctx, "gongan", [ticket.id])
    assert (row.state, row.attempts, row.status_code) == ("delivered", 2, 200)
    assert len(endpoint.received) == 2
    headers, body = endpoint.received[-1]
    expected = hmac.new(key, headers["X-Shuyu-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Shuyu-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "quality.tickets_raised" and payload["tickets"][0]["column"] == "address"
    assert "examples" not in body.decode() and key.hex() not in body.decode()


def test_retries_are_bounded_and_failures_recorded(platform, receiver):
    ctx = platform
    endpoint = receiver(500, 500, 500, 500)
    webhooks.register_endpoint(ctx, principal_for(ctx, "operator-1"), "gongan", endpoint.url)
    row = webhooks.deliver(ctx, "gongan", "quality.tickets_raised", {"tickets": []})
    assert (row.state, row.attempts, row.status_code) == ("failed", webhooks.MAX_ATTEMPTS, 500)
    assert len(endpoint.received) == webhooks.MAX_ATTEMPTS
    refused = receiver(401)
    webhooks.register_endpoint(ctx, principal_for(ctx, "operator-1"), "gongan", refused.url)
    row = webhooks.deliver(ctx, "gongan", "quality.tickets_raised", {"tickets": []})
    assert (row.state, row.attempts) == ("failed", 1)  # a client error is not retried
    refused.close()
    row = webhooks.deliver(ctx, "gongan", "quality.tickets_raised", {"tickets": []})  # nobody listening
    assert (row.state, row.attempts, row.status_code) == ("failed", webhooks.MAX_ATTEMPTS, None)
    with ctx.sessions() as session:
        failed = session.query(AuditEventRow).filter(AuditEventRow.action == "quality.webhook_failed").count()
    assert failed == 3


def test_only_the_provider_or_staff_set_its_endpoint(platform):
    ctx = platform
    with pytest.raises(PermissionDenied):
        webhooks.register_endpoint(
            ctx, principal_for(ctx, "provider-canlian"), "gongan", "http://127.0.0.1:9/x"
        )
    with pytest.raises(WebhookError):
        webhooks.register_endpoint(ctx, principal_for(ctx, "operator-1"), "gongan", "ftp://127.0.0.1/x")
    assert webhooks.deliver(ctx, "canlian", "quality.tickets_raised", {}) is None  # no endpoint: nothing sent
