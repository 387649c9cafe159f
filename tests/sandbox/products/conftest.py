"""Products on the mini catalog: an approved job per product and releases through the real release path.

A release here is ``versions.release`` on a gate directory holding one small Parquet table, in
the transaction of a recorded run of an approved submission: what production does after the
gate, without running Spark.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance import scenarios
from sandbox.governance.scenarios import ColumnRequest
from sandbox.products import registry, versions
from sandbox.runtime import submissions
from sandbox.store.models import JobRunRow, JobSubmissionRow, ProductVersionRow

from ..governance.conftest import build_cast
from ..governance.test_scenarios import walk_to_active

#: A job that reads one dataset only, whatever else its scenario was granted.
JOB_TOML = """id = "{job_id}"
title = "残疾等级分布"
scenario = "{scenario}"
entry = "job.py"

[inputs.disability]
dataset = "disability"
columns = ["id_number", "level"]

[outputs.by_level]
entity = "id_number"
dimensions = ["level"]
measures = [{{ name = "people", agg = "count" }}]
"""
JOB_PY = """from sandbox.runtime.sdk import JobContext


def build(ctx: JobContext):
    return {"by_level": ctx.input("disability").select("id_number", "level")}
"""


def live_cast(ctx):
    """The elderly-care scenario (free, granted ``people`` and ``disability``) active, developer-1 on it."""
    cast = build_cast(ctx)
    walk_to_active(cast)
    scenarios.add_member(ctx, cast("operator-1"), "elderly-care", "developer-1")
    return cast


@pytest.fixture
def live(ctx):
    return live_cast(ctx)


def activate_fee_bearing(cast, scenario_id: str = "credit") -> None:
    """An industry (fee-bearing) scenario on ``disability``, under the authorization ``walk_to_active`` granted."""
    ctx = cast.ctx
    scenarios.propose(
        ctx, cast("operator-1"), scenario_id=scenario_id, title="残疾人就业信贷支持", category=ScenarioCategory.INDUSTRY,
        description="按残疾等级测算信贷额度", value_statement="支持残疾人创业",
        planned_products=["credit_levels"], columns=[ColumnRequest("disability", "level", "残疾等级分布"),
                                                      ColumnRequest("disability", "id_number", "主体去重")],
    )  # fmt: skip
    scenarios.submit(ctx, cast("operator-1"), scenario_id, today=date(2026, 11, 2))
    scenarios.start_review(ctx, cast("operator-2"), scenario_id)
    scenarios.decide_consent(ctx, cast("provider-canlian"), scenario_id, "disability", grant=True)
    scenarios.approve(ctx, cast("operator-2"), scenario_id, "符合最小必要原则")
    scenarios.activate(ctx, cast("operator-1"), scenario_id, today=date(2026, 11, 20))
    scenarios.add_member(ctx, cast("operator-1"), scenario_id, "developer-1")


def submitted_job(cast, job_id: str, scenario_id: str) -> JobSubmissionRow:
    """Job ``job_id`` written, checked and submitted by developer-1 (not yet reviewed)."""
    job = cast.ctx.settings.work_dir / "job-sources" / f"{job_id}-{uuid.uuid4().hex[:6]}"
    job.mkdir(parents=True)
    (job / "job.toml").write_text(JOB_TOML.format(job_id=job_id, scenario=scenario_id), encoding="utf-8")
    (job / "job.py").write_text(JOB_PY, encoding="utf-8")
    return submissions.submit(cast.ctx, cast("developer-1"), job)


def approved_job(cast, job_id: str, scenario_id: str = "elderly-care") -> JobSubmissionRow:
    submission = submitted_job(cast, job_id, scenario_id)
    return submissions.review(cast.ctx, cast("operator-2"), submission.id, approve=True, comment="符合要求")


def release_version(
    cast, submission: JobSubmissionRow, dataset_versions: dict[str, int]
) -> ProductVersionRow:
    """Release the next version of the submission's product, recorded as having read ``dataset_versions``."""
    ctx = cast.ctx
    gate_dir = ctx.settings.work_dir / f"gate-{uuid.uuid4().hex[:8]}"
    gate_dir.mkdir(parents=True)
    pq.write_table(pa.table({"level": [1, 2], "people": [12, 15]}), gate_dir / "by_level.parquet")
    run_id = uuid.uuid4().hex[:12]
    with ctx.transaction() as session:
        session.add(
            JobRunRow(
                id=run_id, submission_id=submission.id, promoted_by="operator-2", state="running",
                dataset_versions_json=json.dumps(dataset_versions), logs_path=f"runs/{run_id}", started_at=utc_now_iso(),
            )
        )  # fmt: skip
        session.flush()
        return versions.release(
            ctx, session, product_id=submission.job_id, run_id=run_id, gate_dir=gate_dir,
            code_sha256=submission.code_sha256, dataset_versions=dataset_versions, policy={},
            outputs={"by_level": {"released": 2, "suppressed": 0}}, actor="operator-2",
        )  # fmt: skip


def released_product(cast, product_id: str, scenario_id: str = "elderly-care", dataset_version: int = 1):
    """A registered product of an approved job, with one released version that read ``disability`` only."""
    submission = approved_job(cast, product_id, scenario_id)
    product = registry.register(cast.ctx, cast("operator-1"), product_id=product_id, title="残疾等级分布",
                                scenario_id=scenario_id, description="按残疾等级统计")  # fmt: skip
    release_version(cast, submission, {"disability": dataset_version})
    return product
