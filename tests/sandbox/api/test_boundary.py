"""The service boundary, endpoint by endpoint: generated from the app's own routes, so a new endpoint
without an access rule, or one that answers a role it should refuse, fails here.

The home holds real raw data (people with checksummed resident ids, ingested through the real
path), an active scenario, an approved job and a released product, so the read endpoints answer
with content; every response body is then scanned for the raw values and with the samples'
Presidio recognizers. No response may carry a raw identifier, and none may be a 5xx.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from stdnum.cn import ric

from sandbox.api import access
from sandbox.api.access import Allow, Public
from sandbox.api.app import create_app
from sandbox.catalog.service import ingest
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.samples.recognizers import analyze

from ..products.conftest import approved_job, live_cast, released_product
from .conftest import token_for

ROLE_USERS = {"admin": "admin", "operator": "operator-1", "developer": "developer-1", "consumer": "consumer-1",
              "provider": "provider-gongan", "auditor": "auditor-1"}  # fmt: skip
IDENTIFIER_ENTITIES = {"CN_RESIDENT_ID", "CN_USCC", "CN_BANK_CARD", "CN_MOBILE"}


def _resident_id(n: int) -> str:
    body = f"4299011985{n:02d}0{n:04d}"[:17]
    return body + ric.calc_check_digit(body)


RAW_IDS = [_resident_id(n) for n in range(1, 9)]
RAW_NAMES = ["欧阳铁柱", "司马翠花"]


def rules(app) -> list[tuple[str, str, APIRoute, frozenset | None, bool]]:
    """(method, path, route, roles, public) for every endpoint; roles None when it declares no rule."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = _calls(route.dependant)
        rule = next((c for c in calls if isinstance(c, Allow | Public)), None)
        for method in sorted(route.methods):
            found.append(
                (method, context.path, route, None if rule is None else rule.roles, isinstance(rule, Public))
            )
    return sorted(
        found, key=lambda r: (r[0], r[1]) == ("DELETE", "/api/v1/session")
    )  # signing out ends the token: last


def _calls(dependant) -> list:
    out = []
    for sub in dependant.dependencies:
        out.append(sub.call)
        out.extend(_calls(sub))
    return out


@pytest.fixture
def served(sqlite_ctx, tmp_path):
    ctx = sqlite_ctx
    cast = live_cast(ctx)
    admin = principal_for(ctx, "admin")
    identities.create_org(ctx, admin, "regulator", "网信办", identities.OrgKind.REGULATOR)
    identities.create_user(ctx, admin, "auditor-1", "审计一", "regulator", {identities.Role.AUDITOR})
    csv = tmp_path / "people.csv"
    rows = [
        f"{rid},{RAW_NAMES[i % 2]},1,1985-01-01,429901,{3000 + i},2024-01-01 08:00:00"
        for i, rid in enumerate(RAW_IDS)
    ]
    csv.write_text("id_number,name,gender,birth_date,district_code,income,updated_at\n" + "\n".join(rows) + "\n",
                   encoding="utf-8")  # fmt: skip
    ingest(ctx, admin, "people", [csv])
    product = released_product(cast, "level_counts")
    submission = approved_job(cast, "second_job")
    ids = {"dataset_id": "people", "scenario_id": "elderly-care", "product_id": product.id, "username": "developer-1",
           "submission_id": submission.id, "provider_id": "gongan"}  # fmt: skip
    tokens = {role: token_for(ctx, user) for role, user in ROLE_USERS.items()}
    access._attempts.storage.reset()
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield client, tokens, ids


def _path(path: str, ids: dict, method: str) -> str:
    """GETs address real objects (so they answer with content to scan); changes address none."""
    return re.sub(
        r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x") if method == "GET" else "nothing-here", path
    )


def _leaks(text: str) -> list[str]:
    found = [v for v in (*RAW_IDS, *RAW_NAMES) if v in text]
    found += [
        f"{r.entity_type}:{text[r.start : r.end]}"
        for r in analyze(text)
        if r.entity_type in IDENTIFIER_ENTITIES
    ]
    return found


def test_every_endpoint_declares_who_may_call_it(sqlite_ctx):
    found = rules(create_app(sqlite_ctx))
    missing = [f"{m} {p}" for m, p, _r, roles, _public in found if roles is None]
    assert not missing, f"endpoints without an Allow or PUBLIC rule: {missing}"
    assert len(found) >= 20


def test_role_by_endpoint_matrix_no_5xx_and_no_raw_identifier_in_any_answer(served):
    client, tokens, ids = served
    problems, answered = [], 0
    for method, path, _route, roles, public in rules(client.app):
        url = _path(path, ids, method)
        anonymous = client.request(method, url, json={})
        if public:
            continue
        if anonymous.status_code != 401:
            problems.append(f"{method} {path}: answers without credentials ({anonymous.status_code})")
        for role, token in tokens.items():
            response = client.request(method, url, json={}, headers={"Authorization": f"Bearer {token}"})
            code = response.json().get("code") if response.headers.get("content-type", "").startswith(
                "application/json") and isinstance(response.json(), dict) else None  # fmt: skip
            allowed = not roles or role in roles
            if response.status_code >= 500:
                problems.append(f"{method} {path} as {role}: {response.status_code} {response.text[:200]}")
            elif allowed and code == "E603":
                problems.append(f"{method} {path} as {role}: refused by the rule that admits it")
            elif not allowed and (response.status_code, code) != (403, "E603"):
                problems.append(f"{method} {path} as {role}: not refused ({response.status_code} {code})")
            leaks = _leaks(response.text)
            if leaks:
                problems.append(f"{method} {path} as {role}: raw identifiers {leaks}")
            answered += response.status_code == 200
    assert not problems, "\n".join(problems)
    assert answered >= 20  # the matrix read real content, not only refusals
