"""The operator's web flow on the demo home, in a real browser against ``sandbox serve`` (a real process,
with its task worker): a developer submits a changed job through the jobs page; an operator opens it in
the review queue, reads its code, hash, static check and the diff against the approved job, approves
it with a comment, promotes it, and watches the promotion's task page follow the run (Spark, the
isolated job process, the gate) to its end.

Debian's Chromium driven by Playwright (``tests/sandbox/api/test_browser.py``'s session: only the
server is reachable, script errors fail, no raw identifier on any page). Screenshots are kept in the
test's temporary directory and copied to ``$SHUYU_ARTIFACTS`` when that is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.governance import passwords
from sandbox.governance.access import principal_for
from sandbox.settings import Settings
from sandbox.store.models import JobRunRow, JobSubmissionRow
from tests.quality.test_report_rendering import ARGS, CHROMIUM
from tests.sandbox.api.test_browser import Session, _free_port
from tests.sandbox.api.test_web import PASSWORD

from .conftest import REPO, engine_noise, user_env

pytestmark = pytest.mark.slow
JOB = "elderly_care_hotspots"
PROMOTION_TIMEOUT_MS = 15 * 60 * 1000


@pytest.fixture(scope="module")
def served(demo, tmp_path_factory):
    """``sandbox serve`` (API, pages and the worker) on the demo home, with web passwords for the cast."""
    env = user_env(demo.home)
    ctx = PlatformContext(Settings(home=demo.home, database_url=None))
    admin = principal_for(ctx, "admin")
    for user in ("developer-1", "operator-2"):
        passwords.set_password(ctx, admin, user, PASSWORD)
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port", str(port)], env=env,
                                  cwd=REPO, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            assert server.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "sandbox serve did not start"
            time.sleep(0.3)
    yield ctx, base
    server.terminate()
    server.wait(timeout=60)
    assert engine_noise(log.read_text(encoding="utf-8")) == []  # Spark's lines go to the home's logs
    ctx.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: the Makefile's setup installs it (apt-get install -y chromium)")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path, request):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    target = os.environ.get("SHUYU_ARTIFACTS")
    if target:
        shutil.copytree(folder, Path(target) / request.node.name, dirs_exist_ok=True)


def _changed_job(tmp_path: Path) -> list[Path]:
    """The demo's job with one more comment line: a resubmission whose diff the reviewer reads."""
    folder = tmp_path / JOB
    shutil.copytree(REPO / "jobs" / JOB, folder)
    entry = folder / "job.py"
    entry.write_text("# 复核：按区县汇总口径不变\n" + entry.read_text(encoding="utf-8"), encoding="utf-8")
    return sorted(p for p in folder.iterdir() if p.is_file())


def test_an_operator_reviews_the_diff_approves_promotes_and_watches_it_run(served, browser, shots, tmp_path):
    ctx, base = served
    developer = Session(browser, base, "desktop")
    developer.sign_in("developer-1", then="/developer/jobs")
    page = developer.page
    page.set_input_files(
        "form[action='/developer/submissions'] input[type=file]", [str(p) for p in _changed_job(tmp_path)]
    )
    page.click("form[action='/developer/submissions'] button[type=submit]")
    page.wait_for_url("**/developer/submissions/*")
    submission_id = page.url.rsplit("/", 1)[1]
    developer.shot(shots, "1-developer-submitted")
    developer.clean()
    developer.close()
    with ctx.sessions() as session:
        submitted = session.get(JobSubmissionRow, submission_id)
    assert (submitted.job_id, submitted.state) == (JOB, "submitted")

    you = Session(browser, base, "desktop")
    you.sign_in("operator-2")
    page = you.page
    assert page.url.endswith("/operator")
    page.click(f"a[href='/operator/submissions/{submission_id}']")
    page.wait_for_url(f"**/operator/submissions/{submission_id}")
    assert submitted.code_sha256 in page.content()
    assert page.locator("pre.diff .add").filter(has_text="复核：按区县汇总口径不变").count() == 1
    assert "通过，没有发现问题" in page.content()
    you.shot(shots, "2-review-packet")
    you.clean()
    page.fill("#review textarea[name=comment]", "仅增加注释，口径不变")
    with page.expect_navigation():
        page.click("#review button[value=approve]")
    assert "已批准" in page.locator("dl.facts").inner_text()
    page.on("dialog", lambda dialog: dialog.accept())  # the promote button asks first
    page.click(f"form[action='/operator/submissions/{submission_id}/promote'] button")
    page.wait_for_url("**/tasks/*")
    assert page.locator("[data-task]").get_attribute("data-ended") == "no"
    you.shot(shots, "3-promotion-queued")
    stages, rows = set(), set()
    deadline = time.monotonic() + PROMOTION_TIMEOUT_MS / 1000
    while True:  # the page polls the task and reloads itself when the task has ended
        assert time.monotonic() < deadline, f"the promotion did not end; stages seen: {stages}"
        try:
            if page.locator("[data-task][data-ended='yes']").count():
                break
            stages.add(page.locator("[data-field=stage]").inner_text(timeout=2000))
            rows.add(page.locator("[data-field=rows]").inner_text(timeout=2000))
        except PlaywrightError:  # caught mid-reload
            pass
        page.wait_for_timeout(1000)
    stages.discard("—")
    assert stages, "the task page never showed a stage while the promotion ran"
    rows.discard("—")  # the job's stage names the raw rows it runs on (the demo's inputs, thousands)
    assert all(int(r.replace(",", "")) > 1000 for r in rows), rows
    you.shot(shots, "4-promotion-ended")
    assert page.locator("table.gate tbody tr").count() >= 1
    you.clean()
    with ctx.sessions() as session:
        run = session.scalars(select(JobRunRow).where(JobRunRow.submission_id == submission_id)).one()
    assert run.state in ("released", "withheld"), run.state
    assert ("已发布" if run.state == "released" else "未发布") in page.content()
    page.goto(base + "/operator/runs")
    assert run.id in page.content()
    you.shot(shots, "5-gate-reports")
    you.clean()
    you.close()
