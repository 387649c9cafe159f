"""A served home: the governance cast on the mini catalog, a TestClient, one token per user."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from sandbox.api.app import create_app
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from tests.sandbox.governance.conftest import build_cast

USERS = ("admin", "operator-1", "operator-2", "developer-1", "developer-2", "consumer-1", "provider-gongan",
         "provider-canlian")  # fmt: skip


@dataclass
class Api:
    ctx: object
    client: TestClient
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **kwargs):
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, user: str, path: str, **kwargs):
        return self.client.post(path, headers=self.headers(user), **kwargs)

    def delete(self, user: str, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers(user), **kwargs)


def token_for(ctx, user: str) -> str:
    return identities.issue_token(ctx, principal_for(ctx, user), user, days=1, label="test")[1]


@pytest.fixture
def api(sqlite_ctx) -> Api:
    build_cast(sqlite_ctx)
    admin = principal_for(sqlite_ctx, "admin")
    identities.create_org(sqlite_ctx, admin, "regulator", "网信办", identities.OrgKind.REGULATOR)
    identities.create_user(sqlite_ctx, admin, "auditor-1", "审计一", "regulator", {identities.Role.AUDITOR})
    tokens = {user: token_for(sqlite_ctx, user) for user in (*USERS, "auditor-1")}
    with TestClient(create_app(sqlite_ctx), raise_server_exceptions=False) as client:
        yield Api(sqlite_ctx, client, tokens)
