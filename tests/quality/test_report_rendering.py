"""The pages a provider opens, in a real browser: nothing fetched from outside, no private path, the
tickets named, and Chinese drawn in a real CJK face, not tofu.

Debian's Chromium (``/usr/bin/chromium``) driven by Playwright; the test never downloads a browser.
Every request that is not for a local file is blocked and recorded, so a page that tries to load
anything from outside fails here even when the machine is offline. The glyph check draws distinct
Chinese characters of the page's own text in the page's own font stack and requires different
images and a face from that stack; on a machine without a CJK font every character is the same
box, and the last test shows the check then fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sandbox.domain.quality import OPEN_STATES, TicketState, ticket_label
from sandbox.governance.access import principal_for
from sandbox.quality.pages import CJK_FONTS
from sandbox.quality.runner import run_quality
from sandbox.quality.tickets import list_tickets
from tests.conftest import make_context
from tests.quality.conftest import deliver
from tests.quality.test_pages import OUTSIDE

pytestmark = pytest.mark.slow
DATASET = "elderly_care_institutions"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

#: Marks the first visible element whose own text has three distinct Chinese characters; returns them.
_PROBE = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const chars = [...new Set(node.data.match(/[\\u4e00-\\u9fff]/g) || [])];
    const element = node.parentElement;
    if (chars.length < 3 || !element.getClientRects().length) continue;
    const glyph = document.createElement('span');
    glyph.id = 'cjk-glyph';
    glyph.style.cssText = 'position:fixed;left:0;top:0;z-index:2147483647;font-size:40px;line-height:1;'
      + 'background:#fff;color:#000;padding:2px;font-family:' + getComputedStyle(element).fontFamily;
    document.body.appendChild(glyph);
    return chars.slice(0, 4);
  }
  return null;
}"""


@pytest.fixture(scope="module")
def home(county, spark, tmp_path_factory):
    """One provider's run: its reports and Data Docs, as the platform writes them."""
    ctx = make_context(tmp_path_factory.mktemp("rendering-home"))
    deliver(ctx, county, [DATASET])
    run_quality(ctx, principal_for(ctx, "operator-1"), DATASET)
    yield ctx
    ctx.engine.dispose()


def _pages(ctx) -> list[Path]:
    pages = sorted((ctx.settings.home_dir / "tickets").rglob("*.html"))
    assert {p.name for p in pages} >= {f"{DATASET}.html", "index.html"} and any(
        "validations" in p.parts for p in pages
    )
    return pages


def _launch(playwright, env: dict[str, str] | None = None):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: the Makefile's setup installs it (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS, env=env)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = _launch(playwright)
    yield chromium
    chromium.close()


def _open(browser, page_path: Path):
    """The page loaded with every request but local files blocked; (page, blocked requests, script errors)."""
    page = browser.new_page()
    blocked, errors = [], []

    def only_files(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else blocked.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri(), wait_until="load")
    return page, blocked, errors


def _chinese_renders(page) -> tuple[set[str], int, int]:
    """(faces that drew the page's Chinese, distinct glyph images, characters drawn)."""
    chars = page.evaluate(_PROBE)
    assert chars, "no Chinese text on the page"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    glyph = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#cjk-glyph"})["nodeId"]
    faces, images = set(), set()
    for char in chars:
        page.evaluate("c => { document.getElementById('cjk-glyph').textContent = c; }", char)
        images.add(page.locator("#cjk-glyph").screenshot())
        faces |= {
            f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": glyph})["fonts"]
        }
    return faces, len(images), len(chars)


def test_no_page_refers_outside_or_prints_a_private_path(home):
    private = [str(home.settings.home_dir), str(home.settings.raw_dir)]
    for page in _pages(home):
        text = page.read_text(encoding="utf-8")
        assert not OUTSIDE.findall(text), (page, OUTSIDE.findall(text)[:3])
        assert not [p for p in private if p in text], page


def test_reports_name_their_tickets(home):
    operator = principal_for(home, "operator-1")
    tickets = list_tickets(home, operator, dataset_id=DATASET)
    assert tickets and all(TicketState(t.state) in OPEN_STATES for t in tickets)
    reports = home.settings.home_dir / "tickets" / "minzheng" / "reports"
    dataset_page = (reports / f"{DATASET}.html").read_text(encoding="utf-8")
    index = (reports / "index.html").read_text(encoding="utf-8")
    for ticket in tickets:
        label = ticket_label(ticket.id)
        assert label in dataset_page and label in index
        on_its_rule = rf"<td>{re.escape(ticket.rule_id)}</td>(?:<td>[^<]*</td>){{8}}<td>{label}</td>"
        assert re.search(on_its_rule, dataset_page)  # the rules table names each rule's ticket


def test_pages_load_nothing_from_outside_and_draw_chinese_in_a_cjk_face(home, browser):
    for path in _pages(home):
        page, blocked, errors = _open(browser, path)
        assert blocked == [] and errors == [], (path, blocked, errors)
        faces, distinct, drawn = _chinese_renders(page)
        assert faces and faces <= set(CJK_FONTS), (path, faces)
        assert distinct == drawn >= 3, path
        page.close()


def test_without_a_cjk_font_the_check_fails(home, playwright, tmp_path):
    """The same check under a fontconfig that knows Latin faces only: every character is the same box."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    latin_only = _launch(playwright, env={**os.environ, "FONTCONFIG_FILE": str(config)})
    try:
        page, _, _ = _open(
            latin_only, home.settings.home_dir / "tickets" / "minzheng" / "reports" / f"{DATASET}.html"
        )
        faces, distinct, drawn = _chinese_renders(page)
    finally:
        latin_only.close()
    assert not faces & set(CJK_FONTS) and distinct == 1 < drawn
