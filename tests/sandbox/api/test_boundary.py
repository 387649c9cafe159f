"""The service boundary, endpoint by endpoint: generated from the app's own routes, so a new endpoint
without an access rule, or one that answers a role it should refuse, fails here.

The home holds real raw data (people with checksummed resident ids, ingested through the real
path), an active scenario, an approved job and a released product, so the read endpoints answer
with content; every response body is then scanned for the raw values and with the samples'
Presidio recognizers. No response may carry a raw identifier, and none may be a 5xx. (A hex digest —
a file's or a job's SHA-256 — is not an identifier, though a run of its digits can look like a mobile
number to a recognizer; the raw values themselves are looked for verbatim everywhere.)

The web UI's pages (every path outside ``/api``) are routes too, under the same rule: an anonymous
browser is sent to the sign-in page (303), a role the page does not admit is refused with 403, its
code E603 in the ``X-Shuyu-Error`` header and in the page itself.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from stdnum.cn import ric

from sandbox.api.access import Allow, Public
from sandbox.api.app import create_app
from sandbox.catalog.service import ingest
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.quality import tickets
from sandbox.samples.recognizers import analyze
from sandbox.store.models import QualityTicketRow

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
    ticket = tickets.raise_request(ctx, cast("operator-1"), "people", "出生日期待核实", column="birth_date")
    with ctx.transaction() as session:  # as a quality run leaves it: example failing keys, the provider's own
        session.get(QualityTicketRow, ticket.id).examples_json = json.dumps(RAW_IDS[:2])
    ids = {"dataset_id": "people", "scenario_id": "elderly-care", "product_id": product.id, "username": "developer-1",
           "submission_id": submission.id, "provider_id": "gongan", "ticket": tickets.ticket_view(ticket)["ticket"]}  # fmt: skip
    tokens = {role: token_for(ctx, user) for role, user in ROLE_USERS.items()}
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield client, tokens, ids


def _path(path: str, ids: dict, method: str) -> str:
    """GETs address real objects (so they answer with content to scan); changes address none."""
    return re.sub(
        r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x") if method == "GET" else "nothing-here", path
    )


#: A SHA-1 or longer hex digest (a content hash, a job's code hash), whole.
_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{40,}(?![0-9A-Za-z])")


def _in_digest(text: str, start: int, end: int) -> bool:
    return any(
        m.start() <= start and end <= m.end() for m in _DIGEST.finditer(text, max(0, start - 128), end + 128)
    )


#: The only answers that carry raw identifiers, and to whom: a ticket's example failing keys are the
#: provider's own records, shown to that provider and to the staff who decide tickets (ARCHITECTURE:
#: the tickets zone); the web page leaves them out. Everyone else is refused these endpoints.
OWNERS_OF_KEYS = {("GET", "/api/v1/provider/tickets/{ticket}"): {"provider", "operator", "admin"}}


def _leaks(text: str) -> list[str]:
    found = [v for v in (*RAW_IDS, *RAW_NAMES) if v in text]
    found += [
        f"{r.entity_type}:{text[r.start : r.end]}"
        for r in analyze(text)
        if r.entity_type in IDENTIFIER_ENTITIES and not _in_digest(text, r.start, r.end)
    ]
    return found


def test_every_endpoint_declares_who_may_call_it(sqlite_ctx):
    found = rules(create_app(sqlite_ctx))
    missing = [f"{m} {p}" for m, p, _r, roles, _public in found if roles is None]
    assert not missing, f"endpoints without an Allow or PUBLIC rule: {missing}"
    assert len(found) >= 20


def _is_page(path: str) -> bool:
    return not path.startswith("/api")


def _code(response, page: bool) -> str | None:
    """The error code an answer carries: a page's in its header and its body, the API's in its JSON."""
    if page:
        code = response.headers.get("x-shuyu-error")
        return code if code and f"<code>{code}</code>" in response.text else None
    return response.json().get("code") if response.headers.get("content-type", "").startswith(
        "application/json") and isinstance(response.json(), dict) else None  # fmt: skip


def test_role_by_endpoint_matrix_no_5xx_and_no_raw_identifier_in_any_answer(served):
    client, tokens, ids = served
    problems, answered, pages = [], 0, 0
    for method, path, _route, roles, public in rules(client.app):
        url, page = _path(path, ids, method), _is_page(path)
        pages += page
        anonymous = client.request(method, url, json={}, follow_redirects=False)
        if public:
            continue
        if not page and anonymous.status_code != 401:
            problems.append(f"{method} {path}: answers without credentials ({anonymous.status_code})")
        if page and (anonymous.status_code, anonymous.headers.get("location", "")[:6]) != (303, "/login"):
            problems.append(
                f"{method} {path}: does not send an anonymous browser to sign in ({anonymous.status_code})"
            )
        for role, token in tokens.items():
            response = client.request(method, url, json={}, headers={"Authorization": f"Bearer {token}"},
                                      follow_redirects=False)  # fmt: skip
            code = _code(response, page)
            allowed = not roles or role in roles
            if response.status_code >= 500:
                problems.append(f"{method} {path} as {role}: {response.status_code} {response.text[:200]}")
            elif allowed and code == "E603":
                problems.append(f"{method} {path} as {role}: refused by the rule that admits it")
            elif not allowed and (response.status_code, code) != (403, "E603"):
                problems.append(f"{method} {path} as {role}: not refused ({response.status_code} {code})")
            leaks = _leaks(response.text)
            if leaks and role not in OWNERS_OF_KEYS.get((method, path), ()):
                problems.append(f"{method} {path} as {role}: raw identifiers {leaks}")
            answered += response.status_code == 200
    assert not problems, "\n".join(problems)
    assert answered >= 20  # the matrix read real content, not only refusals
    assert pages >= 20  # the web UI's pages are in it
