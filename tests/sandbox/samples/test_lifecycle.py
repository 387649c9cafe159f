"""A sample's life: deterministic for its seed, replaced by the next build, gone when the scenario ends."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sandbox.cli import app
from sandbox.demo.scenarios import ENTERPRISE_CREDIT, take_to_active
from sandbox.governance import scenarios
from sandbox.governance.access import principal_for
from sandbox.samples import build_samples, sample_dir
from sandbox.samples.errors import SamplesError
from sandbox.store.models import SampleVersionRow
from sandbox.store.samples_repo import forget as forget_samples

from .conftest import SCENARIO

pytestmark = pytest.mark.slow


def test_same_seed_same_entities_then_revocation_deletes_everything(county, spark):
    ctx, operator = county.ctx, principal_for(county.ctx, "operator-1")
    take_to_active(ctx, county.catalog, ENTERPRISE_CREDIT)
    scenario = ENTERPRISE_CREDIT["scenario_id"]
    first = build_samples(ctx, operator, scenario, seed=99, spark=spark)
    firms = sorted(pq.read_table(sample_dir(ctx, scenario, "enterprises")).column("uscc").to_pylist())
    old_dir = sample_dir(ctx, scenario, "enterprises")
    second = build_samples(ctx, operator, scenario, seed=99, spark=spark)
    assert second.version == first.version + 1 and not old_dir.exists()
    assert sorted(pq.read_table(sample_dir(ctx, scenario, "enterprises")).column("uscc").to_pylist()) == firms
    assert pq.read_table(sample_dir(ctx, scenario, "enterprises")).column_names == [
        "uscc", "industry_code", "district_code", "registered_capital", "status"
    ]  # fmt: skip

    scenarios.revoke(ctx, operator, scenario, "测试撤销")
    with pytest.raises(SamplesError):
        sample_dir(ctx, scenario, "enterprises")
    with ctx.sessions() as session:
        states = {r.state for r in session.query(SampleVersionRow).filter_by(scenario_id=scenario)}
    assert states == {"deleted"}  # ending the scenario forgot them
    with ctx.transaction() as session:
        assert forget_samples(session, scenario) == 0
    assert ctx.verify_audit().ok


def test_builds_are_for_operators_only(county):
    with pytest.raises(Exception) as info:
        build_samples(county.ctx, principal_for(county.ctx, "developer-1"), SCENARIO)
    assert info.value.code == "E600"


def test_cli_show_prints_the_card(county, built, monkeypatch):
    monkeypatch.setenv("SANDBOX_HOME", str(county.ctx.settings.home_dir))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    shown = CliRunner().invoke(app, ["--as", "developer-1", "samples", "show", SCENARIO])
    assert shown.exit_code == 0, shown.output
    flat = shown.output.replace("\n", "")
    assert "hukou_population" in flat and "-anonymous" in flat
    assert str(sample_dir(county.ctx, SCENARIO, "hukou_population")) in flat
    refused = CliRunner().invoke(app, ["--as", "consumer-1", "samples", "show", SCENARIO])
    assert refused.exit_code == 2 and "E600" in refused.output
    card = CliRunner().invoke(app, ["--as", "operator-2", "samples", "show", SCENARIO, "--markdown"])
    assert card.exit_code == 0 and "剩余风险" in card.output


def test_demo_builds_the_elderly_care_samples(county, spark, elderly_care, monkeypatch):
    import io

    from rich.console import Console

    from sandbox.demo.samples import build_demo_samples
    from sandbox.demo.scenarios import ELDERLY_CARE
    from sandbox.engines import spark as spark_factory

    monkeypatch.setattr(spark_factory, "spark_from_settings", lambda settings: spark)
    out = io.StringIO()
    build_demo_samples(county.ctx, Console(file=out, width=200))
    printed = out.getvalue()
    assert "disability_records" in printed and "hukou_population" in printed and "-anonymous" in printed
    assert sample_dir(county.ctx, ELDERLY_CARE["scenario_id"], "elderly_care_institutions").is_dir()
