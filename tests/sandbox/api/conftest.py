"""A served home: the governance cast on the mini catalog, a TestClient, one token per user; and the web
UI's seeded homes (``web_home``), seeded once per session for the web tests to copy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from sandbox.api.app import create_app
from sandbox.api.attempts import Attempts
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.store.models import AuthFailureRow
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


def forget_failures(app) -> None:
    """A fresh start for the failed-credential limit: the app's own window and the store's count."""
    app.state.attempts = Attempts()
    with app.state.ctx.transaction() as session:
        session.execute(delete(AuthFailureRow))


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


@pytest.fixture(scope="session")
def web_template(tmp_path_factory):
    """``seed_web_home``'s home (test_web, test_browser)."""
    from .web_home import seeded_template  # it reads test_boundary's raw values, which import this module

    return seeded_template(tmp_path_factory.mktemp("web-template"), extras=False)


@pytest.fixture(scope="session")
def admin_template(tmp_path_factory):
    """``seed_web_home`` and ``seed_web_extras`` (test_web_admin)."""
    from .web_home import seeded_template

    return seeded_template(tmp_path_factory.mktemp("web-admin-template"), extras=True)
