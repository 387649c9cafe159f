"""The delivery router: API keys for consumers and operators, the key-authenticated product query API
(its own access rule, ``ConsumerKey``), quota refusals as 429, usage and billing."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from sandbox.api import access
from sandbox.api.attempts import FAILED_AUTH_LIMIT
from sandbox.api.routers.delivery import ConsumerKey
from sandbox.context import PlatformContext
from sandbox.domain.identity import Role
from sandbox.governance import scenarios
from sandbox.governance.access import principal_for
from sandbox.products import api_keys

from ..governance.conftest import Cast
from ..governance.test_scenarios import walk_to_active
from ..products.test_delivery import cells, publish
from .conftest import forget_failures
from .test_boundary import rules

QUERY = "/api/v1/delivery/products/district_levels/query"
QUERY_ROUTE = "/api/v1/delivery/products/{product_id}/query"


@pytest.fixture
def served(api):
    cast = Cast(api.ctx)
    walk_to_active(cast)
    scenarios.add_member(api.ctx, cast("operator-1"), "elderly-care", "developer-1")
    publish(cast)
    yield api


def new_key(api, label: str = "script") -> dict:
    created = api.post("consumer-1", "/api/v1/delivery/keys", json={"label": label})
    assert created.status_code == 201, created.text
    return created.json()


def with_key(secret: str, **headers) -> dict:
    return {"X-API-Key": secret, **headers}


def test_consumers_manage_their_keys_and_operators_set_quotas(served):
    api = served
    key = new_key(api)
    assert key["secret"].startswith("sk_") and key["daily_quota"] > 0 and key["state"] == "active"
    listed = api.get("consumer-1", "/api/v1/delivery/keys")
    assert listed.status_code == 200 and [k["key"] for k in listed.json()] == [key["key"]]
    assert key["secret"] not in listed.text and "key_hash" not in listed.text
    assert [k["key"] for k in api.get("operator-1", "/api/v1/delivery/keys").json()] == [key["key"]]
    quota = api.client.put(f"/api/v1/delivery/keys/{key['key']}/quota", json={"daily_quota": 7},
                           headers=api.headers("operator-1"))  # fmt: skip
    assert quota.status_code == 200 and quota.json()["daily_quota"] == 7
    mine = api.client.put(f"/api/v1/delivery/keys/{key['key']}/quota", json={"daily_quota": 7000},
                          headers=api.headers("consumer-1"))  # fmt: skip
    assert (mine.status_code, mine.json()["code"]) == (403, "E603")
    for user in ("developer-1", "provider-gongan", "auditor-1"):
        refused = api.get(user, "/api/v1/delivery/keys")
        assert (refused.status_code, refused.json()["code"]) == (403, "E603")
    assert api.post("operator-1", "/api/v1/delivery/keys", json={}).json()["code"] == "E603"
    missing = api.delete("consumer-1", "/api/v1/delivery/keys/0123456789abcdef")
    assert (missing.status_code, missing.json()["code"]) == (404, "E201")
    revoked = api.delete("consumer-1", f"/api/v1/delivery/keys/{key['key']}", params={"reason": "轮换"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    gone = api.client.get(QUERY, headers=with_key(key["secret"]))
    assert (gone.status_code, gone.json()["code"]) == (401, "E601")


def test_query_with_a_key_filters_sorts_pages_and_answers_in_three_formats(served):
    api = served
    secret = new_key(api)["secret"]
    answer = api.client.get(QUERY, headers=with_key(secret), params={"filter": ["level=一级", "level=二级"],
                            "sort": "-people", "limit": 3})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["version"], body["total"], len(body["rows"])) == (1, 6, 3)
    assert [r["people"] for r in body["rows"]] == [19, 18, 14]
    assert answer.headers["X-Total-Count"] == "6" and answer.headers["X-Next-Cursor"] == body["next_cursor"]
    rest = api.client.get(QUERY, headers=with_key(secret), params={"filter": ["level=一级", "level=二级"],
                          "sort": "-people", "cursor": body["next_cursor"]})  # fmt: skip
    assert [r["people"] for r in rest.json()["rows"]] == [11, 10, None] and rest.json()["next_cursor"] is None

    as_csv = api.client.get(QUERY, headers=with_key(secret, Accept="text/csv"))
    assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.startswith('"district_code"')
    as_parquet = api.client.get(QUERY, headers=with_key(secret), params={"format": "parquet", "version": 1})
    assert pq.read_table(io.BytesIO(as_parquet.content)).to_pylist() == cells().to_pylist()

    described = api.client.get("/api/v1/delivery/products/district_levels", headers=with_key(secret))
    assert described.status_code == 200
    assert [c["name"] for c in described.json()["tables"]["by_district"]] == ["district_code", "level", "people",
                                                                              "decision"]  # fmt: skip


def test_bad_queries_are_bilingual_422s(served):
    api = served
    secret = new_key(api)["secret"]
    for params in ({"filter": "id_number=110101199003074514"}, {"sort": "name"}, {"format": "xlsx"},
                   {"limit": 10_001}, {"cursor": "xyz"}, {"filter": ["level=一级"] * 65}):  # fmt: skip
        refused = api.client.get(QUERY, headers=with_key(secret), params=params)
        assert refused.status_code == 422, params
        assert refused.json()["code"] in ("E580", "E110") and refused.json()["zh"] and refused.json()["en"]
        assert "110101199003074514" not in refused.text
    unknown = api.client.get(QUERY, headers=with_key(secret), params={"sort": ["level", "nope"]})
    assert (
        unknown.json()["code"] == "E580" and "sort #2" in unknown.json()["en"] and "nope" not in unknown.text
    )


def test_the_key_rule_admits_keys_only_and_counts_bad_ones_against_the_address(served):
    api = served
    secret = new_key(api)["secret"]
    nothing = api.client.get(QUERY)
    assert (nothing.status_code, nothing.json()["code"]) == (401, "E601") and "X-API-Key" in nothing.json()[
        "en"
    ]
    consumer_login = api.get("consumer-1", QUERY)  # a consumer's sign-in is not a key
    assert (consumer_login.status_code, consumer_login.json()["code"]) == (401, "E601")
    assert "API key" in consumer_login.json()["en"]
    operator = api.get("operator-1", QUERY)  # anyone else is refused by the rule itself
    assert (operator.status_code, operator.json()["code"]) == (403, "E603")
    beside = api.client.get(QUERY, headers={**api.headers("operator-1"), "X-API-Key": secret})
    assert beside.status_code == 200  # the key decides; a token beside it is ignored
    (route,) = [r for m, p, r, _roles, _public in rules(api.client.app) if (m, p) == ("GET", QUERY_ROUTE)]
    (rule,) = [d.call for d in route.dependant.dependencies if isinstance(d.call, access.Allow)]
    assert isinstance(rule, ConsumerKey) and rule.roles == {Role.CONSUMER}  # what the matrix test reads

    forget_failures(api.client.app)
    statuses = {api.client.get(QUERY, headers=with_key(f"sk_guess{i}")).status_code
                for i in range(FAILED_AUTH_LIMIT.amount)}  # fmt: skip
    assert statuses == {401}
    limited = api.client.get(QUERY, headers=with_key(secret))
    assert (limited.status_code, limited.json()["code"]) == (429, "E602")
    forget_failures(api.client.app)
    assert api.client.get(QUERY, headers=with_key(secret)).status_code == 200


def test_a_key_revoked_anywhere_stops_answering_at_once(served):
    """The door remembers a key it has seen, but the query's own transaction checks it: a revocation
    committed by another process (whose memory this one never hears of) refuses the very next query."""
    api = served
    key = new_key(api)
    assert api.client.get(QUERY, headers=with_key(key["secret"])).status_code == 200
    assert api_keys.known_key(api.ctx, key["secret"]) is not None  # remembered at the door
    elsewhere = PlatformContext(api.ctx.settings, actor="tester")  # like a CLI on the same home
    api_keys.revoke_key(elsewhere, principal_for(elsewhere, "operator-1"), key["key"], "泄露")
    elsewhere.engine.dispose()
    assert api_keys.known_key(api.ctx, key["secret"]) is not None  # this process was not told
    for path in (QUERY, "/api/v1/delivery/products/district_levels"):
        gone = api.client.get(path, headers=with_key(key["secret"]))
        assert (gone.status_code, gone.json()["code"]) == (401, "E601"), path
    assert api_keys.known_key(api.ctx, key["secret"]) is None  # forgotten once refused
    (usage,) = api.get("consumer-1", "/api/v1/delivery/usage").json()
    assert usage["requests"] == 1
    remaining = api.client.app.state.attempts.window.get_window_stats(
        FAILED_AUTH_LIMIT, "testclient"
    ).remaining
    assert remaining == FAILED_AUTH_LIMIT.amount - 2  # both refusals counted against the address


def test_over_quota_is_429_not_served_and_not_counted(served):
    api = served
    key = new_key(api)
    api.client.put(f"/api/v1/delivery/keys/{key['key']}/quota", json={"daily_quota": 2},
                   headers=api.headers("operator-1"))  # fmt: skip
    assert [api.client.get(QUERY, headers=with_key(key["secret"]), params={"limit": 4}).status_code
            for _ in range(2)] == [200, 200]  # fmt: skip
    over = api.client.get(QUERY, headers=with_key(key["secret"]))
    assert (over.status_code, over.json()["code"]) == (429, "E582")
    assert (
        "配额" in over.json()["zh"] and "quota" in over.json()["en"] and int(over.headers["Retry-After"]) > 0
    )
    (usage,) = api.get("consumer-1", "/api/v1/delivery/usage").json()
    assert (usage["consumer"], usage["product"], usage["requests"], usage["rows"]) == (
        "bank",
        "district_levels",
        2,
        8,
    )
    (key_now,) = api.get("consumer-1", "/api/v1/delivery/keys").json()
    assert key_now["used_today"] == 2


def test_usage_and_billing_for_consumers_operators_and_auditors(served):
    api = served
    secret = new_key(api)["secret"]
    api.client.get(QUERY, headers=with_key(secret), params={"limit": 5})
    (mine,) = api.get("consumer-1", "/api/v1/delivery/billing").json()
    assert (mine["consumer"], mine["product"], mine["requests"], mine["rows"], mine["amount_yuan"]) == (
        "bank", "district_levels", 1, 5, "0.00")  # fmt: skip
    assert api.get("auditor-1", "/api/v1/delivery/billing").json() == [mine]
    assert (
        api.get("operator-1", "/api/v1/delivery/usage", params={"product": "district_levels"}).json()[0][
            "rows"
        ]
        == 5
    )
    assert api.get("admin", "/api/v1/delivery/billing", params={"month": "2001-01"}).json() == []
    bad = api.get("admin", "/api/v1/delivery/billing", params={"month": "2026-13"})
    assert (bad.status_code, bad.json()["code"]) == (422, "E110")
    for user in ("developer-1", "provider-gongan"):
        refused = api.get(user, "/api/v1/delivery/billing")
        assert (refused.status_code, refused.json()["code"]) == (403, "E603")
    report = api.get("auditor-1", "/api/v1/auditor/disclosure").json()
    assert {u["product"]: u["requests"] for u in report["product_usage"]} == {"district_levels": 1}
