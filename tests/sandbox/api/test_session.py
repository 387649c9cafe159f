"""Signing in with a password: argon2 hashes, one refusal for every wrong guess, a session cookie
that cannot change anything without its anti-forgery token, sign-out that ends it on the server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sandbox.domain.errors import InvalidInput
from sandbox.governance import passwords
from sandbox.governance.access import principal_for
from sandbox.store.models import UserRow

PASSWORD = "correct horse battery"


@pytest.fixture
def with_password(api):
    passwords.set_password(api.ctx, principal_for(api.ctx, "admin"), "operator-1", PASSWORD)
    return api


def test_passwords_are_argon2id_and_short_ones_are_refused(api):
    admin = principal_for(api.ctx, "admin")
    with pytest.raises(InvalidInput):
        passwords.set_password(api.ctx, admin, "operator-1", "short")
    passwords.set_password(api.ctx, admin, "operator-1", PASSWORD)
    with api.ctx.sessions() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.username == "operator-1"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_user_get_the_same_refusal(with_password):
    api = with_password
    wrong = api.client.post("/api/v1/session", json={"username": "operator-1", "password": "nope nope nope"})
    nobody = api.client.post("/api/v1/session", json={"username": "nobody", "password": "nope nope nope"})
    assert wrong.status_code == nobody.status_code == 403
    assert wrong.json() == nobody.json()
    assert api.client.cookies.get("shuyu_session") is None


def test_a_session_reads_but_changes_nothing_without_its_anti_forgery_token(with_password):
    api = with_password
    signed_in = api.client.post("/api/v1/session", json={"username": "operator-1", "password": PASSWORD})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    csrf = signed_in.json()["csrf_token"]
    assert api.client.get("/api/v1/me").json()["user"] == "operator-1"  # the cookie alone reads
    forged = api.client.post("/api/v1/me/tokens", json={"days": 1})
    assert forged.status_code == 403 and forged.json()["code"] == "E604"
    wrong = api.client.post("/api/v1/me/tokens", json={"days": 1}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.json()["code"] == "E604"
    made = api.client.post("/api/v1/me/tokens", json={"days": 1}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    out = api.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    api.client.cookies.set("shuyu_session", cookie.split(";")[0].split("=", 1)[1])
    assert api.client.get("/api/v1/me").status_code == 401  # ended on the server, not only in the browser


def test_sandbox_login_exchanges_a_password_for_a_bearer_token(with_password):
    api = with_password
    issued = api.client.post(
        "/api/v1/session/token", json={"username": "operator-1", "password": PASSWORD, "days": 2}
    )
    assert issued.status_code == 201
    headers = {"Authorization": f"Bearer {issued.json()['secret']}"}
    assert api.client.get("/api/v1/me", headers=headers).json()["user"] == "operator-1"
    assert (
        api.client.post("/api/v1/me/tokens", json={"days": 1}, headers=headers).status_code == 201
    )  # no CSRF for bearer
