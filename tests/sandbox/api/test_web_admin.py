"""The web UI's operator and administrator pages, and the developer's sample files: every page renders for
the roles its rule admits and refuses the others, its forms work through the same services as the JSON
API (and refuse a post without the anti-forgery token), and no page carries a raw identifier.

Seeded without Spark or Ray: ``web_home.seed_web_home`` and ``seed_web_extras`` (a finished dev run of
exactly the waiting resubmission's code, a disputed ticket, a manual request reported fixed, the
current samples' Parquet file of ``disability``).
"""

from __future__ import annotations

import io
import re

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.api.app import create_app
from sandbox.domain.errors import PermissionDenied
from sandbox.governance.access import principal_for
from sandbox.runtime import dev, submissions
from sandbox.store.models import AuditEventRow, AuthorizationRow, JobSubmissionRow, TaskRow
from sandbox.tasks import queue
from sandbox.tasks.kinds import kind_named

from ..products.conftest import JOB_PY, JOB_TOML
from .conftest import token_for
from .test_boundary import _leaks
from .test_web import Browser
from .web_home import PASSWORD, PREVIEW_MARKER, copied

ROLE_USERS = ("admin", "operator-1", "developer-1", "consumer-1", "provider-gongan", "auditor-1")


@pytest.fixture
def site(admin_template, tmp_path):
    ctx = copied(admin_template, tmp_path / "home")
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield Browser(ctx, client), admin_template.seeded, admin_template.extras
    ctx.engine.dispose()


def new_pages(seeded, extras) -> list[tuple[str, set[str]]]:
    """(path, the users of ROLE_USERS it admits): every other one of them is refused with E603."""
    staff = {"admin", "operator-1"}
    return [
        (f"/operator/submissions/{seeded.submission}", {"operator-1"}),
        (f"/developer/submissions/{seeded.submission}", {"developer-1"}),
        ("/operator/scenarios", staff),
        ("/operator/scenarios/housing", staff),
        ("/operator/scenarios/elderly-care", staff),
        ("/operator/tickets", staff),
        ("/operator/tickets?state=disputed", staff),
        (f"/operator/tickets/{extras.disputed}", staff),
        (f"/operator/tickets/{extras.fixed}", staff),
        ("/admin", staff),
        ("/admin/users/developer-2", staff),
        ("/admin/authorizations", staff),
        ("/developer/scenarios/elderly-care/samples", {"developer-1"}),
    ]


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["x-shuyu-error"] == code
    assert f"<code>{code}</code>" in response.text


def _state(browser, user: str, path: str) -> str:
    return re.search(r"<h1>.*?class=\"state state-(\w+)\"", browser.get(user, path).text, re.S).group(1)


# -- every new page ------------------------------------------------------------------------------


def test_every_new_page_renders_for_its_roles_and_refuses_every_other(site):
    browser, seeded, extras = site
    for path, admitted in new_pages(seeded, extras):
        for user in ROLE_USERS:
            shown = browser.get(user, path)
            if user in admitted:
                assert shown.status_code == 200, (path, user, shown.status_code, shown.text[:800])
                assert "<h1>" in shown.text and f'<span class="user">{user}</span>' in shown.text
                assert "<script>" not in shown.text and " style=" not in shown.text
            else:
                _refused(shown, 403, "E603")
        anonymous = browser.get(None, path)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_menu_leads_staff_to_the_new_pages_and_nobody_else(site):
    browser, _, _ = site
    for user in ("operator-1", "admin"):
        menu = re.search(r'<nav class="menu".*?</nav>', browser.get(user, "/operator/runs").text, re.S).group(
            0
        )
        for href in ("/operator/scenarios", "/operator/tickets", "/admin", "/admin/authorizations"):
            assert f'href="{href}"' in menu, (user, href)
    menu = re.search(
        r'<nav class="menu".*?</nav>', browser.get("developer-1", "/developer").text, re.S
    ).group(0)
    assert "/operator/" not in menu and "/admin" not in menu


def test_no_new_page_carries_a_raw_identifier(site):
    browser, seeded, extras = site
    found = {}
    for path, admitted in new_pages(seeded, extras):
        for lang in ("zh", "en"):
            shown = browser.get(sorted(admitted)[0], f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert shown.status_code == 200
            if leaks := _leaks(shown.text):
                found[f"{path} ({lang})"] = leaks
    assert not found


# -- the dev-run advisory on the review page -----------------------------------------------------


def test_the_review_page_shows_the_dev_run_of_exactly_the_submitted_code(site):
    browser, seeded, extras = site
    for user, path in (("operator-1", f"/operator/submissions/{seeded.submission}"),
                       ("developer-1", f"/developer/submissions/{seeded.submission}")):  # fmt: skip
        page = browser.get(user, path).text
        advisory = page[page.index('id="advisory"') :]
        assert f'href="/tasks/{extras.dev_task}"' in advisory
        assert (
            '<dd data-total="released">3</dd>' in advisory
            and '<dd data-total="suppressed">2</dd>' in advisory
        )
        assert "主体数不足 2" in advisory and re.search(r"<td>3</td><td>2</td>", advisory)
        assert PREVIEW_MARKER not in page and 'id="no-advisory"' not in page  # figures, never a row
    other = browser.get("operator-1", f"/operator/submissions/{seeded.approved}?lang=en").text
    assert 'id="no-advisory"' in other and "No dev run of this exact code" in other
    assert "没有这份代码" in browser.get("developer-1", f"/developer/submissions/{seeded.approved}").text


def test_advisory_for_takes_the_submitters_latest_succeeded_dev_run_of_the_same_hash_only(site):
    browser, seeded, extras = site
    ctx = browser.ctx
    with ctx.sessions() as session:
        code = session.get(JobSubmissionRow, seeded.submission).code_sha256

    def finished(user: str, ok: bool, digest: str, released: int) -> str:
        task = queue.enqueue(ctx, principal_for(ctx, user), "dev.run", {"upload": "x"})
        assert queue.claim(ctx, "test").id == task.id
        queue.finish(ctx, task.id, ok=ok, result={"job": {"ok": ok}, "code_sha256": digest, "seconds": 1.0,
                                                  "gate": {"outputs": {"o": {"released": released, "suppressed": 0}}}})  # fmt: skip
        return task.id

    finished("developer-1", False, code, 99)  # failed: not advice
    finished("developer-1", True, "0" * 64, 98)  # other code
    operator = principal_for(ctx, "operator-1")
    assert submissions.advisory_for(ctx, operator, seeded.submission)["task"] == extras.dev_task
    latest = finished("developer-1", True, code, 7)
    advice = submissions.advisory_for(ctx, operator, seeded.submission)
    assert (advice["task"], advice["totals"]["released"]) == (latest, 7)
    assert (
        submissions.advisory_for(ctx, principal_for(ctx, "developer-1"), seeded.submission)["task"] == latest
    )
    assert submissions.advisory_for(ctx, principal_for(ctx, "admin"), seeded.submission)["task"] == latest
    for reader in (
        "auditor-1",
        "developer-2",
    ):  # auditors read packets, not dev runs; another developer neither
        with pytest.raises(PermissionDenied):
            submissions.advisory_for(ctx, principal_for(ctx, reader), seeded.submission)
    with ctx.sessions() as session:
        refused = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    assert {e.actor for e in refused if e.object_id == seeded.submission} >= {"auditor-1", "developer-2"}


def test_the_dev_run_kind_records_the_hash_a_submission_of_the_same_files_gets(site, monkeypatch):
    """The queued dev run, its Spark part replaced, records the code hash of the uploaded folder; a
    submission of the same files has that hash, so its review page finds the run."""
    browser, _, _ = site
    ctx = browser.ctx
    files = [("files", ("job.toml", JOB_TOML.format(job_id="web_job", scenario="elderly-care").encode(), "text/plain")),
             ("files", ("job.py", JOB_PY.encode(), "text/x-python"))]  # fmt: skip
    token = browser.csrf("developer-1", "/developer/jobs")
    client = browser.as_("developer-1")
    queued = client.post(
        "/developer/dev-runs", data={"csrf_token": token}, files=files, follow_redirects=False
    )
    submitted = client.post(
        "/developer/submissions", data={"csrf_token": token}, files=files, follow_redirects=False
    )
    submission = submitted.headers["location"].rsplit("/", 1)[1]
    task_id = queued.headers["location"].rsplit("/", 1)[1]
    report = {"job": {"ok": True, "phase": None},
              "frames": {"by_level": {"rows": 5, "columns": ["id_number", "level"], "preview": [[PREVIEW_MARKER, 1]]}},
              "gate": {"outputs": {"by_level": {"refusal": None, "released": 4, "suppressed": 1,
                                                "suppressed_by_reason": {"dominance": 1}}}}, "seconds": 2.0}  # fmt: skip
    monkeypatch.setattr(dev, "prepare", lambda ctx, actor, job_dir: job_dir / "spec.json")
    monkeypatch.setattr(dev, "first_report", lambda spec: report)
    row = queue.claim(ctx, "test")
    assert row.id == task_id
    ok, result = kind_named("dev.run").run(ctx, principal_for(ctx, "developer-1"), queue.task_view(row)["args"],
                                           lambda zh, en: None)  # fmt: skip
    queue.finish(ctx, task_id, ok=ok, result=result)
    with ctx.sessions() as session:
        assert result["code_sha256"] == session.get(JobSubmissionRow, submission).code_sha256
    page = browser.get("operator-1", f"/operator/submissions/{submission}").text
    assert f'href="/tasks/{task_id}"' in page and '<dd data-total="released">4</dd>' in page
    assert "优势占比 1" in page and PREVIEW_MARKER not in page


# -- correction tickets ----------------------------------------------------------------------------


def test_an_operator_decides_a_disputed_ticket_with_a_reason(site):
    browser, _, extras = site
    page = f"/operator/tickets/{extras.disputed}"
    shown = browser.get("operator-1", page).text
    assert 'id="decide"' in shown and "等级经复核无误" in shown  # the provider's reason, to decide on
    assert browser.get("operator-1", "/operator/tickets").text.index(extras.disputed) < browser.get(
        "operator-1", "/operator/tickets"
    ).text.index(extras.fixed)  # disputed ones first
    _refused(
        browser.post("operator-1", f"{page}/decide", {"decision": "uphold", "comment": "x"}), 403, "E604"
    )
    _refused(browser.post("provider-canlian", f"{page}/decide", {"decision": "reject", "comment": "x"},
                          form="/provider"), 403, "E603")  # fmt: skip
    no_reason = browser.post(
        "operator-1", f"{page}/decide", {"decision": "uphold", "comment": " "}, form=page
    )
    assert no_reason.status_code == 400 and no_reason.headers["x-shuyu-error"]
    _refused(
        browser.post("operator-1", f"{page}/decide", {"decision": "maybe", "comment": "x"}, form=page),
        422,
        "E110",
    )
    upheld = browser.post(
        "operator-1", f"{page}/decide", {"decision": "uphold", "comment": "复核记录属实"}, form=page
    )
    assert upheld.status_code == 303 and upheld.headers["location"] == page
    assert _state(browser, "operator-1", page) == "upheld"
    assert 'id="decide"' not in browser.get("operator-1", page).text
    assert "异议成立" in browser.get("provider-canlian", f"/provider/tickets/{extras.disputed}").text


def test_an_admin_verifies_a_manual_request_reported_fixed_and_an_operator_reopens_another(site):
    browser, seeded, extras = site
    page = f"/operator/tickets/{extras.fixed}"
    assert 'id="confirm"' in browser.get("admin", page).text
    assert 'id="confirm"' not in browser.get("admin", f"/operator/tickets/{seeded.ticket}").text  # still open
    verified = browser.post("admin", f"{page}/verify", {"comment": "已核对新版本"}, form=page)
    assert verified.status_code == 303 and _state(browser, "admin", page) == "verified"
    again = browser.post("operator-1", f"{page}/reopen", {"comment": ""}, form=page)
    assert again.status_code == 400  # verified is closed: the service says so
    unknown = browser.post("operator-1", f"{page}/explode", {"comment": ""}, form=page)
    _refused(unknown, 422, "E110")


# -- scenario review -----------------------------------------------------------------------------


def test_an_operator_reviews_a_scenario_from_submission_to_its_developers(site):
    browser, _, _ = site
    page = "/operator/scenarios/housing"
    shown = browser.get("operator-2", page).text
    assert 'id="start-review"' in shown and "按区县汇总" in shown and "住房保障" in shown
    own = browser.post("operator-1", f"{page}/start-review", {}, form=page)  # the proposer: four eyes
    _refused(own, 403, "E600")
    assert browser.post("operator-2", f"{page}/start-review", {}, form=page).status_code == 303
    assert _state(browser, "operator-2", page) == "under_review"
    early = browser.post("operator-2", f"{page}/approve", {"comment": ""}, form=page)
    assert early.status_code == 400 and "people" in early.text  # the provider has not answered yet
    request = "/provider/requests/housing/people"
    assert browser.post("provider-gongan", request, {"decision": "grant"}, form=request).status_code == 303
    no_comment = browser.post("operator-2", f"{page}/reject", {"comment": "  "}, form=page)
    assert no_comment.status_code == 400 and _state(browser, "operator-2", page) == "under_review"
    approved = browser.post("operator-2", f"{page}/approve", {"comment": "符合最小必要原则"}, form=page)
    assert approved.status_code == 303 and _state(browser, "operator-2", page) == "approved"
    assert 'id="activate"' in browser.get("admin", page).text
    assert browser.post("admin", f"{page}/activate", {}, form=page).status_code == 303
    assert _state(browser, "admin", page) == "active"
    form = browser.get("operator-1", page).text
    assert "<option>developer-2</option>" in form and "<option>developer-1</option>" in form
    added = browser.post("operator-1", f"{page}/developers/add", {"username": "developer-2"}, form=page)
    assert added.status_code == 303
    assert "developer-2" in re.search(
        r"<dd>([^<]*developer-2[^<]*)</dd>", browser.get("operator-1", page).text
    ).group(1)
    assert browser.get("developer-2", "/developer/scenarios/housing").status_code == 200
    _refused(browser.post("developer-1", f"{page}/developers/add", {"username": "developer-1"}, form="/developer"),
             403, "E603")  # fmt: skip


def test_a_scenario_is_rejected_with_a_comment_the_proposer_reads(site):
    browser, _, _ = site
    page = "/operator/scenarios/housing"
    browser.post("operator-2", f"{page}/start-review", {}, form=page)
    rejected = browser.post("operator-2", f"{page}/reject", {"comment": "用途不明确"}, form=page)
    assert rejected.status_code == 303 and _state(browser, "operator-2", page) == "rejected"
    assert "用途不明确" in browser.get("operator-1", page).text
    _refused(browser.post("operator-2", f"{page}/explode", {}, form=page), 422, "E110")


# -- administration ------------------------------------------------------------------------------


def test_the_administrator_adds_an_organization_and_a_user_who_then_signs_in(site):
    browser, _, _ = site
    _refused(browser.post("operator-1", "/admin/orgs", {"org": "x", "name": "x", "kind": "developer"}, form="/admin"),
             403, "E603")  # fmt: skip
    org = browser.post("admin", "/admin/orgs", {"org": "lanhai-tech", "name": "蓝海科技", "kind": "developer"},
                       form="/admin")  # fmt: skip
    assert org.status_code == 303
    wrong = browser.post("admin", "/admin/users", {"username": "dev-9", "org": "lanhai-tech", "roles": ["consumer"]},
                         form="/admin")  # fmt: skip
    assert wrong.status_code == 400  # a developer organization holds developers only
    made = browser.post("admin", "/admin/users", {"username": "dev-9", "name": "开发九", "org": "lanhai-tech",
                                                  "roles": ["developer"]}, form="/admin")  # fmt: skip
    assert made.status_code == 303 and made.headers["location"] == "/admin/users/dev-9"
    listing = browser.get("operator-1", "/admin").text
    assert "蓝海科技" in listing and 'href="/admin/users/dev-9"' in listing and 'id="add-user"' not in listing
    page = "/admin/users/dev-9"
    differ = browser.post("admin", f"{page}/password", {"password": "a" * 12, "confirm": "b" * 12}, form=page)
    _refused(differ, 422, "E110")
    short = browser.post("admin", f"{page}/password", {"password": "short", "confirm": "short"}, form=page)
    assert short.status_code == 422
    secret = "lanhai blue sea 2026"
    _refused(browser.post("operator-1", f"{page}/password", {"password": secret, "confirm": secret}, form=page),
             403, "E603")  # fmt: skip
    assert (
        browser.post(
            "admin", f"{page}/password", {"password": secret, "confirm": secret}, form=page
        ).status_code
        == 303
    )
    assert "已设置" in browser.get("admin", page).text and secret not in browser.get("admin", page).text
    client = browser.as_(None)
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/login").text).group(1)
    signed_in = client.post("/login", data={"username": "dev-9", "password": secret, "csrf_token": token},
                            follow_redirects=False)  # fmt: skip
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/developer"


def test_staff_record_a_developers_clearance_until_they_are_cleared(site):
    browser, _, _ = site
    browser.post(
        "admin",
        "/admin/users",
        {"username": "dev-8", "org": "dev-org", "roles": ["developer"]},
        form="/admin",
    )
    page = "/admin/users/dev-8"
    assert (
        "未齐备" in browser.get("operator-1", page).text
        and 'id="password"' not in browser.get("operator-1", page).text
    )
    assert browser.post("operator-1", f"{page}/identity", {}, form=page).status_code == 303
    assert (
        browser.post("operator-1", f"{page}/filing", {"filing_no": "BA-2026-0008"}, form=page).status_code
        == 303
    )
    bad_day = browser.post(
        "operator-1", f"{page}/nda", {"version": "v1.0", "signed_on": "someday"}, form=page
    )
    _refused(bad_day, 422, "E110")
    nda = browser.post("operator-1", f"{page}/nda", {"version": "v1.0", "signed_on": "2026-11-30"}, form=page)
    assert nda.status_code == 303
    shown = browser.get("operator-1", page).text
    assert "已具备" in shown and "BA-2026-0008" in shown and "2026-11-30" in shown
    _refused(browser.post("developer-1", f"{page}/identity", {}, form="/developer"), 403, "E603")
    _refused(browser.get("operator-1", "/admin/users/nobody"), 404, "E201")


def test_the_administrator_grants_and_revokes_an_authorization(site):
    browser, _, _ = site
    page = "/admin/authorizations"
    assert 'id="grant"' not in browser.get("operator-1", page).text
    _refused(browser.post("operator-1", page, {"operator": "op-org", "datasets": ["people"], "starts_on": "2027-01-01",
                                               "ends_on": "2027-12-31", "content": "x"}, form=page), 403, "E603")  # fmt: skip
    too_long = browser.post("admin", page, {"operator": "op-org", "datasets": ["people"], "starts_on": "2027-01-01",
                                            "ends_on": "2032-01-02", "content": "住房保障"}, form=page)  # fmt: skip
    assert too_long.status_code == 400  # more than 5 years
    granted = browser.post("admin", page, {"operator": "op-org", "datasets": ["people", "disability"],
                                           "starts_on": "2027-01-01", "ends_on": "2027-12-31", "content": "住房保障"},
                           form=page)  # fmt: skip
    assert granted.status_code == 303
    with browser.ctx.sessions() as session:
        new = session.scalars(select(AuthorizationRow).order_by(AuthorizationRow.created_at.desc())).first()
    listed = browser.get("admin", page).text
    assert (
        new.id in listed
        and "住房保障" in listed
        and f'action="/admin/authorizations/{new.id}/revoke"' in listed
    )
    no_reason = browser.post("admin", f"{page}/{new.id}/revoke", {"reason": " "}, form=page)
    assert no_reason.status_code == 400
    revoked = browser.post("admin", f"{page}/{new.id}/revoke", {"reason": "规划调整"}, form=page)
    assert revoked.status_code == 303
    with browser.ctx.sessions() as session:
        assert session.get(AuthorizationRow, new.id).state == "revoked"
    assert browser.get("developer-1", "/developer/scenarios/elderly-care").status_code == 200  # still covered


# -- the developer's sample files ----------------------------------------------------------------


def test_a_developer_downloads_their_scenarios_sample_and_everyone_else_is_refused(site):
    browser, _, _ = site
    card = browser.get("developer-1", "/developer/scenarios/elderly-care/samples").text
    link = "/developer/scenarios/elderly-care/samples/disability.parquet"
    assert f'href="{link}"' in card
    page = browser.get("developer-1", link)
    assert page.status_code == 200 and page.headers["content-type"] == "application/vnd.apache.parquet"
    assert 'filename="elderly-care-disability-v0001.parquet"' in page.headers["content-disposition"]
    table = pq.read_table(io.BytesIO(page.content))
    assert table.column_names == ["id_number", "level"] and table.num_rows == 8
    assert all(v.startswith("pid-") for v in table.column("id_number").to_pylist())  # pseudonyms only
    api = "/api/v1/developer/scenarios/elderly-care/samples/disability.parquet"
    tokens = {u: token_for(browser.ctx, u) for u in ("developer-1", "developer-2", "operator-1")}
    client = browser.as_(None)
    answered = client.get(api, headers={"Authorization": f"Bearer {tokens['developer-1']}"})
    assert answered.status_code == 200 and answered.content == page.content
    # a cleared developer of another team: the samples service's own check refuses, on both faces
    _refused(browser.get("developer-2", link), 403, "E600")
    outsider = client.get(api, headers={"Authorization": f"Bearer {tokens['developer-2']}"})
    assert outsider.status_code == 403 and outsider.json()["code"] == "E600"
    _refused(browser.get("operator-1", link), 403, "E603")  # the developers' page, not the operators'
    assert (
        client.get(api, headers={"Authorization": f"Bearer {tokens['operator-1']}"}).json()["code"] == "E603"
    )
    _refused(
        browser.get("developer-1", "/developer/scenarios/elderly-care/samples/people.parquet"), 400, "E900"
    )
    _refused(browser.get("developer-1", "/developer/scenarios/housing/samples/people.parquet"), 403, "E600")
    with browser.ctx.sessions() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.object_id.like("elderly-care%"))
        ).all()
    downloads = [e.actor for e in events if e.action == "samples.download"]
    refusals = [e.actor for e in events if e.action == "refused"]
    assert downloads == ["developer-1", "developer-1"] and "developer-2" in refusals


def test_forms_of_the_new_pages_refuse_a_post_without_the_anti_forgery_token(site):
    browser, seeded, extras = site
    for user, path, data in (
        ("operator-2", "/operator/scenarios/housing/start-review", {}),
        ("operator-1", f"/operator/tickets/{extras.fixed}/verify", {"comment": ""}),
        ("admin", "/admin/orgs", {"org": "x-org", "name": "x", "kind": "consumer"}),
        ("admin", "/admin/users/developer-2/password", {"password": PASSWORD, "confirm": PASSWORD}),
        ("admin", "/admin/authorizations/AUTH-2026-0001/revoke", {"reason": "x"}),
    ):
        _refused(browser.post(user, path, data), 403, "E604")
    with browser.ctx.sessions() as session:
        assert session.get(AuthorizationRow, "AUTH-2026-0001").state == "active"
        assert session.scalar(select(TaskRow.state).where(TaskRow.id == extras.dev_task)) == "succeeded"
