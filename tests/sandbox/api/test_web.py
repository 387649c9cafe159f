"""The web UI, server side: every page renders for its actor and refuses the others, forms refuse a post
without their anti-forgery token, Chinese by default and English on request, and no page carries a
raw identifier. Seeded without Spark or Ray (``web_home.seed_web_home``).
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.api.access import SESSION_COOKIE
from sandbox.api.app import create_app
from sandbox.api.web import i18n
from sandbox.api.web.i18n import TEXT
from sandbox.api.web.render import HERE
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.quality.pages import FONT_FAMILY
from sandbox.store.models import QualityTicketRow, TaskRow

from ..products.conftest import JOB_PY, JOB_TOML
from .test_boundary import _leaks
from .web_home import PASSWORD, Seeded, copied

__all__ = ["PASSWORD", "Browser"]  # what test_browser.py, test_web_admin.py and the web promotion e2e import


class Browser:
    """A TestClient that signs in as one user at a time (a session cookie, as a browser holds it)."""

    def __init__(self, ctx, client: TestClient) -> None:
        self.ctx, self.client = ctx, client
        self.sessions: dict[str, str] = {}

    def as_(self, user: str | None) -> TestClient:
        self.client.cookies.clear()
        if user is not None:
            if user not in self.sessions:
                self.sessions[user] = identities.issue_session(self.ctx, principal_for(self.ctx, user))[1]
            self.client.cookies.set(SESSION_COOKIE, self.sessions[user])
        return self.client

    def get(self, user: str | None, path: str, **kwargs):
        return self.as_(user).get(path, follow_redirects=False, **kwargs)

    def csrf(self, user: str, path: str) -> str:
        """The anti-forgery token from a form on ``path``, as a browser would post it back."""
        page = self.get(user, path)
        assert page.status_code == 200, page.text[:500]
        return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)

    def post(self, user: str, path: str, data: dict, *, form: str | None = None, **kwargs):
        token = self.csrf(user, form) if form else None
        body = {**data, "csrf_token": token} if token else data
        return self.as_(user).post(path, data=body, follow_redirects=False, **kwargs)


@pytest.fixture
def web(web_template, tmp_path):
    ctx = copied(web_template, tmp_path / "home")
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield Browser(ctx, client), web_template.seeded
    ctx.engine.dispose()


def pages(seeded: Seeded) -> list[tuple[str, str, str]]:
    """(path, a user it is for, a user of another role it refuses)."""
    return [
        ("/provider", "provider-gongan", "developer-1"),
        ("/provider/datasets/people", "provider-gongan", "consumer-1"),
        ("/provider/requests", "provider-gongan", "operator-1"),
        ("/provider/requests/housing/people", "provider-gongan", "auditor-1"),
        ("/provider/quality", "provider-gongan", "developer-1"),
        ("/provider/quality/people", "provider-gongan", "consumer-1"),
        ("/provider/tickets", "provider-gongan", "developer-1"),
        (f"/provider/tickets/{seeded.ticket}", "provider-gongan", "operator-1"),
        ("/provider/scorecard", "provider-gongan", "auditor-1"),
        ("/developer", "developer-1", "provider-gongan"),
        ("/developer/scenarios/elderly-care", "developer-1", "consumer-1"),
        ("/developer/scenarios/elderly-care/samples", "developer-1", "operator-1"),
        ("/developer/jobs", "developer-1", "auditor-1"),
        (f"/developer/submissions/{seeded.approved}", "developer-1", "consumer-1"),
        ("/operator", "operator-1", "developer-1"),
        (f"/operator/submissions/{seeded.submission}", "operator-1", "developer-1"),
        ("/operator/runs", "operator-1", "consumer-1"),
        ("/operator/products", "operator-1", "provider-gongan"),
        ("/operator/products/level_counts", "operator-1", "consumer-1"),
        ("/operator/redevelopment", "operator-1", "developer-1"),
        ("/consumer", "consumer-1", "operator-1"),
        ("/consumer/products/level_counts", "consumer-1", "developer-1"),
        ("/consumer/keys", "consumer-1", "provider-gongan"),
        ("/auditor", "auditor-1", "developer-1"),
        ("/auditor/verify", "auditor-1", "consumer-1"),
        ("/auditor/disclosure", "auditor-1", "provider-gongan"),
        ("/tasks", "consumer-1", None),
    ]


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["x-shuyu-error"] == code
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code>{code}</code>" in response.text


# -- signing in ----------------------------------------------------------------------------------


def test_sign_in_with_a_password_opens_the_users_own_pages(web):
    browser, _ = web
    client = browser.as_(None)
    form = client.get("/login?next=/provider/tickets")
    assert (
        form.status_code == 200
        and 'name="password"' in form.text
        and "shuyu_login" in form.headers["set-cookie"]
    )
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', form.text).group(1)
    signed_in = client.post("/login", data={"username": "provider-gongan", "password": PASSWORD, "csrf_token": token,
                                            "next": "/provider/tickets"}, follow_redirects=False)  # fmt: skip
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/provider/tickets"
    cookie = signed_in.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/provider/tickets", follow_redirects=False).status_code == 200
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/provider"
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/provider").text).group(1)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    ended = client.get("/provider", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


def test_sign_in_refuses_a_forged_form_a_wrong_password_and_a_foreign_next(web):
    browser, _ = web
    client = browser.as_(None)
    forged = client.post(
        "/login", data={"username": "provider-gongan", "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403 and 'data-code="E604"' in forged.text
    assert SESSION_COOKIE not in client.cookies
    token = re.search(r'value="([0-9a-f]{64})"', client.get("/login").text).group(1)
    wrong = client.post(
        "/login", data={"username": "provider-gongan", "password": "nope nope nope", "csrf_token": token}
    )
    token = re.search(r'value="([0-9a-f]{64})"', client.get("/login").text).group(1)
    nobody = client.post(
        "/login", data={"username": "nobody", "password": "nope nope nope", "csrf_token": token}
    )
    assert wrong.status_code == nobody.status_code == 403
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in nobody.text
    token = re.search(r'value="([0-9a-f]{64})"', client.get("/login").text).group(1)
    away = client.post("/login", data={"username": "consumer-1", "password": PASSWORD, "csrf_token": token,
                                       "next": "//elsewhere.example/x"}, follow_redirects=False)  # fmt: skip
    assert away.status_code == 303 and away.headers["location"] == "/consumer"


def test_an_anonymous_browser_is_sent_to_sign_in_and_the_api_still_answers_json(web):
    browser, _ = web
    page = browser.get(None, "/provider/tickets?state=open")
    assert page.status_code == 303 and page.headers["x-shuyu-error"] == "E601"
    assert page.headers["location"] == "/login?next=%2Fprovider%2Ftickets%3Fstate%3Dopen"
    api = browser.get(None, "/api/v1/me")
    assert (
        api.status_code == 401
        and api.json()["code"] == "E601"
        and api.headers["www-authenticate"] == "Bearer"
    )
    assert browser.get(None, "/api/v1/nowhere").json()["code"] == "E201"
    missing = browser.get("consumer-1", "/nowhere")
    _refused(missing, 404, "E201")
    invalid = browser.get("auditor-1", "/auditor?limit=0")
    _refused(invalid, 422, "E110")


# -- every page ----------------------------------------------------------------------------------


def test_every_page_renders_for_its_actor_and_refuses_another_role(web):
    browser, seeded = web
    for path, user, other in pages(seeded):
        shown = browser.get(user, path)
        assert shown.status_code == 200, (path, shown.status_code, shown.text[:800])
        assert shown.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in shown.headers["content-security-policy"]
        assert "<h1>" in shown.text and user in shown.text  # the signed-in user is named in the header
        if other is not None:
            _refused(browser.get(other, path), 403, "E603")


def test_no_page_carries_a_raw_identifier(web):
    browser, seeded = web
    found = {}
    for path, user, _other in pages(seeded):
        for lang in ("zh", "en"):
            leaks = _leaks(browser.get(user, f"{path}{'&' if '?' in path else '?'}lang={lang}").text)
            if leaks:
                found[f"{path} ({lang})"] = leaks
    assert not found


def test_chinese_by_default_english_on_request_and_remembered(web):
    browser, _ = web
    chinese = browser.get("provider-gongan", "/provider/tickets")
    assert (
        '<html lang="zh-CN">' in chinese.text
        and "整改工单" in chinese.text
        and "Correction tickets" not in chinese.text
    )
    english = browser.get("provider-gongan", "/provider/tickets?lang=en")
    assert (
        '<html lang="en">' in english.text
        and "Correction tickets" in english.text
        and "整改工单" not in english.text
    )
    assert "shuyu_lang=en" in english.headers["set-cookie"]
    client = browser.client
    client.cookies.set("shuyu_lang", "en")
    assert "Correction tickets" in client.get("/provider/tickets", follow_redirects=False).text
    refused = browser.get("developer-1", "/provider/tickets?lang=en")
    assert refused.status_code == 403 and "Not done" in refused.text


def test_every_label_is_in_both_languages():
    used = set()
    for path in [*HERE.rglob("*.html"), *HERE.glob("*.py")]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_][a-z0-9_.]*[a-z0-9_])["']""", source))
        used |= set(re.findall(r"""text\(lang, "([a-z_.]+)\"""", source))
    assert used and not used - set(TEXT)
    assert all(
        zh and en and zh != en or key == "common.none"
        for key, (zh, en) in TEXT.items()
        if key != "lang.switch"
    )
    dynamic = {
        f"kind.{k}" for k in ("dataset.ingest", "dev.run", "job.promote", "samples.build", "quality.run")
    }
    assert dynamic <= set(TEXT)


@pytest.mark.parametrize(
    ("labels", "refusal"),
    [
        ("a.b: [甲, A]\nc.d: [乙, B]\na.b: [丙, C]\n", "keys given twice: a.b"),
        ("a.b: [甲]\n", "a.b must be [Chinese, English]"),
        ("a.b: 甲\n", "a.b must be [Chinese, English]"),
    ],
)
def test_a_labels_file_with_a_key_twice_or_a_label_not_in_two_languages_is_refused(tmp_path, labels, refusal):
    path = tmp_path / "texts.yaml"
    path.write_text(labels, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(refusal)):
        i18n._load(path)


def test_the_stylesheet_uses_the_reports_cjk_font_stack_and_pages_load_only_this_site(web):
    browser, _ = web
    css = browser.get(None, "/static/shuyu.css")
    assert css.status_code == 200 and FONT_FAMILY in css.text
    js = browser.get(None, "/static/shuyu.js")
    assert js.status_code == 200 and "X-CSRF-Token" in js.text and "/api/v1/me/tasks/" in js.text
    page = browser.get("consumer-1", "/consumer/products/level_counts").text
    targets = re.findall(r'(?:src|href|action)="([^"]*)"', page)
    assert targets and all(t.startswith(("/", "?", "#")) and not t.startswith("//") for t in targets), targets
    assert "<script>" not in page and " style=" not in page  # nothing inline: the policy allows none


# -- forms ---------------------------------------------------------------------------------------


def test_forms_refuse_a_post_without_its_anti_forgery_token(web):
    browser, seeded = web
    path = f"/provider/tickets/{seeded.ticket}/ack"
    missing = browser.post("provider-gongan", path, {"text": "收到"})
    _refused(missing, 403, "E604")
    forged = browser.post("provider-gongan", path, {"text": "收到", "csrf_token": "0" * 64})
    _refused(forged, 403, "E604")
    other = browser.csrf("provider-canlian", "/provider")  # another session's token is no good either
    _refused(browser.post("provider-gongan", path, {"text": "收到", "csrf_token": other}), 403, "E604")
    with browser.ctx.sessions() as session:
        assert session.scalar(select(QualityTicketRow.state)) == "open"
    done = browser.post("provider-gongan", path, {"text": "收到"}, form=f"/provider/tickets/{seeded.ticket}")
    assert done.status_code == 303 and done.headers["location"] == f"/provider/tickets/{seeded.ticket}"
    for form_path, data in (("/consumer/keys", {"label": "x"}), ("/logout", {})):
        _refused(browser.post("consumer-1", form_path, data), 403, "E604")


def test_a_provider_acknowledges_then_disputes_a_ticket_with_a_reason(web):
    browser, seeded = web
    page = f"/provider/tickets/{seeded.ticket}"
    assert browser.post("provider-gongan", f"{page}/ack", {"text": ""}, form=page).status_code == 303
    empty = browser.post("provider-gongan", f"{page}/dispute", {"text": "  "}, form=page)
    assert empty.status_code == 400 and empty.headers["x-shuyu-error"]
    disputed = browser.post("provider-gongan", f"{page}/dispute", {"text": "出生日期经核实无误"}, form=page)
    assert disputed.status_code == 303
    shown = browser.get("provider-gongan", page)
    assert "异议中" in shown.text and "出生日期经核实无误" in shown.text
    assert 'id="dispute"' not in shown.text and "/fix" not in shown.text  # an operator decides it now
    _refused(browser.post("provider-canlian", f"{page}/fix", {"text": "x"}, form="/provider"), 404, "E201")


def test_an_upload_queues_the_ingest_and_its_page_follows_the_task(web):
    browser, _ = web
    token = browser.csrf("provider-gongan", "/provider/datasets/people")
    client = browser.as_("provider-gongan")
    sent = client.post("/provider/datasets/people/upload", data={"csrf_token": token},
                       files=[("files", ("people.csv", b"id_number\n", "text/csv"))], follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303 and sent.headers["location"].startswith("/tasks/")
    task = client.get(sent.headers["location"], follow_redirects=False)
    assert task.status_code == 200 and 'data-ended="no"' in task.text and "排队中" in task.text
    with browser.ctx.sessions() as session:
        row = session.scalar(select(TaskRow))
    assert (row.kind, row.state, json.loads(row.args_json)["dataset"]) == (
        "dataset.ingest",
        "queued",
        "people",
    )
    _refused(browser.get("provider-canlian", sent.headers["location"]), 403, "E600")
    token = browser.csrf("provider-canlian", "/provider")
    foreign = browser.as_("provider-canlian").post("/provider/datasets/people/upload", data={"csrf_token": token},
                                                   files=[("files", ("p.csv", b"x\n", "text/csv"))], follow_redirects=False)  # fmt: skip
    _refused(foreign, 403, "E600")


def test_a_data_use_request_is_overdue_in_red_and_answered_from_its_page(web):
    browser, _ = web
    listed = browser.get("provider-gongan", "/provider/requests")
    assert re.search(r'<tr class="overdue"><td><a href="/provider/requests/housing/people">', listed.text)
    page = "/provider/requests/housing/people"
    answered = browser.post("provider-gongan", page, {"decision": "grant", "comment": "同意"}, form=page)
    assert answered.status_code == 303
    assert "已同意" in browser.get("provider-gongan", page).text


def test_the_quality_report_draws_each_rules_pass_rate_over_versions(web):
    browser, _ = web
    page = browser.get("provider-gongan", "/provider/quality/people").text
    svg = re.search(r"<svg[^>]*class=\"chart\".*?</svg>", page, re.S).group(0)
    assert svg.count("<polyline") == 2 and ">v1<" in svg and ">v2<" in svg and "Noto Sans CJK SC" in svg
    assert "birth_date_not_null v1: 92.50%" in svg and "income_range v2: 99.00%" in svg
    _refused(browser.get("provider-canlian", "/provider/quality/people"), 403, "E600")


def test_a_developer_sees_their_scenarios_samples_and_is_refused_anothers(web):
    browser, _ = web
    card = browser.get("developer-1", "/developer/scenarios/elderly-care/samples")
    assert card.status_code == 200 and "disability" in card.text and "k = 5" in card.text
    _refused(browser.get("developer-2", "/developer/scenarios/elderly-care/samples"), 403, "E600")
    scenario = browser.get("developer-1", "/developer/scenarios/elderly-care").text
    assert "birth_date" in scenario and "（不需要，测试拒绝）" not in scenario  # approved columns only


def test_a_developer_submits_and_dev_runs_from_the_jobs_page(web):
    browser, _ = web
    files = [("files", ("job.toml", JOB_TOML.format(job_id="web_job", scenario="elderly-care").encode(), "text/plain")),
             ("files", ("job.py", JOB_PY.encode(), "text/x-python"))]  # fmt: skip
    token = browser.csrf("developer-1", "/developer/jobs")
    client = browser.as_("developer-1")
    submitted = client.post(
        "/developer/submissions", data={"csrf_token": token}, files=files, follow_redirects=False
    )
    assert submitted.status_code == 303 and submitted.headers["location"].startswith(
        "/developer/submissions/"
    )
    packet = client.get(submitted.headers["location"]).text
    assert "web_job" in packet and "def build" in packet
    run = client.post("/developer/dev-runs", data={"csrf_token": token}, files=files, follow_redirects=False)
    assert run.status_code == 303 and run.headers["location"].startswith("/tasks/")
    with browser.ctx.sessions() as session:
        assert session.scalar(select(TaskRow.kind)) == "dev.run"


def test_an_operator_reviews_the_code_its_hash_and_diff_approves_and_promotes(web):
    browser, seeded = web
    page = f"/operator/submissions/{seeded.submission}"
    shown = browser.get("operator-1", page).text
    with browser.ctx.sessions() as session:
        from sandbox.store.models import JobSubmissionRow

        waiting = session.get(JobSubmissionRow, seeded.submission)
    assert waiting.code_sha256 in shown and "def build" in shown and "job.toml" in shown
    assert 'class="code diff"' in shown and "通过，没有发现问题" in shown
    own = browser.post("developer-1", page + "/review", {"decision": "approve"}, form="/developer/jobs")
    _refused(own, 403, "E603")
    rejected_without_reason = browser.post("operator-1", page + "/review", {"decision": "reject"}, form=page)
    assert rejected_without_reason.status_code == 400
    approved = browser.post("operator-1", page + "/review", {"decision": "approve", "comment": "可以", "max_runs": "3",
                                                             "period_days": "30"}, form=page)  # fmt: skip
    assert approved.status_code == 303 and "已批准" in browser.get("operator-1", page).text
    promoted = browser.post("operator-1", page + "/promote", {}, form=page)
    assert promoted.status_code == 303 and promoted.headers["location"].startswith("/tasks/")
    task = browser.get("operator-1", promoted.headers["location"]).text
    assert 'data-task="' in task and "转入生产" in task
    with browser.ctx.sessions() as session:
        assert session.scalar(select(TaskRow.kind)) == "job.promote"


def test_the_product_registry_registers_and_amends(web):
    browser, _ = web
    page = "/operator/products/level_counts"
    changed = browser.post(
        "operator-1", f"{page}/change", {"reason": "补充说明", "description": "按残疾等级统计人数"}, form=page
    )
    assert changed.status_code == 303
    shown = browser.get("operator-1", page).text
    assert "按残疾等级统计人数" in shown and "2" in shown
    _refused(browser.post("operator-1", f"{page}/explode", {"reason": "x"}, form=page), 422, "E110")


def test_a_consumer_finds_a_product_sees_its_cells_and_downloads_it(web):
    browser, _ = web
    catalogue = browser.get("consumer-1", "/consumer").text
    assert "/consumer/products/level_counts" in catalogue and "免费" in catalogue and "有偿" in catalogue
    page = browser.get("consumer-1", "/consumer/products/level_counts").text
    assert re.search(r"<svg[^>]*class=\"chart\"", page) and page.count("<rect") == 2
    assert '<table class="cells">' in page and '<th class="num">people</th>' in page
    download = browser.get("consumer-1", "/consumer/products/level_counts/download?format=csv&version=1")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert any(name.endswith(".csv") for name in archive.namelist())
    _refused(
        browser.get("consumer-1", "/consumer/products/credit_levels"), 403, "E561"
    )  # fee-bearing, no terms


def test_api_keys_are_shown_once_and_revoked_from_the_page(web):
    browser, _ = web
    made = browser.post("consumer-1", "/consumer/keys", {"label": "报表系统"}, form="/consumer/keys")
    assert made.status_code == 201
    secret = re.search(r'<code id="new-key">(sk_[^<]+)</code>', made.text).group(1)
    listed = browser.get("consumer-1", "/consumer/keys").text
    assert "报表系统" in listed and secret not in listed
    key_id = re.search(r'action="/consumer/keys/([0-9a-f]+)/revoke"', listed).group(1)
    assert (
        browser.post("consumer-1", f"/consumer/keys/{key_id}/revoke", {}, form="/consumer/keys").status_code
        == 303
    )
    assert "已吊销" in browser.get("consumer-1", "/consumer/keys").text


def test_the_auditor_filters_verifies_and_reads_the_disclosure(web):
    browser, _ = web
    filtered = browser.get("auditor-1", "/auditor?action=quality_ticket&limit=5").text
    assert "quality_ticket.raise" in filtered and "job.submit" not in filtered
    verified = browser.get("auditor-1", "/auditor/verify").text
    assert 'data-verified="ok"' in verified
    report = browser.get("auditor-1", "/auditor/disclosure").text
    assert "level_counts" in report and "养老与残疾人服务场景" in report


def test_a_task_page_is_its_requesters_and_the_operators(web):
    browser, seeded = web
    promoted = browser.post("operator-1", f"/operator/submissions/{seeded.approved}/promote", {},
                            form=f"/operator/submissions/{seeded.approved}")  # fmt: skip
    task = promoted.headers["location"]
    assert browser.get("operator-2", task).status_code == 200
    _refused(browser.get("developer-1", task), 403, "E600")
    _refused(browser.get("consumer-1", "/tasks/nothing-here"), 404, "E201")


def test_a_finished_task_shows_the_dev_runs_advisory_and_a_failed_runs_type_and_line_only(web):
    from sandbox.tasks import queue

    browser, _ = web
    ctx = browser.ctx
    dev = queue.enqueue(ctx, principal_for(ctx, "developer-1"), "dev.run", {"upload": "gone"})
    assert queue.claim(ctx, "test").id == dev.id  # as a worker would, without running it
    advice = {"by_level": {"released": 3, "suppressed": 2, "suppressed_by_reason": {"threshold": 2}}}
    queue.finish(ctx, dev.id, ok=True, result={
        "job": {"ok": True, "phase": None, "error_type": None, "error_line": None, "message": None, "findings": [],
                "reason": None, "traceback": None},
        "seconds": 4.2, "frames": {"by_level": {"rows": 8, "columns": ["id_number", "level"], "preview": []}},
        "gate": {"outputs": advice},
    })  # fmt: skip
    shown = browser.get("developer-1", f"/tasks/{dev.id}").text
    assert 'data-ended="yes"' in shown and "门控建议结论" in shown and "主体数不足 2" in shown
    assert re.search(r"<td>3</td><td>2</td>", shown)
    run = queue.enqueue(ctx, principal_for(ctx, "operator-1"), "job.promote", {"submission": "x"})
    assert queue.claim(ctx, "test").id == run.id
    queue.finish(ctx, run.id, ok=False, result={
        "run": "r1", "submission": "x", "state": "failed", "started_at": None, "finished_at": None, "timings": {},
        "phase": "build", "error_type": "ZeroDivisionError", "error_line": 3, "message": "division by zero",
        "findings": [], "reason": None, "gate": None,
    })  # fmt: skip
    failed = browser.get("operator-1", f"/tasks/{run.id}?lang=en").text
    assert "<code>ZeroDivisionError</code> · line 3" in failed and "Traceback" not in failed
    assert "failed" in failed and 'data-ended="yes"' in failed


def test_gate_reports_show_each_runs_released_and_suppressed_cells_by_rule(web):
    browser, _ = web
    page = browser.get("operator-1", "/operator/runs").text
    assert "主体数不足 1" in page and re.search(r"<td>2</td><td>1</td>", page)
    assert "Cells suppressed" in browser.get("admin", "/operator/runs?lang=en").text
