"""Deliveries of one dataset by several `sandbox ingest` processes at once, on SQLite and
PostgreSQL: consecutive versions, identical bytes reported once, no traceback, nothing lost."""

from __future__ import annotations

import hashlib
import re
import shutil

from sandbox.catalog.service import load_catalog, read_catalog_file, show_dataset
from sandbox.governance.access import principal_for
from tests.conftest import cli_env, run_together

from .test_ingest_service import MINI, people_csv

NEW = re.compile(r"^people v(\d+): ", re.M)
IDENTICAL = re.compile(r"identical to the current version v(\d+)")


def test_parallel_ingests_get_consecutive_versions(ctx, tmp_path):
    load_catalog(ctx, principal_for(ctx, "admin"), read_catalog_file(MINI).catalog)
    uploads = [people_csv(tmp_path / f"d{i}.csv", 10 * i) for i in range(5)]
    shutil.copyfile(uploads[0], tmp_path / "again.csv")  # the same bytes delivered twice at once
    uploads.append(tmp_path / "again.csv")
    env = cli_env(ctx, COLUMNS="200")  # Rich would wrap the report at 80 columns
    done = run_together([["--as", "admin", "ingest", "people", str(u)] for u in uploads], env, ctx)

    published, identical, busy = {}, {}, []
    for upload, process in zip(uploads, done, strict=True):
        assert "Traceback" not in process.stderr, process.stderr
        if process.returncode == 2:  # refused as busy: bilingual, kept in quarantine
            assert "E311" in process.stderr and "繁忙" in process.stderr and "busy" in process.stderr
            busy.append(upload)
            continue
        assert process.returncode == 0, process.stderr
        if match := NEW.search(process.stdout):
            published[int(match[1])] = upload
        else:
            identical[upload] = int(IDENTICAL.search(process.stdout)[1])

    view = show_dataset(ctx, "people")
    versions = {v.version: v for v in view.versions}
    assert sorted(versions) == list(range(1, len(versions) + 1)) == sorted(published)
    sha = {u: hashlib.sha256(u.read_bytes()).hexdigest() for u in uploads}
    for number, upload in published.items():
        assert versions[number].content_sha256 == sha[upload]
    for upload, number in identical.items():
        assert versions[number].content_sha256 == sha[upload]
    for number in range(2, len(versions) + 1):  # an identical re-delivery never becomes a version
        assert versions[number].content_sha256 != versions[number - 1].content_sha256
    assert len(published) + len(identical) + len(busy) == len(uploads)
    assert len(published) >= len(set(sha.values())) - len(busy)
    assert sorted(q.reason for q in view.quarantined) == ["busy"] * len(busy)

    (verified,) = run_together([["--as", "admin", "audit", "verify"]], env, ctx)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
