"""The web UI in a real browser: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, against
a real uvicorn on 127.0.0.1 over a copy of the seeded home (``web_home.seed_web_home``: no Spark, no Ray).

One headless Chromium for the module. Every request that is not for this server is blocked and
recorded, so a page that tried to load anything from elsewhere fails here even offline; a script
error fails too. Each flow runs at 1280 px and on a 390 px phone; the screenshots are kept in the
test's temporary directory and, when ``SHUYU_ARTIFACTS`` is set, copied there.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from sandbox.api.app import create_app
from sandbox.governance.access import principal_for
from sandbox.quality import tickets
from sandbox.quality.pages import CJK_FONTS
from sandbox.store.models import QualityTicketRow, TaskRow
from tests.quality.test_report_rendering import ARGS, CHROMIUM, _chinese_renders

from .test_boundary import _leaks
from .test_web import PASSWORD
from .web_home import copied

pytestmark = pytest.mark.slow
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def home(web_template, tmp_path_factory):
    ctx = copied(web_template, tmp_path_factory.mktemp("web-home") / "home")
    yield ctx, web_template.seeded
    ctx.engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(home):
    """``create_app`` served by uvicorn in a thread, as ``sandbox serve`` serves it."""
    import uvicorn

    ctx, _ = home
    port = _free_port()
    served = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


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
    """Where screenshots go; copied to ``$SHUYU_ARTIFACTS/<test>/`` after the test when that is set."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    target = os.environ.get("SHUYU_ARTIFACTS")
    if target:
        shutil.copytree(folder, Path(target) / request.node.name, dirs_exist_ok=True)


class Session:
    """One user's browser context: only this server is reachable; blocked requests and script errors kept."""

    def __init__(self, browser, base: str, viewport: str) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport=VIEWPORTS[viewport], accept_downloads=True, locale="zh-CN"
        )
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_here)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and "403" not in m.text
                     and "404" not in m.text else None)  # fmt: skip

    def _only_here(self, route) -> None:
        if route.request.url.startswith((self.base + "/", "data:")):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def sign_in(self, user: str, then: str | None = None) -> None:
        page = self.page
        page.goto(self.base + (then or "/"))
        assert "/login" in page.url
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")
        assert "/login" not in page.url, page.content()[:500]

    def shot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def clean(self) -> None:
        """Nothing fetched from elsewhere, no script error, no raw identifier on the page now shown."""
        assert self.blocked == [] and self.errors == [], (self.blocked, self.errors)
        assert _leaks(self.page.content()) == []

    def fits(self) -> bool:
        """The page is no wider than the window: wide tables scroll inside their own box."""
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_session(browser, server):
    opened: list[Session] = []

    def make(viewport: str = "desktop") -> Session:
        opened.append(Session(browser, server, viewport))
        return opened[-1]

    yield make
    for session in opened:
        session.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_provider_signs_in_opens_a_ticket_and_disputes_it(home, open_session, shots, viewport):
    ctx, _ = home
    raised = tickets.raise_request(ctx, principal_for(ctx, "operator-1"), "people", f"区县代码待核实（{viewport}）",
                                   column="district_code")  # fmt: skip
    label = tickets.ticket_view(raised)["ticket"]
    you = open_session(viewport)
    you.sign_in("provider-gongan")
    page = you.page
    you.shot(shots, f"{viewport}-1-provider-datasets")
    page.click("nav.menu a[href='/provider/tickets']")
    page.wait_for_url("**/provider/tickets")
    assert page.locator("h1").inner_text() == "整改工单"
    you.shot(shots, f"{viewport}-2-ticket-inbox")
    page.click(f"a[href='/provider/tickets/{label}']")
    page.wait_for_url(f"**/provider/tickets/{label}")
    you.clean()
    if viewport == "desktop":
        page.fill("form[action$='/ack'] textarea[name=text]", "已收到，正在核实")
        with page.expect_navigation():
            page.click("form[action$='/ack'] button[type=submit]")
    reason = f"出生日期经户籍档案核实无误（{viewport}）"
    page.fill("#dispute textarea[name=text]", reason)
    you.shot(shots, f"{viewport}-3-ticket-dispute-form")
    with page.expect_navigation():
        page.click("#dispute button[type=submit]")
    assert "异议中" in page.locator("h1").inner_text() and reason in page.content()
    assert page.locator("#dispute").count() == 0  # an operator decides it now
    assert you.fits()
    you.shot(shots, f"{viewport}-4-ticket-disputed")
    you.clean()
    with ctx.sessions() as session:
        ticket = session.get(QualityTicketRow, raised.id)
        assert (ticket.state, ticket.note) == ("disputed", reason)


def test_a_developer_is_refused_another_scenarios_samples(open_session, shots):
    you = open_session()
    you.sign_in("developer-2", then="/developer/scenarios/elderly-care/samples")
    page = you.page
    assert page.url.endswith("/developer/scenarios/elderly-care/samples")
    assert page.locator("section.error").get_attribute("data-code") == "E600"
    assert "不是场景 elderly-care 的开发人员" in page.content()
    shown = page.goto(page.url)
    assert shown.status == 403 and shown.headers["x-shuyu-error"] == "E600"
    you.shot(shots, "developer-2-refused-samples")
    you.clean()
    page.goto(you.base + "/developer/scenarios/elderly-care")
    assert "您不是该场景的开发人员" in page.content()
    member = open_session("phone")
    member.sign_in("developer-1", then="/developer/scenarios/elderly-care/samples")
    assert member.page.locator("h1").inner_text().startswith("样例卡")
    member.shot(shots, "developer-1-sample-card-phone")
    assert member.fits()
    member.clean()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_consumer_finds_a_product_and_downloads_it(open_session, shots, viewport, tmp_path):
    you = open_session(viewport)
    you.sign_in("consumer-1")
    page = you.page
    assert page.url.endswith("/consumer")
    you.shot(shots, f"{viewport}-1-catalogue")
    page.click("a[href='/consumer/products/level_counts']")
    page.wait_for_url("**/consumer/products/level_counts")
    assert page.locator("svg.chart rect").count() == 2
    assert page.locator("table.cells tbody tr").count() == 2
    assert you.fits()
    you.shot(shots, f"{viewport}-2-product")
    with page.expect_download() as download:
        page.click("a.button[href*='format=csv']")
    saved = tmp_path / "download.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
        tables = [n for n in archive.namelist() if n.endswith(".csv")]
        assert tables and "people" in archive.read(tables[0]).decode("utf-8-sig")
    you.clean()
    refused = page.goto(you.base + "/consumer/products/credit_levels")
    assert refused.status == 403 and refused.headers["x-shuyu-error"] == "E561"
    if viewport == "desktop":
        _queries_it_with_an_api_key(you, shots)


def _queries_it_with_an_api_key(you: Session, shots: Path) -> None:
    """The consumer's system: an API key made on the keys page (shown once), then the metered query API."""
    page = you.page
    page.goto(you.base + "/consumer/keys")
    page.fill("form[action='/consumer/keys'] input[name=label]", "reporting system")
    with page.expect_navigation():
        page.click("form[action='/consumer/keys'] button[type=submit]")
    secret = page.locator("#new-key").inner_text().strip()
    assert secret.startswith("sk_")
    you.shot(shots, "desktop-3-api-key")
    answer = httpx.get(f"{you.base}/api/v1/delivery/products/level_counts/query", params={"format": "json"},
                       headers={"X-API-Key": secret}, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    shown = page.context.request.get(f"{you.base}/consumer/products/level_counts")
    assert answer.headers["X-Total-Count"] == "2" and shown.ok
    page.goto(you.base + "/consumer/keys")
    assert page.locator("text=reporting system").count() == 1 and secret not in page.content()  # shown once
    assert _leaks(answer.text) == []


def test_an_upload_shows_its_progress_and_the_task_page_follows_it_to_the_end(
    home, open_session, shots, tmp_path
):
    from sandbox.tasks.worker import run_worker

    ctx, _ = home
    you = open_session()
    you.sign_in("provider-gongan", then="/provider/datasets/people")
    page = you.page
    delivery = tmp_path / "people.csv"
    delivery.write_text(
        "id_number,name,gender,birth_date,district_code,income,updated_at\n", encoding="utf-8"
    )
    page.set_input_files("input[type=file][name=files]", str(delivery))
    page.click("form[data-progress] button[type=submit]")
    page.wait_for_url("**/tasks/*")
    assert page.locator("[data-task]").get_attribute("data-ended") == "no"
    you.shot(shots, "upload-1-queued")
    with ctx.sessions() as session:
        task = session.scalar(select(TaskRow).where(TaskRow.kind == "dataset.ingest"))
    assert json.loads(task.args_json)["dataset"] == "people"
    run_worker(ctx, threading.Event(), until_idle=True)  # the ingest of a small CSV needs no Spark
    page.wait_for_selector("[data-task][data-ended='yes']", timeout=15_000)  # the page polled and reloaded
    you.shot(shots, "upload-2-ended")
    assert page.locator(".state").first.inner_text() in ("已完成", "未完成")
    you.clean()


def test_every_page_fits_a_phone_loads_only_this_site_and_draws_chinese_in_a_cjk_face(
    home, open_session, shots
):
    _, seeded = home
    tours = {
        "provider-gongan": [
            "/provider",
            "/provider/requests",
            "/provider/quality/people",
            "/provider/scorecard",
        ],
        "operator-1": [
            "/operator",
            f"/operator/submissions/{seeded.submission}",
            "/operator/runs",
            "/operator/products",
        ],
        "auditor-1": ["/auditor", "/auditor/disclosure"],
        "consumer-1": ["/consumer/keys"],
        "developer-1": ["/developer", "/developer/jobs"],
    }
    for user, paths in tours.items():
        for viewport in VIEWPORTS:
            you = open_session(viewport)
            you.sign_in(user)
            for path in paths:
                answer = you.page.goto(you.base + path)
                assert answer.status == 200, (user, path)
                assert you.fits(), (user, path, viewport)
                you.shot(shots, f"{viewport}-{user}-{path.strip('/').replace('/', '-')}")
                you.clean()
            if viewport == "phone" and user == "provider-gongan":
                faces, distinct, drawn = _chinese_renders(you.page)
                assert faces and faces <= set(CJK_FONTS), faces
                assert distinct == drawn >= 3
            you.close()
