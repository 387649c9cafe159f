"""The boundary's basic promises: no credentials is 401, a wrong role is 403 and audited, errors
are bilingual JSON with stable codes, validation errors never echo the value sent."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.api.app import create_app
from sandbox.api.attempts import FAILED_AUTH_LIMIT
from sandbox.store.models import AuditEventRow, AuthFailureRow

from .conftest import forget_failures


def test_no_token_and_a_bad_token_are_401_bilingual(api):
    assert api.client.get("/api/health").json() == {"ok": True}
    missing = api.client.get("/api/v1/me")
    assert missing.status_code == 401 and missing.json()["code"] == "E601"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    forged = api.client.get("/api/v1/me", headers={"Authorization": "Bearer sy_forged"})
    assert forged.status_code == 401 and "token" in forged.json()["en"] and forged.json()["zh"]


def test_a_wrong_role_is_refused_by_the_access_rule_and_audited(api):
    refused = api.get("developer-1", "/api/v1/admin/users")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "E603" and "developer-1" in body["en"] and "角色" in body["zh"]
    with api.ctx.sessions() as session:
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")
                                .order_by(AuditEventRow.seq.desc())).first()  # fmt: skip
    assert event.actor == "developer-1" and event.object_id == "GET /api/v1/admin/users"


def test_a_revoked_token_stops_working(api):
    issued = api.post("consumer-1", "/api/v1/me/tokens", json={"days": 1, "label": "script"}).json()
    headers = {"Authorization": f"Bearer {issued['secret']}"}
    assert api.client.get("/api/v1/me", headers=headers).json()["user"] == "consumer-1"
    assert api.delete("consumer-1", f"/api/v1/me/tokens/{issued['token']}").status_code == 200
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401


def test_validation_errors_name_the_field_and_never_echo_the_value(api):
    secret_looking = "110101199003074514"
    response = api.post(
        "admin", "/api/v1/admin/users", json={"username": "x", "org": "bank", "roles": [secret_looking]}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "E110" and "roles.0" in body["en"]
    assert secret_looking not in response.text


def test_service_refusals_keep_their_code_and_status(api):
    missing = api.post("admin", "/api/v1/admin/users/nobody/identity")
    assert missing.status_code == 404 and missing.json()["code"] == "E201"
    duplicate = api.post(
        "admin", "/api/v1/admin/orgs", json={"id": "bank", "name": "再来一次", "kind": "consumer"}
    )
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "E610"
    assert api.client.get("/api/v1/nowhere").json()["code"] == "E201"


def _guess(i) -> dict[str, str]:
    return {"Authorization": f"Bearer sy_guess{i}"}


def test_repeated_bad_tokens_are_rate_limited_even_for_a_good_one(api):
    statuses = [
        api.client.get("/api/v1/me", headers=_guess(i)).status_code for i in range(FAILED_AUTH_LIMIT.amount)
    ]
    assert set(statuses) == {401}
    limited = api.get("admin", "/api/v1/me")
    assert limited.status_code == 429 and limited.json()["code"] == "E602"
    forget_failures(api.client.app)
    assert api.get("admin", "/api/v1/me").status_code == 200


def test_failures_another_api_process_saw_block_the_address_here_at_its_first_failure(api):
    """Two API processes on one home (replicas): each has its own window; the store's count joins them."""
    with TestClient(create_app(api.ctx), raise_server_exceptions=False) as elsewhere:
        for i in range(FAILED_AUTH_LIMIT.amount):
            assert elsewhere.get("/api/v1/me", headers=_guess(i)).status_code == 401
        assert elsewhere.get("/api/v1/me", headers=api.headers("admin")).status_code == 429
    with api.ctx.sessions() as session:  # what the store holds: the address, the minute, a count; no token
        (row,) = session.scalars(select(AuthFailureRow)).all()
    assert (row.address, row.failures) == ("testclient", FAILED_AUTH_LIMIT.amount)
    assert api.get("admin", "/api/v1/me").status_code == 200  # this process has seen no failure yet
    assert api.client.get("/api/v1/me", headers=_guess("x")).status_code == 401  # its first one...
    blocked = api.get("admin", "/api/v1/me")  # ...and the store's count blocks the address here too
    assert (blocked.status_code, blocked.json()["code"]) == (429, "E602")
    restarted = create_app(api.ctx)  # a restart: an empty window, the store's count kept
    with TestClient(restarted, raise_server_exceptions=False) as again:
        assert again.get("/api/v1/me", headers=_guess("y")).status_code == 401
        assert again.get("/api/v1/me", headers=api.headers("admin")).status_code == 429
