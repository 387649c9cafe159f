"""Failed credentials per client address (passwords, tokens, API keys): after ``FAILED_AUTH_LIMIT`` in a
minute the address is refused for a while, even with good credentials, so none can be guessed fast.

Every request is checked against this API process's own moving window, in memory: nothing is read from
the store on the way in. Every failure is also counted in the store, per address and minute
(``auth_failures``), so processes sharing a home (replicas behind a balancer) share what they saw: a
process whose count in the store for the address (this minute and the last) is over the limit blocks the
address in its own window too. Together they admit at most the limit and one failure per process; a
restart keeps the store's count, and the first failure after it blocks again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request
from limits import parse, storage, strategies

from sandbox.context import PlatformContext
from sandbox.store.db import Statement, direct

from .errors import TooManyAttempts

FAILED_AUTH_LIMIT = parse("20/minute")

_COUNT = Statement(
    "INSERT INTO auth_failures (address, minute, failures) VALUES (:address, :minute, 1) "
    "ON CONFLICT (address, minute) DO UPDATE SET failures = auth_failures.failures + 1"
)
_SEEN = Statement(
    "SELECT coalesce(sum(failures), 0) FROM auth_failures WHERE address = :address AND minute >= :since"
)
_FORGET = Statement("DELETE FROM auth_failures WHERE minute < :since")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Attempts:
    """One API process's window of failed credentials, and its share of the store's count."""

    def __init__(self) -> None:
        self.window = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def check(self, request: Request) -> None:
        if not self.window.test(FAILED_AUTH_LIMIT, client_address(request)):
            raise TooManyAttempts(
                "失败的登录或令牌尝试过多，请稍后再试", "too many failed sign-ins or tokens; try later"
            )

    def failed(self, ctx: PlatformContext, request: Request) -> None:
        address = client_address(request)
        self.window.hit(FAILED_AUTH_LIMIT, address)
        now = datetime.now(UTC)
        minute, since = (f"{t:%Y-%m-%dT%H:%M}" for t in (now, now - timedelta(minutes=1)))
        with direct(ctx.engine, write=True) as tx:
            tx.run(_COUNT, {"address": address[:64], "minute": minute})
            (seen,) = tx.one(_SEEN, {"address": address[:64], "since": since})
            tx.run(_FORGET, {"since": since})
        if seen > FAILED_AUTH_LIMIT.amount:  # other processes saw them: fill this window too
            left = self.window.get_window_stats(FAILED_AUTH_LIMIT, address).remaining
            if left:
                self.window.hit(FAILED_AUTH_LIMIT, address, cost=left)
