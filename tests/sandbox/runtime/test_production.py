"""Promotion end to end on a small county: isolated job process, gate process, atomic release.

Slow (two Spark processes per run), so marked; CI runs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sandbox.context import PlatformContext
from sandbox.demo.platform import build_platform
from sandbox.domain.errors import PermissionDenied
from sandbox.governance.access import principal_for
from sandbox.products import versions
from sandbox.runtime import production, runs, submissions
from sandbox.runtime.production import PromotionRefused
from sandbox.runtime.submissions import JobRefused
from sandbox.settings import Settings

pytestmark = pytest.mark.slow
JOBS = Path(__file__).parents[3] / "jobs"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("prod") / "home"
    ctx = PlatformContext(Settings(home=home), actor="admin")
    return build_platform(ctx, home / "deliveries", people=2500, seed=5)


def who(platform, name):
    return principal_for(platform.ctx, name)


def test_submit_review_promote_releases_a_product_version(platform):
    ctx = platform.ctx
    submission = submissions.submit(ctx, who(platform, "developer-1"), JOBS / "elderly_care_hotspots")
    with pytest.raises(PermissionDenied):
        submissions.review(ctx, who(platform, "developer-1"), submission.id, approve=True, comment="self")
    submissions.review(ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok")
    run = production.promote(ctx, who(platform, "operator-2"), submission.id)
    assert run.state == "released", run.gate_summary_json
    isolation = json.loads(run.isolation_json)
    assert isolation["network"] == "netns-loopback-only" and isolation["memory_limit_bytes"]
    assert isolation["gate_peak_memory_bytes"] > 0  # the gate process, measured by its own cgroup
    assert not any((ctx.settings.staging_dir / "elderly-care").iterdir())  # staging cleared
    row, directory = versions.version_dir(ctx, "elderly_care_hotspots")
    assert json.loads(row.dataset_versions_json) == {"disability_records": 1, "hukou_population": 1}
    released = pd.read_parquet(directory / "elderly_by_district.parquet")
    assert len(released) > 0
    report = (directory / "gate_report.json").read_text(encoding="utf-8")
    raw = pd.read_parquet(
        ctx.settings.raw_dir / platform.versions["hukou_population"].path, columns=["id_number"]
    )
    assert not any(value in report for value in raw["id_number"].head(2000))
    methods = json.loads(report)["outputs"]["elderly_by_district"]["methods"]  # the runner gave the gate
    assert methods["entities"].startswith(
        "every entity found in an input's subject column (2 checked)"
    )  # both inputs
    view = production.developer_view(runs.list_runs(ctx, who(platform, "developer-1"))[0])
    assert set(view) == {
        "run", "submission", "state", "started_at", "finished_at", "timings", "phase", "error_type", "error_line",
        "message", "findings", "reason",
    }  # fmt: skip
    with pytest.raises(PermissionDenied):
        runs.operator_logs(ctx, who(platform, "developer-1"), run.id)
    assert "job.stderr" in runs.operator_logs(ctx, who(platform, "operator-1"), run.id)
    exported = versions.export(
        ctx, who(platform, "consumer-1"), "elderly_care_hotspots", ctx.settings.work_dir / "exp", "xlsx"
    )
    assert exported and all(p.suffix == ".xlsx" for p in exported)


def test_a_failing_job_reports_type_and_line_only(platform, tmp_path):
    ctx = platform.ctx
    job = tmp_path / "job"
    shutil.copytree(JOBS / "rental_housing_supply", job)
    source = (job / "job.py").read_text(encoding="utf-8")
    (job / "job.py").write_text(
        source.replace("    return {", "    x = 1 / 0\n    return {"), encoding="utf-8"
    )
    submission = submissions.submit(ctx, who(platform, "developer-1"), job)
    submissions.review(ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok")
    run = production.promote(ctx, who(platform, "operator-1"), submission.id)
    assert (run.state, run.error_type) == ("failed", "ZeroDivisionError")
    assert (
        run.error_line
        == source.replace("    return {", "    x = 1 / 0\n    return {").splitlines().index("    x = 1 / 0")
        + 1
    )
    assert not (ctx.settings.work_dir / f"gate-{run.id}").exists()  # the waiting gate was never told to go
    assert json.loads(run.timings_json)["job_process_s"] > 0
    assert production.developer_view(run)["reason"] is None  # the job's own error: type and line only
    logs = runs.operator_logs(ctx, who(platform, "operator-1"), run.id)
    assert (
        "Traceback (most recent call last)" in logs["job.stderr"]
        and "ZeroDivisionError" in logs["job.stderr"]
    )


def test_a_frame_without_its_entity_column_names_output_and_column(platform, tmp_path):
    ctx = platform.ctx
    job = tmp_path / "job"
    shutil.copytree(JOBS / "rental_housing_supply", job)
    source = (job / "job.py").read_text(encoding="utf-8")
    (job / "job.py").write_text(source.replace('{"rental_dwellings_by_district": frame}',
                                               '{"rental_dwellings_by_district": frame.drop("owner_id_number")}'),
                                encoding="utf-8")  # fmt: skip
    submission = submissions.submit(ctx, who(platform, "developer-1"), job)
    submissions.review(ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok")
    run = production.promote(ctx, who(platform, "operator-1"), submission.id)
    view = production.developer_view(run)
    assert (view["state"], view["error_type"], view["error_line"]) == ("failed", "FrameContractError", None)
    assert view["reason"]["en"] == (
        "output rental_dwellings_by_district lacks column(s): owner_id_number (owner_id_number is its entity column)"
    )


def test_tampered_snapshot_is_refused(platform):
    ctx = platform.ctx
    submission = submissions.submit(ctx, who(platform, "developer-1"), JOBS / "enterprise_loan_support")
    submissions.review(ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok")
    code = ctx.settings.home_dir / submission.snapshot_path / "job.py"
    code.chmod(0o644)
    code.write_text(code.read_text(encoding="utf-8") + "\n# changed after review\n", encoding="utf-8")
    with pytest.raises(PromotionRefused) as info:
        production.promote(ctx, who(platform, "operator-2"), submission.id)
    assert "differs from what was reviewed" in info.value.en


def test_columns_outside_the_scenario_are_refused_at_submission(platform, tmp_path):
    job = tmp_path / "job"
    shutil.copytree(JOBS / "elderly_care_hotspots", job)
    toml = (
        (job / "job.toml")
        .read_text(encoding="utf-8")
        .replace('"community_code"]', '"community_code", "name"]', 1)
    )
    (job / "job.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(JobRefused) as info:
        submissions.submit(platform.ctx, who(platform, "developer-1"), job)
    assert any(f.rule == "scope" and "name" in f.en for f in info.value.findings)


def test_unapproved_submission_cannot_be_promoted(platform):
    submission = submissions.submit(
        platform.ctx, who(platform, "developer-2"), JOBS / "rental_housing_supply"
    )
    with pytest.raises(PromotionRefused):
        production.promote(platform.ctx, who(platform, "operator-1"), submission.id)
