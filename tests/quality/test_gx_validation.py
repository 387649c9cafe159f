"""GX's verdict from a tally: the stored suite, and the Data Docs wording of Shuyu's own expectations."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sandbox.catalog.service import read_catalog_file
from sandbox.domain.quality import Check, Tally
from sandbox.quality.checks import RunParameters
from sandbox.quality.expectations import expectation_for
from sandbox.quality.gx_validation import GxWorkspace, counts_by_rule
from sandbox.quality.suites import bundled_suite_dirs, read_suite

DATASET = "hukou_population"


@pytest.fixture(scope="module")
def hukou(county):
    catalog = read_catalog_file(county / "catalog.yaml").catalog
    dataset = next(d for d in catalog.datasets if d.id == DATASET)
    code_tables = {k: tuple(v) for k, v in catalog.code_tables.items()}
    suite = read_suite(
        bundled_suite_dirs()[0] / f"{DATASET}.yaml", dataset, set(code_tables), lambda _: dataset.column_names
    )
    return dataset, suite, RunParameters(date(2026, 11, 1), code_tables)


def _record(workspace: GxWorkspace, hukou, run_name: str, failing: int):
    dataset, suite, params = hukou
    tally = Tally(
        rows=100,
        failing_rows={r.id: failing for r in suite.rules},
        nulls={c: 0 for r in suite.rules for c in r.columns},
    )
    expectations = [expectation_for(r, dataset, params) for r in suite.rules]
    return workspace.record(DATASET, expectations, tally, run_name, {"path": "raw"})


def _as_an_earlier_release_stored_it(suite_file) -> None:
    """Releases up to 2026-11-24 stored a code table's values as ``value_set``, a list."""
    stored = json.loads(suite_file.read_text(encoding="utf-8"))
    for expectation in stored["expectations"]:
        kwargs = expectation["kwargs"]
        if "codes" in kwargs:
            kwargs["value_set"] = json.loads(kwargs.pop("codes"))
            del kwargs["code_count"]
    suite_file.write_text(json.dumps(stored), encoding="utf-8")


def test_a_suite_stored_by_an_earlier_release_is_replaced_not_fatal(tmp_path, hukou):
    workspace = GxWorkspace(tmp_path)
    _record(workspace, hukou, "first", failing=0)
    (suite_file,) = (tmp_path / "gx" / "expectations").glob("*.json")
    _as_an_earlier_release_stored_it(suite_file)
    with pytest.raises(Exception, match="value_set"):  # what GX makes of it by itself
        workspace.context.suites.get(DATASET)

    result = _record(workspace, hukou, "second", failing=3)

    counts = counts_by_rule(result)
    code_table_rules = [r.id for r in hukou[1].rules if r.check == Check.IN_CODE_TABLE]
    assert code_table_rules
    assert all(counts[r].unexpected_rows == 3 and not counts[r].success for r in code_table_rules)
    stored = workspace.context.suites.get(DATASET)  # readable again, and complete
    assert len(stored.expectations) == len(hukou[1].rules)


def test_code_table_rules_name_their_table_and_its_size_in_data_docs(tmp_path, hukou):
    workspace = GxWorkspace(tmp_path)
    html = workspace.build_docs(_record(workspace, hukou, "run", failing=1)).read_text(encoding="utf-8")
    _, suite, params = hukou
    tables = {r.code_table for r in suite.rules if r.check == Check.IN_CODE_TABLE}
    assert tables
    for table in tables:
        size = len(params.code_tables[table])
        assert f"须取自代码表 {table}（{size} 个代码）" in html
        assert f"must come from code table {table} ({size} codes)" in html
