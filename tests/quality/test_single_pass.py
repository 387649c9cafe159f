"""The single pass against Great Expectations' own validation, on every dataset of the synthetic county.

A run reads a version once: the pass writes the failing keys and tallies the counts, and GX judges
each expectation from that tally. These tests let GX's Spark engine validate the same versions
itself and require the same verdicts, counts and keys, rule by rule.
"""

from __future__ import annotations

import dataclasses

import pyarrow.dataset as pads
import pytest

from sandbox.catalog.service import current_version, get_dataset, read_catalog_file, version_path
from sandbox.domain.quality import Check, QualityIntegrityError
from sandbox.quality import evaluation
from sandbox.quality.checks import RunParameters
from sandbox.quality.evaluation import evaluate
from sandbox.quality.failing_keys import FAILING
from sandbox.quality.gx_validation import GxWorkspace
from sandbox.quality.prepare import raw_schema
from sandbox.quality.suites import bundled_suite_dirs, suite_for
from tests.conftest import make_context
from tests.quality.conftest import county_as_of, deliver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform(county, tmp_path_factory):
    ctx = make_context(tmp_path_factory.mktemp("single-pass-home"))
    deliver(ctx, county)
    code_tables = {
        k: tuple(v) for k, v in read_catalog_file(county / "catalog.yaml").catalog.code_tables.items()
    }
    yield ctx, RunParameters(county_as_of(county), code_tables)
    ctx.engine.dispose()


def _run(ctx, spark, params, dataset_id, out, *, cross_check, workspace=None):
    dataset = get_dataset(ctx, dataset_id)
    suite = suite_for(ctx, dataset)
    targets = {
        r.target.partition(".")[0]: version_path(ctx, current_version(ctx, r.target.partition(".")[0]))
        for r in suite.rules
        if r.check == Check.REFERENCES
    }
    workspace = workspace or GxWorkspace(out / "gx")
    raw = version_path(ctx, current_version(ctx, dataset_id))
    return evaluate(spark, workspace, dataset, suite, params, raw, targets, out / "keys", out.name,
                    cross_check=cross_check)  # fmt: skip


def _keys(out):
    table = pads.dataset(str(out / "keys" / FAILING), format="parquet", partitioning="hive").to_table()
    return sorted(map(str, table.to_pylist()))


#: Every dataset the county delivers, each with its bundled suite.
DATASETS = sorted(p.stem for p in bundled_suite_dirs()[0].glob("*.yaml"))


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_single_pass_and_gx_validation_agree_rule_by_rule(platform, spark, tmp_path, dataset_id):
    ctx, params = platform
    single = _run(ctx, spark, params, dataset_id, tmp_path / "single", cross_check=False)
    gx_run = _run(ctx, spark, params, dataset_id, tmp_path / "gx", cross_check=True)
    assert single.outcomes == gx_run.outcomes
    assert single.row_count == gx_run.row_count > 0
    # GX's full results (success, element, missing and unexpected counts and percentages) are the same
    by_rule = {r.expectation_config.meta["rule_id"]: r for r in gx_run.result.results}
    for judged in single.result.results:
        executed = by_rule[judged.expectation_config.meta["rule_id"]]
        assert (judged.success, judged.result) == (executed.success, executed.result)
    assert single.result.success == gx_run.result.success
    assert single.result.statistics == gx_run.result.statistics
    assert _keys(tmp_path / "single") == _keys(tmp_path / "gx")
    assert any(o.unexpected_rows for o in single.outcomes)  # the county's defects are there to find


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_a_raw_version_is_read_with_the_schema_spark_infers_from_its_files(platform, spark, dataset_id):
    ctx, _ = platform
    raw = str(version_path(ctx, current_version(ctx, dataset_id)))
    assert raw_schema(get_dataset(ctx, dataset_id)) == spark.read.parquet(raw).schema


def test_the_recorded_result_is_stored_and_rendered_as_data_docs(platform, spark, tmp_path):
    ctx, params = platform
    workspace = GxWorkspace(tmp_path / "gx")
    single = _run(
        ctx, spark, params, "hukou_population", tmp_path / "run", cross_check=False, workspace=workspace
    )
    stored = workspace.context.validation_results_store.list_keys()
    assert len(stored) == 1 and stored[0].run_id.run_name == "run"
    page = workspace.build_docs(single.result)
    html = page.read_text(encoding="utf-8")
    assert "须为有效的公民身份号码" in html  # the custom expectation's wording
    failing = [o for o in single.outcomes if not o.success and o.rule.columns]
    assert failing
    for outcome in failing:  # each failing rule's count, as GX renders it from the tally
        assert f"{outcome.unexpected_rows} unexpected values found" in html


@pytest.mark.parametrize("cross_check", [False, True])
def test_keys_lost_between_the_pass_and_the_tickets_void_the_run(
    platform, spark, tmp_path, monkeypatch, cross_check
):
    """Fault injection: the extraction reports one row fewer for a failing rule than was counted."""
    ctx, params = platform
    real_extract = evaluation.extract

    def losing_one(*args, **kwargs):
        tally, keys = real_extract(*args, **kwargs)
        rule, found = next(iter(sorted(keys.items())))
        return tally, {**keys, rule: dataclasses.replace(found, rows=found.rows - 1)}

    monkeypatch.setattr(evaluation, "extract", losing_one)
    with pytest.raises(QualityIntegrityError, match="the run is void"):
        _run(ctx, spark, params, "hukou_population", tmp_path / "run", cross_check=cross_check)
