"""Through every CLI command, provider A's user cannot read provider B's tickets, keys, reports or scorecard."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sandbox.catalog.service import read_catalog_file
from sandbox.cli import app
from sandbox.demo.scenarios import ENTERPRISE_CREDIT, authorize_operator, take_to_active
from sandbox.domain.quality import ticket_label
from sandbox.governance.access import principal_for
from sandbox.quality.failing_keys import KeysRef, read_keys
from sandbox.quality.tickets import list_tickets
from tests.quality.conftest import county_as_of, deliver

pytestmark = pytest.mark.slow
A, B = "provider-scjg", "provider-fagai"  # 市场监管局 owns enterprises, 发改局 admin_penalties


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def home(sqlite_ctx, county, spark, monkeypatch):
    ctx = sqlite_ctx
    monkeypatch.setenv("SANDBOX_HOME", str(ctx.settings.home_dir))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.delenv("SANDBOX_USER", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    deliver(ctx, county, ["hukou_population", "enterprises", "admin_penalties"])
    catalog = read_catalog_file(county / "catalog.yaml").catalog
    authorize_operator(ctx, catalog)
    take_to_active(ctx, catalog, ENTERPRISE_CREDIT)
    checked = run(
        "--as",
        "operator-1",
        "quality",
        "run",
        "enterprises",
        "admin_penalties",
        "--as-of",
        county_as_of(county).isoformat(),
    )
    assert checked.exit_code == 0, checked.output
    return ctx


def _refused(result) -> bool:
    return result.exit_code == 2 and ("错误 E" in result.output or "error E" in result.output)


def test_provider_a_cannot_reach_provider_b_through_any_command(home, tmp_path):
    ctx = home
    theirs = list_tickets(ctx, principal_for(ctx, B))
    mine = list_tickets(ctx, principal_for(ctx, A))
    assert theirs and mine and {t.provider_id for t in theirs} == {"fagai"}
    their_keys = {
        str(v)
        for t in theirs
        if t.keys_path
        for row in read_keys(KeysRef(ctx.settings.home_dir / t.keys_path, t.rule_id))
        for v in row.values()
    }
    target = ticket_label(theirs[0].id)
    outputs = []

    def as_a(*args: str):
        result = run("--as", A, *args)
        outputs.append(result.output)
        return result

    listing = as_a("ticket", "list")
    assert (
        listing.exit_code == 0 and "enterprises" in listing.output and "admin_penalties" not in listing.output
    )
    assert "admin_penalties" not in as_a("ticket", "list", "--provider", "fagai").output
    assert "admin_penalties" not in as_a("ticket", "list", "--dataset", "admin_penalties").output
    for command in (
        ("ticket", "show", target),
        ("ticket", "ack", target),
        ("ticket", "fix", target, "--note", "改了"),
        ("ticket", "dispute", target, "--reason", "不是我们的"),
        ("ticket", "decide", target, "--uphold", "--comment", "自己说了算"),
        ("ticket", "verify", target),
        ("ticket", "reopen", target),
        ("ticket", "export", str(tmp_path / "theirs.csv"), target),
        ("quality", "report", "admin_penalties"),
        ("quality", "report", "--provider", "fagai"),
        ("quality", "scorecard", "fagai"),
        ("quality", "run", "admin_penalties"),
        ("quality", "webhook", "fagai", "http://127.0.0.1:9/hook"),
    ):
        assert _refused(as_a(*command)), command
    assert not (tmp_path / "theirs.csv").exists()

    exported = as_a("ticket", "export", str(tmp_path / "mine.csv"))
    assert exported.exit_code == 0
    with (tmp_path / "mine.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {r["数据集 dataset"] for r in rows} == {"enterprises"}
    as_a("ticket", "export", str(tmp_path / "mine.xlsx"))
    sheets = load_workbook(tmp_path / "mine.xlsx")
    assert {row[1] for row in sheets["不合格键 keys"].iter_rows(min_row=2, values_only=True)} == {
        "enterprises"
    }
    assert as_a("quality", "scorecard").exit_code == 0
    assert as_a("quality", "report", "enterprises").exit_code == 0
    assert as_a("ticket", "show", ticket_label(mine[0].id)).exit_code == 0

    seen = "\n".join(outputs) + (tmp_path / "mine.csv").read_text(encoding="utf-8-sig")
    assert not [k for k in their_keys if k in seen]  # not one of B's keys in anything A got back


@pytest.mark.usefixtures("home")
def test_operators_see_all_and_developers_raise_requests():
    listing = run("--as", "operator-1", "ticket", "list")
    assert "enterprises" in listing.output and "admin_penalties" in listing.output
    raised = run(
        "--as",
        "developer-1",
        "ticket",
        "raise",
        "enterprises",
        "--description",
        "行业门类与经营范围不符",
        "--column",
        "industry_code",
    )
    assert raised.exit_code == 0, raised.output
    own = run("--as", "developer-1", "ticket", "list")
    assert "manual" in own.output and "key_unique" not in own.output  # developers see their own requests only
    refused = run(
        "--as", "developer-1", "ticket", "raise", "hukou_population", "--description", "与我无关的数据集"
    )
    assert _refused(refused)
    card = run("--as", A, "quality", "scorecard")
    assert card.exit_code == 0 and "enterprise-credit" not in card.output and "enterprises" in card.output
