"""Numbers handed out by counting (store.allocate) on SQLite and PostgreSQL: taken under a lock
in the recording transaction, consecutive under concurrency, given back on rollback; a lock
held too long is a bilingual, audited "busy, retry"."""

from __future__ import annotations

import json
import re
import threading
from datetime import date

import pytest
from sqlalchemy import event, select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.errors import Busy
from sandbox.governance import authorizations
from sandbox.governance.access import principal_for
from sandbox.products import registry, versions
from sandbox.store import allocate, db
from sandbox.store.models import AuditEventRow, JobRunRow, JobSubmissionRow
from tests.conftest import cli_env, run_together

from ..governance.conftest import build_cast
from ..governance.test_scenarios import walk_to_active

GRANT = ["authorization", "grant", "--operator", "op-org", "--dataset", "people",
         "--starts-on", "2026-01-01", "--ends-on", "2027-01-01", "--content"]  # fmt: skip


def test_parallel_grant_processes_get_consecutive_authorization_ids(ctx):
    build_cast(ctx)
    env = cli_env(ctx, COLUMNS="200")
    done = run_together([["--as", "admin", *GRANT, f"批次 {i}"] for i in range(5)], env, ctx)
    for process in done:
        assert process.returncode == 0 and "Traceback" not in process.stderr, process.stderr
    ids = sorted(row.id for row in authorizations.list_authorizations(ctx))
    assert ids == [f"AUTH-2026-{n:04d}" for n in range(1, 6)]
    reported = sorted(re.search(r"AUTH-2026-\d{4}", p.stdout)[0] for p in done)
    assert reported == ids
    assert {row.content for row in authorizations.list_authorizations(ctx)} == {f"批次 {i}" for i in range(5)}
    (verified,) = run_together([["--as", "admin", "audit", "verify"]], env, ctx)
    assert verified.returncode == 0 and "intact" in verified.stdout


def together(count: int, work) -> list:
    """Run ``work(i)`` on ``count`` threads released by one barrier; results or exceptions."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # handed to the test to show
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_registrations_and_releases_are_consecutive(ctx, tmp_path):
    cast = build_cast(ctx)
    walk_to_active(cast)
    operator = cast("operator-1")
    approved_submissions(
        ctx, [f"p{i}" for i in range(6)]
    )  # a product is registered only as the output of an approved job
    registered = together(6, lambda i: registry.register(ctx, operator, product_id=f"p{i}", title=f"产品{i}",
                                                         scenario_id="elderly-care", description="并发登记"))  # fmt: skip
    assert not [r for r in registered if isinstance(r, Exception)], registered
    serials = sorted(int(r.registration_no.rsplit("-", 1)[1]) for r in registered)
    assert serials == list(range(1, 7))

    promoted_runs(ctx, 6)

    def release(i: int):
        gate_dir = tmp_path / f"gate-{i}"
        gate_dir.mkdir()
        (gate_dir / "run.txt").write_text(f"run-{i}")
        with ctx.transaction() as session:
            return versions.release(ctx, session, product_id="p0", run_id=f"run-{i}", gate_dir=gate_dir,
                                    code_sha256="0" * 64, dataset_versions={}, policy={}, outputs={},
                                    actor="operator-1")  # fmt: skip

    released = together(6, release)
    assert not [r for r in released if isinstance(r, Exception)], released
    assert sorted(r.version for r in released) == list(range(1, 7))
    for row in versions.versions(ctx, "p0"):  # each number's directory holds its own run's output
        assert (ctx.settings.products_dir / row.path / "run.txt").read_text() == row.run_id
    assert ctx.verify_audit().ok


def test_concurrent_registrations_of_one_product_leave_one_and_refuse_the_rest(ctx):
    cast = build_cast(ctx)
    walk_to_active(cast)
    approved_submissions(ctx, ["same"])
    outcomes = together(4, lambda i: registry.register(ctx, cast("operator-1"), product_id="same", title=f"产品{i}",
                                                       scenario_id="elderly-care", description="重复登记"))  # fmt: skip
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 3 and all(isinstance(e, registry.ProductError) for e in refused), refused
    assert "already registered" in refused[0].en and "已登记" in refused[0].zh
    assert [p.registration_no[-6:] for p in registry.list_products(ctx)] == ["000001"]


def approved_submissions(ctx, job_ids: list[str]) -> None:
    """Approved submissions of ``job_ids`` in elderly-care (``sub-0`` …), as a review leaves them."""
    now = utc_now_iso()
    with ctx.transaction() as session:
        for i, job_id in enumerate(job_ids):
            session.add(JobSubmissionRow(id=f"sub-{i}", job_id=job_id, title=job_id, scenario_id="elderly-care",
                                         submitter="developer-1", snapshot_path=f"jobs/{job_id}", code_sha256="0" * 64,
                                         check_json="{}", state="approved", submitted_at=now))  # fmt: skip


def promoted_runs(ctx, count: int) -> None:
    """The runs of ``p0``'s submission a product version's lineage points to (``run-0`` …)."""
    now = utc_now_iso()
    with ctx.transaction() as session:
        for i in range(count):
            session.add(JobRunRow(id=f"run-{i}", submission_id="sub-0", promoted_by="operator-2", state="running",
                                  dataset_versions_json="{}", logs_path=f"runs/run-{i}", started_at=now))  # fmt: skip


def test_a_rolled_back_allocation_gives_its_number_back(ctx):
    build_cast(ctx)
    with pytest.raises(RuntimeError), ctx.transaction() as session:
        assert allocate.authorization_serial(session) == 1
        raise RuntimeError("the record was not written")
    row = authorizations.grant(ctx, principal_for(ctx, "admin"), operator_org="op-org", datasets=["people"],
                               starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), content="x")  # fmt: skip
    assert row.id == "AUTH-2026-0001"


@pytest.fixture
def impatient(ctx, monkeypatch):
    """A second platform context on the same store that waits one second for a lock."""
    monkeypatch.setattr(db, "LOCK_WAIT_S", 1)
    other = PlatformContext(ctx.settings, actor="tester", schema=ctx.schema)
    yield other
    other.engine.dispose()


def test_a_second_allocator_waits_for_the_first(ctx, impatient):
    """Without the lock, PostgreSQL's second transaction would read the same count and number."""
    build_cast(ctx)
    with ctx.transaction() as first:
        assert allocate.authorization_serial(first) == 1
        with pytest.raises(Busy) as info, impatient.transaction() as second:
            allocate.authorization_serial(second)
    assert info.value.code == "E130" and "busy" in info.value.en and "繁忙" in info.value.zh


def test_busy_refusal_is_audited(ctx, impatient):
    """A grant that gave up waiting is refused as busy and audited, once the other one is done."""
    admin = build_cast(ctx)("admin")
    other = ctx.sessions()
    allocate.authorization_serial(other)

    @event.listens_for(impatient.engine, "handle_error")
    def other_finishes(_context):
        other.rollback()

    with pytest.raises(Busy):
        authorizations.grant(impatient, admin, operator_org="op-org", datasets=["people"],
                             starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), content="x")  # fmt: skip
    other.close()
    with ctx.sessions() as session:
        (refused,) = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    assert json.loads(refused.details)["code"] == "E130"
    assert json.loads(refused.details)["attempted"] == "authorization.grant"
    assert ctx.verify_audit().ok
