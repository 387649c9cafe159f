"""The boundary's basic promises: no credentials is 401, a wrong role is 403 and audited, errors
are bilingual JSON with stable codes, validation errors never echo the value sent."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.store.models import AuditEventRow


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


def test_repeated_bad_tokens_are_rate_limited_even_for_a_good_one(api):
    from sandbox.api import access

    access._attempts.storage.reset()
    statuses = [api.client.get("/api/v1/me", headers={"Authorization": f"Bearer sy_guess{i}"}).status_code
                for i in range(access.FAILED_AUTH_LIMIT.amount)]  # fmt: skip
    assert set(statuses) == {401}
    limited = api.get("admin", "/api/v1/me")
    assert limited.status_code == 429 and limited.json()["code"] == "E602"
    access._attempts.storage.reset()
    assert api.get("admin", "/api/v1/me").status_code == 200
