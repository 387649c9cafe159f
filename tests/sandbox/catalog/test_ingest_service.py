"""Ingest as a service on SQLite and PostgreSQL: versions are numbered where they are recorded,
identical re-deliveries are reported, leftovers are kept, and every failure after the upload
arrived is quarantined, recorded, audited and bilingual."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from sandbox.catalog import service
from sandbox.catalog.service import ingest, load_catalog, read_catalog_file, show_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import IngestBusy, IngestInterrupted, IngestRejected
from sandbox.governance.access import principal_for
from sandbox.store import allocate, db
from sandbox.store.models import AuditEventRow

MINI = Path(__file__).parents[2] / "fixtures" / "mini_catalog.yaml"
HEADER = "id_number,name,gender,birth_date,district_code,income,updated_at"


def people_csv(path: Path, first: int, rows: int = 3) -> Path:
    lines = [HEADER] + [
        f"4299011990010{i:05d},姓名{i},1,1990-01-01,429901,{1000 + i},2024-01-01 08:00:00"
        for i in range(first, first + rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def admin(ctx):
    load_catalog(ctx, principal_for(ctx, "admin"), read_catalog_file(MINI).catalog)
    return principal_for(ctx, "admin")


def events(ctx, action: str) -> list[AuditEventRow]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def staging_left(ctx) -> list[Path]:
    return [p for p in ctx.settings.work_dir.iterdir() if p.name.startswith(".ingest-")]


def test_identical_redelivery_is_reported_not_versioned(ctx, admin, tmp_path):
    first = ingest(ctx, admin, "people", [people_csv(tmp_path / "a.csv", 0)])
    assert (first.version.version, first.identical) == (1, False)
    same = tmp_path / "renamed.csv"
    same.write_bytes((tmp_path / "a.csv").read_bytes())
    again = ingest(ctx, admin, "people", [same])
    assert (again.version.version, again.identical) == (1, True)
    assert not (ctx.settings.raw_dir / "people" / "v0002").exists()
    (event,) = events(ctx, "dataset.redelivery_identical")
    assert event.object_id == "people@v1"
    assert json.loads(event.details)["files"] == ["renamed.csv"]
    assert ingest(ctx, admin, "people", [people_csv(tmp_path / "b.csv", 10)]).version.version == 2
    # The first delivery again is not identical to the current version (v2): a new version.
    assert ingest(ctx, admin, "people", [tmp_path / "a.csv"]).version.version == 3
    assert [v.version for v in show_dataset(ctx, "people").versions] == [1, 2, 3]
    assert ctx.verify_audit().ok


def test_same_bytes_split_differently_are_a_new_version(ctx, admin, tmp_path):
    whole = people_csv(tmp_path / "whole.csv", 0, rows=4)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    head, tail = tmp_path / "head.csv", tmp_path / "tail.csv"
    head.write_text("".join(lines[:3]), encoding="utf-8")
    tail.write_text("".join([lines[0], *lines[3:]]), encoding="utf-8")
    ingest(ctx, admin, "people", [head, tail])
    assert ingest(ctx, admin, "people", [head, tail]).identical
    assert not ingest(ctx, admin, "people", [whole]).identical


def test_identical_delivery_published_meanwhile_is_found_when_numbering(ctx, admin, tmp_path, monkeypatch):
    """Two deliveries of the same bytes converting at once: the later one to be numbered sees
    the earlier one's version (the pre-check is skipped here to be that later one)."""
    path = people_csv(tmp_path / "a.csv", 0)
    ingest(ctx, admin, "people", [path])
    monkeypatch.setattr(service, "_identical_current", lambda *args: None)
    again = ingest(ctx, admin, "people", [path])
    assert (again.version.version, again.identical) == (1, True)
    assert len(events(ctx, "dataset.redelivery_identical")) == 1
    assert staging_left(ctx) == [] and not (ctx.settings.raw_dir / "people" / "v0002").exists()


def test_leftover_directory_at_the_number_is_quarantined_not_a_traceback(ctx, admin, tmp_path):
    leftover = ctx.settings.raw_dir / "people" / "v0001"
    leftover.mkdir(parents=True)
    (leftover / "part-00000.parquet").write_bytes(b"left by a crash between rename and commit")
    delivery = ingest(ctx, admin, "people", [people_csv(tmp_path / "a.csv", 0)])
    assert delivery.version.version == 1
    assert pq.read_table(leftover).num_rows == 3  # the new version, in place of the leftover
    (kept,) = [q for q in show_dataset(ctx, "people").quarantined if q.reason == "leftover_version"]
    folder = ctx.settings.quarantine_dir / kept.path
    assert (folder / "v0001" / "part-00000.parquet").read_bytes().startswith(b"left by a crash")
    assert json.loads((folder / "reason.json").read_text(encoding="utf-8"))["version"] == 1
    (event,) = events(ctx, "dataset.leftover_quarantined")
    assert event.object_id == "people@v1" and json.loads(event.details)["quarantine"] == kept.path
    assert ctx.verify_audit().ok


def assert_kept(ctx, err: IngestRejected, upload: Path, reason: str) -> Path:
    """Quarantined with the upload's bytes, recorded, audited with the error's code; nothing published."""
    folder = Path(err.quarantine_path)
    assert (folder / upload.name).read_bytes() == upload.read_bytes()
    assert [q.reason for q in show_dataset(ctx, "people").quarantined] == [reason]
    (event,) = events(ctx, "dataset.upload_quarantined")
    assert json.loads(event.details)["code"] == err.code
    assert show_dataset(ctx, "people").versions == []
    assert not (ctx.settings.raw_dir / "people" / "v0001").exists() and staging_left(ctx) == []
    assert ctx.verify_audit().ok
    return folder


def test_unexpected_failure_is_quarantined_audited_and_bilingual(ctx, admin, tmp_path, monkeypatch):
    def broken(table, directory):
        raise RuntimeError("a message quoting 姓名1")

    monkeypatch.setattr("sandbox.catalog.ingest.arrow_engine.write_parts", broken)
    upload = people_csv(tmp_path / "a.csv", 0)
    with pytest.raises(IngestInterrupted) as info:
        ingest(ctx, admin, "people", [upload])
    err = info.value
    assert (err.code, err.reason) == ("E310", "internal_error")
    assert "RuntimeError" in err.en and "内部错误" in err.zh and "quarantine" in err.en
    assert "姓名1" not in err.zh + err.en + json.dumps(err.as_dict(), ensure_ascii=False)
    folder = assert_kept(ctx, err, upload, "internal_error")
    assert "姓名1" in (folder / "error.txt").read_text(encoding="utf-8")  # operators' zone only


def test_failure_after_the_rename_takes_the_version_back(ctx, admin, tmp_path, monkeypatch):
    real = ctx.audit

    def audit(session, action, *args, **kw):
        if action == "dataset.version_created":
            raise OSError("audit trail unwritable")
        return real(session, action, *args, **kw)

    monkeypatch.setattr(ctx, "audit", audit)
    upload = people_csv(tmp_path / "a.csv", 0)
    with pytest.raises(IngestInterrupted) as info:
        ingest(ctx, admin, "people", [upload])
    assert "OSError" in info.value.en
    assert_kept(ctx, info.value, upload, "internal_error")
    assert not any(p.name.startswith("withdrawn-") for p in ctx.settings.work_dir.iterdir())
    monkeypatch.undo()
    assert ingest(ctx, admin, "people", [upload]).version.version == 1  # the number was given back


def test_busy_store_is_a_bilingual_retry_refusal(ctx, admin, tmp_path, monkeypatch):
    """Another allocator holds the dataset's number for longer than the store waits."""
    monkeypatch.setattr(db, "LOCK_WAIT_S", 1)
    impatient = PlatformContext(ctx.settings, actor="tester", schema=ctx.schema)
    other = ctx.sessions()
    real = service._publish

    def publish_while_another_allocates(*args):
        allocate.dataset_version(other, "people")  # SQLite: the write lock; PostgreSQL: the advisory lock
        try:
            return real(*args)
        finally:
            other.rollback()

    monkeypatch.setattr(service, "_publish", publish_while_another_allocates)
    upload = people_csv(tmp_path / "a.csv", 0)
    with pytest.raises(IngestBusy) as info:
        ingest(impatient, principal_for(impatient, "admin"), "people", [upload])
    err = info.value
    assert (err.code, err.reason) == ("E311", "busy")
    assert "busy" in err.en and "deliver it again" in err.en and "繁忙" in err.zh and "重新导入" in err.zh
    assert_kept(ctx, err, upload, "busy")
    other.close()
    impatient.engine.dispose()
    monkeypatch.undo()
    assert ingest(ctx, admin, "people", [upload]).version.version == 1


def test_missing_upload_is_an_audited_refusal(ctx, admin, tmp_path):
    with pytest.raises(IngestRejected) as info:
        ingest(ctx, admin, "people", [tmp_path / "nope.csv"])
    assert info.value.reason == "missing_file"
    (event,) = events(ctx, "refused")
    assert json.loads(event.details)["attempted"] == "dataset.ingest"
