"""Listings in a pipe at 80 columns: nothing a user must type is cut, wide ones become blocks, JSON and CSV
are the stored values."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rich.console import Console

from sandbox.cli.output import Col, Format, Section, emit, emit_show
from sandbox.domain.labels import label_of
from sandbox.domain.scenario import ScenarioState

LONG_ID = "elderly_care_hotspots_for_the_whole_city_and_its_counties_v2"  # 60 characters
COLUMNS = [
    Col("scenario", "场景", "scenario", ident=True),
    Col("title", "名称", "title"),
    Col("state", "状态", "state", show=lambda v: label_of(ScenarioState, v)),
    Col("created_at", "时间", "time", time=True),
]
ROWS = [
    {"scenario": "elderly-care", "title": "养老服务需求热点区域分析", "state": "active",
     "created_at": "2026-12-04T20:45:50.000000Z"},
    {"scenario": LONG_ID, "title": "一个很长的标题，" * 6, "state": "partial_unknown", "created_at": None},
]  # fmt: skip


def _render(rows, width=80) -> str:
    out = io.StringIO()
    emit(Console(file=out, width=width), "场景 / scenarios", COLUMNS, rows)
    return out.getvalue()


def test_a_narrow_listing_is_a_table_with_labels_and_local_time():
    text = _render(ROWS[:1])
    assert "┃" in text or "│" in text
    assert "已启用 active" in text
    assert "2026-12-05 04:45:50" in text  # Asia/Shanghai
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_long_identifier_is_never_cut_or_split_at_80_columns():
    text = _render(ROWS)
    assert "— 1 —" in text  # too wide for a table at 80 columns: one block per record
    assert any(line.endswith(f"  {LONG_ID}") for line in text.splitlines())  # whole, on one line
    assert "…" not in text
    assert "一个很长的标题，" * 6 in text


def test_json_and_csv_carry_stored_values_for_scripts(capsys):
    emit(Console(), "t", COLUMNS, ROWS, Format.JSON)
    data = json.loads(capsys.readouterr().out)
    assert data[0] == {"scenario": "elderly-care", "title": "养老服务需求热点区域分析", "state": "active",
                       "created_at": "2026-12-05T04:45:50+08:00"}  # fmt: skip
    emit(Console(), "t", COLUMNS, ROWS, Format.CSV)
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["scenario"] for r in parsed] == ["elderly-care", LONG_ID]
    assert parsed[1]["created_at"] == ""


def test_a_show_nests_its_sections_in_json(capsys):
    section = Section(
        "consents", "申请", [Col("dataset", "数据集", "dataset", ident=True)], [{"dataset": "people"}]
    )
    emit_show(Console(), "x", [(COLUMNS[0], "elderly-care")], [section], Format.JSON)
    assert json.loads(capsys.readouterr().out) == {
        "scenario": "elderly-care",
        "consents": [{"dataset": "people"}],
    }


@pytest.mark.parametrize("width", [60, 80, 200])
def test_every_cell_survives_any_width(width):
    text = _render(ROWS, width)
    for cell in ("elderly-care", LONG_ID, "养老服务需求热点区域分析", "partial_unknown"):
        assert cell in text.replace("\n", "") or cell in text
