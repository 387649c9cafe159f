"""Promotion end to end on a small county: isolated job process, gate process, atomic release.

Slow (two Spark processes per run), so marked; CI runs it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.demo.platform import build_platform
from sandbox.domain.errors import InvalidInput, PermissionDenied
from sandbox.governance.access import principal_for
from sandbox.products import versions
from sandbox.runtime import production, runs, submissions
from sandbox.runtime.approval import ApprovalExhausted, ApprovalTerms
from sandbox.runtime.production import PromotionRefused
from sandbox.runtime.submissions import JobRefused
from sandbox.settings import Settings
from sandbox.store.models import AuditEventRow, JobSubmissionRow

pytestmark = pytest.mark.slow
JOBS = Path(__file__).parents[3] / "jobs"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("prod") / "home"
    ctx = PlatformContext(Settings(home=home), actor="admin")
    return build_platform(ctx, home / "deliveries", people=2500, seed=5)


def who(platform, name):
    return principal_for(platform.ctx, name)


def test_submit_review_promote_releases_a_product_version(platform, monkeypatch):
    ctx = platform.ctx
    # a cluster's master, which the run's network namespace could not reach: the run's Spark stays local
    monkeypatch.setattr(ctx.settings, "spark_master", "spark://127.0.0.1:9")
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
    reports = sorted(p.name for p in (ctx.settings.work_dir / "exp").glob("*gate_report*"))
    assert reports == [
        "elderly_care_hotspots-v1-gate_report_public.json",
        "elderly_care_hotspots-v1-gate_report_public.md",
    ]
    public = json.loads((ctx.settings.work_dir / "exp" / reports[0]).read_text(encoding="utf-8"))
    cells = [c for o in public["outputs"].values() for c in o["cells"]]
    assert cells and not any("reasons" in c for c in cells)  # which cells were withheld, never why
    assert not any("rows" in o or "methods" in o for o in public["outputs"].values())


def test_a_failing_job_reports_type_and_line_only(platform, tmp_path):
    ctx = platform.ctx
    job = tmp_path / "job"
    shutil.copytree(JOBS / "rental_housing_supply", job)
    source = (job / "job.py").read_text(encoding="utf-8")
    (job / "job.py").write_text(
        source.replace("    return {", "    x = 1 / 0\n    return {"), encoding="utf-8"
    )
    submission = submissions.submit(ctx, who(platform, "developer-1"), job)
    submissions.review(
        ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok", max_runs=1
    )
    run = production.promote(ctx, who(platform, "operator-1"), submission.id)
    assert (run.state, run.error_type) == ("failed", "ZeroDivisionError")
    with pytest.raises(ApprovalExhausted) as spent:  # a failed run counts too: its bit was told
        production.promote(ctx, who(platform, "operator-1"), submission.id)
    assert "1 runs the approval allows are used up" in spent.value.en and "用完" in spent.value.zh
    with ctx.sessions() as session:
        refusals = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused",
                                                               AuditEventRow.object_id == submission.id))  # fmt: skip
        assert any(json.loads(e.details).get("code") == "E825" for e in refusals)
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


# --- approvals bound to what was reviewed (issue 17) --------------------------------------------------


def _approved(platform, **terms):
    submission = submissions.submit(
        platform.ctx, who(platform, "developer-1"), JOBS / "enterprise_loan_support"
    )
    return submissions.review(platform.ctx, who(platform, "operator-2"), submission.id, approve=True, comment="ok",
                              **terms)  # fmt: skip


def test_an_approval_records_its_terms_and_the_versions_reviewed(platform):
    row = _approved(platform, max_runs=3, period_days=30)
    terms = ApprovalTerms.from_json(row.terms_json)
    assert terms.max_runs == 3 and terms.dataset_versions == {"admin_penalties": 1, "enterprises": 1}
    assert date.fromisoformat(terms.valid_until) - date.today() == timedelta(days=30)


def test_an_expired_approval_is_refused(platform):
    row = _approved(platform)
    terms = ApprovalTerms.from_json(row.terms_json)
    with platform.ctx.transaction() as session:
        stored = session.get(JobSubmissionRow, row.id)
        stored.terms_json = replace(
            terms, valid_until=(date.today() - timedelta(days=1)).isoformat()
        ).to_json()
    with pytest.raises(ApprovalExhausted) as refused:
        production.promote(platform.ctx, who(platform, "operator-1"), row.id)
    assert "expired" in refused.value.en


def test_a_policy_changed_since_the_review_needs_a_new_review(platform, tmp_path):
    row = _approved(platform)
    stricter = tmp_path / "policy.yaml"
    stricter.write_text("threshold: 12\n", encoding="utf-8")
    ctx = PlatformContext(Settings(home=platform.ctx.settings.home_dir, policy_file=stricter), actor="admin")
    with pytest.raises(ApprovalExhausted) as refused:
        production.promote(ctx, who(platform, "operator-1"), row.id)
    assert "policy changed since the review" in refused.value.en


@pytest.mark.parametrize("terms", [{"max_runs": 0}, {"period_days": 0}, {"period_days": 400}])
def test_terms_out_of_range_are_refused(platform, terms):
    with pytest.raises(InvalidInput):
        _approved(platform, **terms)


def test_the_reviewer_sees_what_changed_since_the_last_approval(platform, tmp_path):
    first = _approved(platform)
    job = tmp_path / "job"
    shutil.copytree(JOBS / "enterprise_loan_support", job)
    (job / "job.py").write_text(
        (job / "job.py").read_text(encoding="utf-8") + "\n# a second look\n", encoding="utf-8"
    )
    second = submissions.submit(platform.ctx, who(platform, "developer-1"), job)
    packet = submissions.review_packet(platform.ctx, who(platform, "operator-2"), second.id)
    assert packet["previous"] is not None and packet["previous"] != second.id
    assert f"+++ {second.id}/job.py" in packet["diff"] and "+# a second look" in packet["diff"]
    assert "job.toml" not in packet["diff"]  # unchanged files say nothing
    assert submissions.review_packet(platform.ctx, who(platform, "operator-2"), first.id)["diff"] in (
        None,
        "",
    )
