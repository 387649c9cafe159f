"""A seeded home for the web UI, without Spark or Ray: what ``test_web.py`` and ``test_web_admin.py`` run
against, ``test_browser.py`` serves, and ``bench/pages.py`` times.

``seed_web_home``: the governance cast on the mini catalog with real raw data (checksummed resident
ids, ingested through the real path), the elderly-care scenario active, a released free product and a
released fee-bearing one (``versions.release`` on a small gate directory, as production does after
the gate), an approved job and its resubmission waiting for review, a scenario whose data-use request
is overdue, a manual correction request (a ticket raised through ``tickets.raise_request``, which
needs no quality run), two quality runs' rule results and one sample version written as store rows (a
real run needs Spark, a real sample build Spark and Ray).

``seed_web_extras`` adds what the operator's and the administrator's pages decide on: a finished dev
run of exactly the waiting resubmission's code (recorded as the worker records a ``dev.run`` task), a
disputed ticket and a manual request reported fixed, and the current samples' Parquet file of
``disability`` (pseudonyms only), as a sample build writes it.

Seeding takes seconds (argon2 passwords, an ingest, releases); the tests seed each kind once per session
(``seeded_template``) and give every test its own copy of that home (``copied``), store and files alike.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance import authorizations, identities, passwords, scenarios
from sandbox.governance.access import principal_for
from sandbox.governance.scenarios import ColumnRequest
from sandbox.quality import tickets
from sandbox.runtime import submissions
from sandbox.settings import Settings
from sandbox.store.models import (
    JobRunRow,
    JobSubmissionRow,
    QualityRuleResultRow,
    QualityRunRow,
    SampleDatasetRow,
    SampleVersionRow,
)
from sandbox.store.zones import Zone, zone_path

from ..products.conftest import (
    JOB_PY,
    JOB_TOML,
    activate_fee_bearing,
    approved_job,
    live_cast,
    released_product,
)
from .test_boundary import RAW_IDS, RAW_NAMES

PASSWORD = "correct horse battery"
USERS = ("admin", "operator-1", "operator-2", "developer-1", "developer-2", "consumer-1", "provider-gongan",
         "provider-canlian", "auditor-1")  # fmt: skip


@dataclass
class Seeded:
    ticket: str  # QT-… of provider-gongan's correction request
    submission: str  # the resubmission waiting for review (it has a previous approved one)
    approved: str  # an approved submission, ready to promote


def _card(scenario_id: str) -> dict:
    """A sample card in the shape ``samples.build`` writes (figures only)."""
    columns = [{"column": "level", "role": "sensitive", "kind": "integer", "operator": "keep"},
               {"column": "id_number", "role": "direct_id", "kind": "cn_resident_id", "operator": "pseudonym_resident_id"}]  # fmt: skip
    return {
        "scenario": scenario_id, "version": 1, "seed": 7, "authorization": "auth", "created_at": utc_now_iso(),
        "policy": {"fraction": 0.1, "max_entities": 5000, "k": 5}, "entities": {"person": 8},
        "datasets": {"disability": {"raw_version": 1, "rows": 8, "entities": 8, "k": 5, "suppressed_entities": 0,
                                    "suppressed_rows": 0, "dropped_rows": 0, "columns": columns,
                                    "l_diversity": {"level": 2}, "profile": []}},
        "residual_risk": {"zh": "每个数据集至少 5-匿名。", "en": "Every dataset is at least 5-anonymous."},
    }  # fmt: skip


def _quality_runs(ctx) -> None:
    """Two versions' runs of ``people`` with two rules each (store rows as ``quality.runner`` writes them)."""
    with ctx.transaction() as session:
        for version, (first, second) in ((1, (92.5, 100.0)), (2, (97.25, 99.0))):
            run_id = uuid.uuid4().hex[:16]
            session.add(QualityRunRow(
                id=run_id, dataset_id="people", provider_id="gongan", version=version, as_of="2026-11-30",
                suite_source="quality/suites/people.yaml", suite_sha256="0" * 64, row_count=8, score=first,
                dimension_scores_json=json.dumps({"完整性": first, "准确性": second}), gx_success=False,
                gx_result_path=f"tickets/gongan/docs/{run_id}.html", keys_path=f"tickets/gongan/keys/{run_id}",
                started_by="operator-1", started_at=utc_now_iso(), finished_at=utc_now_iso(),
            ))  # fmt: skip
            session.flush()
            for rule, dimension, score in (
                ("birth_date_not_null", "完整性", first),
                ("income_range", "准确性", second),
            ):
                session.add(QualityRuleResultRow(
                    run_id=run_id, rule_id=rule, check="not_null", column_label=rule.split("_")[0], dimension=dimension,
                    severity="high", success=score == 100.0, element_count=8, unexpected_rows=round(8 * (100 - score) / 100),
                    failing_keys=0, excepted_keys=0, score=score,
                ))  # fmt: skip


def _resubmitted(cast, job_id: str):
    """Job ``job_id`` changed (one more line) and submitted again by developer-1, waiting for review."""
    job = cast.ctx.settings.work_dir / "job-sources" / f"{job_id}-{uuid.uuid4().hex[:6]}"
    job.mkdir(parents=True)
    (job / "job.toml").write_text(JOB_TOML.format(job_id=job_id, scenario="elderly-care"), encoding="utf-8")
    (job / "job.py").write_text(
        JOB_PY.replace("def build", "# 按残疾等级统计人数\ndef build"), encoding="utf-8"
    )
    return submissions.submit(cast.ctx, cast("developer-1"), job)


def seed_web_home(ctx, tmp_path) -> Seeded:
    from sandbox.catalog.service import ingest

    cast = live_cast(ctx)
    admin = principal_for(ctx, "admin")
    identities.create_org(ctx, admin, "regulator", "网信办", OrgKind.REGULATOR)
    identities.create_user(ctx, admin, "auditor-1", "审计一", "regulator", {Role.AUDITOR})
    csv = tmp_path / "people.csv"
    rows = [
        f"{rid},{RAW_NAMES[i % 2]},1,1985-01-01,429901,{3000 + i},2024-01-01 08:00:00"
        for i, rid in enumerate(RAW_IDS)
    ]
    csv.write_text("id_number,name,gender,birth_date,district_code,income,updated_at\n" + "\n".join(rows) + "\n",
                   encoding="utf-8")  # fmt: skip
    ingest(ctx, admin, "people", [csv])
    activate_fee_bearing(cast)
    released_product(cast, "level_counts")
    released_product(cast, "credit_levels", "credit")
    waiting = _resubmitted(cast, "level_counts")  # the diff is against the approved job released as v1
    ready = approved_job(cast, "second_job")
    scenarios.propose(ctx, cast("operator-1"), scenario_id="housing", title="租赁住房供给", category=ScenarioCategory.PUBLIC_GOVERNANCE,
                      description="按区县统计", value_statement="住房保障", planned_products=["rental_supply"],
                      columns=[ColumnRequest("people", "district_code", "按区县汇总")])  # fmt: skip
    scenarios.submit(
        ctx, cast("operator-1"), "housing", today=date(2026, 11, 2)
    )  # due long before today: overdue
    ticket = tickets.raise_request(
        ctx, cast("operator-1"), "people", "出生日期晚于登记日期，请核实", column="birth_date"
    )
    _quality_runs(ctx)
    with ctx.transaction() as session:  # the released run's gate summary, as production records it
        run = session.scalars(select(JobRunRow).order_by(JobRunRow.started_at)).first()
        run.state, run.finished_at = "released", utc_now_iso()
        run.gate_summary_json = json.dumps({"outputs": {"by_level": {
            "released": 2, "suppressed": 1, "suppressed_by_reason": {"threshold": 1}}}})  # fmt: skip
    (authorization,) = authorizations.list_authorizations(ctx)
    with ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id="elderly-care", version=1, authorization_id=authorization.id, seed=7,
                                     state="current", card_json=json.dumps(_card("elderly-care"), ensure_ascii=False),
                                     created_by="operator-1", created_at=utc_now_iso()))  # fmt: skip
    operator = cast("operator-1")  # developer-2 cleared too, but on no scenario: the samples refuse them
    identities.verify_identity(ctx, operator, "developer-2")
    identities.record_filing(ctx, operator, "developer-2", "BA-2026-0002")
    identities.record_nda(ctx, operator, "developer-2", "v1.0", date(2026, 3, 1))
    for user in USERS:
        passwords.set_password(ctx, admin, user, PASSWORD)
    return Seeded(tickets.ticket_view(ticket)["ticket"], waiting.id, ready.id)


#: In the seeded dev run's frame preview only: the advisory shown on a submission's page never has it.
PREVIEW_MARKER = "preview-row-never-shown"


@dataclass
class Extras:
    dev_task: str  # the succeeded dev run of exactly the waiting resubmission's code
    disputed: str  # QT-… on disability, disputed by its provider
    fixed: str  # QT-… a manual request on people, reported fixed by its provider


def seed_web_extras(ctx, seeded: Seeded) -> Extras:
    from sandbox.tasks import queue

    operator = principal_for(ctx, "operator-1")
    disputed = tickets.raise_request(ctx, operator, "disability", "残疾等级与证件记录不一致", column="level")
    tickets.dispute(ctx, principal_for(ctx, "provider-canlian"), tickets.ticket_view(disputed)["ticket"],
                    "等级经复核无误，见复核记录")  # fmt: skip
    fixed = tickets.raise_request(ctx, operator, "people", "收入为负数，请核实", column="income")
    fixed_ref = tickets.ticket_view(fixed)["ticket"]
    gongan = principal_for(ctx, "provider-gongan")
    tickets.acknowledge(ctx, gongan, fixed_ref, "收到")
    tickets.mark_fixed(ctx, gongan, fixed_ref, "已更正并重新交付")
    with ctx.sessions() as session:
        code = session.get(JobSubmissionRow, seeded.submission).code_sha256
    task = queue.enqueue(ctx, principal_for(ctx, "developer-1"), "dev.run", {"upload": uuid.uuid4().hex})
    assert queue.claim(ctx, "seed").id == task.id  # as the worker runs it (its run needs Spark)
    queue.finish(ctx, task.id, ok=True, result={
        "job": {"ok": True, "phase": None, "error_type": None, "error_line": None, "message": None, "findings": [],
                "reason": None, "traceback": None},
        "seconds": 4.2, "code_sha256": code,
        "frames": {"by_level": {"rows": 8, "columns": ["id_number", "level"], "preview": [[PREVIEW_MARKER, 1]]}},
        "gate": {"outputs": {"by_level": {"refusal": None, "released": 3, "suppressed": 2,
                                          "suppressed_by_reason": {"threshold": 2}}}},
    })  # fmt: skip
    sample = zone_path(ctx.settings, Zone.SAMPLES, "elderly-care", "disability", "v0001")
    sample.mkdir(parents=True)
    pq.write_table(pa.table({"id_number": [f"pid-{n:04d}" for n in range(8)], "level": [1, 2, 1, 3, 2, 1, 4, 2]}),
                   sample / "part-0.parquet", compression="zstd")  # fmt: skip
    with ctx.transaction() as session:
        version = session.scalar(
            select(SampleVersionRow).where(SampleVersionRow.scenario_id == "elderly-care")
        )
        session.add(SampleDatasetRow(sample_version_id=version.id, dataset_id="disability", raw_version=1, rows=8,
                                     path="elderly-care/disability/v0001", k_achieved=5))  # fmt: skip
    return Extras(task.id, tickets.ticket_view(disputed)["ticket"], fixed_ref)


@dataclass
class Template:
    """A seeded home, its store closed, for tests to copy."""

    home: Path
    seeded: Seeded
    extras: Extras | None


def seeded_template(root: Path, *, extras: bool) -> Template:
    """``seed_web_home`` (and ``seed_web_extras`` with ``extras``) on a new home under ``root``."""
    from tests.conftest import make_context

    ctx = make_context(root / "home")
    seeded = seed_web_home(ctx, root)
    added = seed_web_extras(ctx, seeded) if extras else None
    ctx.engine.dispose()
    return Template(root / "home", seeded, added)


def copied(template: Template, where: Path) -> PlatformContext:
    """A platform on a copy of ``template``'s home at ``where``: what one test changes, no other test sees."""
    shutil.copytree(template.home, where, symlinks=True)
    return PlatformContext(Settings(home=where), actor="tester")
