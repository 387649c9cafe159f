"""The disclosure report (信息披露): data usage from the released lineage, valid Markdown tables."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from sandbox.domain.errors import PermissionDenied
from sandbox.governance import authorizations, disclosure
from sandbox.products import registry
from sandbox.quality.scorecard import build_scorecard

from ..products.conftest import approved_job, live_cast, released_product

TODAY = date(2026, 11, 30)


@pytest.fixture
def live(ctx):
    return live_cast(ctx)


def _section(markdown: str, heading: str) -> list[str]:
    """The table rows (header and separator included) under the ``##`` heading that starts with ``heading``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line.startswith("|")]


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_data_usage_lists_only_what_released_versions_read(live, tmp_path):
    """The scenario was granted ``people`` and ``disability``; its one released product read ``disability`` only."""
    approved_job(live, "planned_only")
    registry.register(live.ctx, live("operator-1"), product_id="planned_only", title="仅登记的产品",
                      scenario_id="elderly-care", description="尚无发布")  # fmt: skip
    released_product(live, "disability_levels", dataset_version=3)
    json_path, md_path = disclosure.disclose(live.ctx, live("operator-1"), tmp_path / "out")
    report = json.loads(json_path.read_text(encoding="utf-8"))

    (auth,) = report["authorizations"]
    assert auth["object"] == "云泽数据运营有限公司"
    assert auth["period"] == {"starts_on": "2026-01-01", "ends_on": "2030-12-31"}
    assert {s["dataset"] for s in auth["scope"]} == {"people", "disability"}
    assert report["data_usage"] == [
        {
            "dataset": "disability",
            "title": "残疾人信息数据",
            "provider": "市残联",
            "products": ["disability_levels"],
            "reads": [{"product": "disability_levels", "version": 1, "dataset_version": 3}],
        }
    ]
    products = {p["id"]: p for p in report["products"]}
    assert products["planned_only"]["released"] is False
    assert (products["planned_only"]["versions"], products["planned_only"]["datasets"]) == ([], [])
    assert products["disability_levels"]["released"] is True
    assert (products["disability_levels"]["versions"], products["disability_levels"]["datasets"]) == (
        [1],
        ["disability"],
    )
    assert products["disability_levels"]["charging"] == "免费"

    markdown = md_path.read_text(encoding="utf-8")
    rows = {_cells(r)[0]: _cells(r) for r in _section(markdown, "二、")[2:]}
    assert {r[-1] for r in rows.values()} == {"未发布 / not released", "已发布 v1 / released v1"}
    (usage,) = _section(markdown, "三、")[2:]
    assert _cells(usage) == [
        "残疾人信息数据（disability）",
        "市残联",
        "disability_levels",
        "disability_levels v1（v3）",
    ]
    with pytest.raises(PermissionDenied):
        disclosure.disclose(live.ctx, live("consumer-1"), tmp_path / "no")


def test_provider_scorecard_counts_the_same_lineage(live):
    """The scorecard's products and releases per dataset come from what releases read, as in the disclosure."""
    released_product(live, "disability_levels")
    people = next(
        u for u in build_scorecard(live.ctx, "gongan", today=TODAY).usage if u.dataset_id == "people"
    )
    disability = build_scorecard(live.ctx, "canlian", today=TODAY).usage[0]
    assert (people.scenarios, people.products, people.releases) == (1, [], 0)
    assert (disability.scenarios, disability.products, disability.releases) == (1, ["disability_levels"], 1)


def test_markdown_tables_keep_their_columns_whatever_the_free_text(live, tmp_path):
    authorizations.grant(live.ctx, live("admin"), operator_org="op-org", datasets=["people"],
                         starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), content="统计|分析\n第二行")  # fmt: skip
    released_product(live, "disability_levels")
    registry.correct(
        live.ctx, live("operator-1"), "disability_levels", "标题含竖线", title="等级 | 分布\n（试）"
    )
    _, md_path = disclosure.disclose(live.ctx, live("admin"), tmp_path / "out")
    markdown = md_path.read_text(encoding="utf-8")
    for heading, rows in [("一、", 2), ("二、", 1), ("三、", 1)]:
        table = _section(markdown, heading)
        assert len(table) == 2 + rows
        assert {len(_cells(line)) for line in table} == {len(_cells(table[0]))}
    assert "统计\\|分析 第二行" in markdown and "等级 \\| 分布 （试）" in markdown
