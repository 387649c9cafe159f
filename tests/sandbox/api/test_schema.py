"""Schemathesis against the OpenAPI schema: for every operation, generated requests (valid and
not) never make the service answer 5xx, never answer without credentials, and never answer a role
the operation's access rule does not admit.

The app runs in-process (ASGI) on a home with the governance cast and a consumer API key. Each
generated request is sent three times: without credentials (must be 401), as a user of a role the
operation admits (must not be a 5xx, and must not be the access rule's refusal), and as a user of
a role it does not admit (must be refused, 403 E603). Examples per operation are bounded so the
whole schema runs in about a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from sandbox.api.app import create_app
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.products import api_keys
from tests.conftest import make_context
from tests.sandbox.governance.conftest import build_cast

from .conftest import forget_failures
from .test_boundary import rules

PUBLIC = {"/api/health", "/api/v1/session", "/api/v1/session/token"}
USERS = {"admin": "admin", "operator": "operator-1", "developer": "developer-1", "consumer": "consumer-1",
         "provider": "provider-gongan", "auditor": "auditor-1"}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    ctx = make_context(tmp_path_factory.mktemp("schema-home"))
    build_cast(ctx)
    admin = principal_for(ctx, "admin")
    identities.create_org(ctx, admin, "regulator", "网信办", identities.OrgKind.REGULATOR)
    identities.create_user(ctx, admin, "auditor-1", "审计一", "regulator", {identities.Role.AUDITOR})
    _row, key = api_keys.create_key(ctx, principal_for(ctx, "consumer-1"), "schemathesis")
    app = create_app(ctx)
    allowed = {(m, p): roles for m, p, _route, roles, _public in rules(app)}
    yield ctx, app, allowed, key
    ctx.engine.dispose()


def _headers(ctx, role: str, key: str) -> dict[str, str]:
    """A fresh token each time: a generated request may sign the caller out or revoke its token."""
    user = USERS[role]
    token = identities.issue_token(ctx, principal_for(ctx, user), user, days=1, label="schemathesis")[1]
    headers = {"Authorization": f"Bearer {token}"}
    if role == "consumer":
        headers["X-API-Key"] = key
    return headers


def test_no_5xx_no_answer_without_credentials_and_no_answer_to_the_wrong_role(home):
    ctx, app, allowed, key = home
    operations = [
        result.ok()
        for result in schemathesis.openapi.from_asgi("/api/openapi.json", app).get_all_operations()
    ]
    assert len(operations) >= 60
    problems: list[str] = []
    for operation in operations:
        check = _checker(app, ctx, allowed[(operation.method.upper(), operation.path)], key, problems)
        given(case=operation.as_strategy())(
            settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                     database=None)(check)
        )()  # fmt: skip
    assert not problems, "\n".join(sorted(set(problems))[:40])


def _checker(app, ctx, roles, key: str, problems: list[str]):
    admitted = sorted(r for r in USERS if not roles or r in roles)
    refused = sorted(r for r in USERS if roles and r not in roles)

    def check(case) -> None:
        where = f"{case.method.upper()} {case.path}"
        forget_failures(app)  # generated guesses must not lock the next calls out
        anonymous = case.call(headers={})
        if case.path not in PUBLIC and anonymous.status_code not in (401, 422):
            problems.append(f"{where}: answered without credentials ({anonymous.status_code})")
        if admitted:
            response = case.call(headers=_headers(ctx, admitted[0], key))
            if response.status_code >= 500:
                problems.append(f"{where} as {admitted[0]}: {response.status_code} {response.text[:200]}")
            elif response.status_code == 403 and response.json().get("code") == "E603":
                problems.append(f"{where} as {admitted[0]}: refused by the rule that admits it")
        if refused:
            response = case.call(headers=_headers(ctx, refused[0], key))
            code = response.json().get("code") if response.status_code == 403 else None
            if response.status_code not in (401, 403, 422) or (
                response.status_code == 403 and code != "E603"
            ):
                problems.append(f"{where} as {refused[0]}: not refused ({response.status_code} {code})")

    return check
