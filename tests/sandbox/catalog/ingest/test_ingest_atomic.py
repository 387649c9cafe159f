"""A version appears whole or not at all; staging never outlives a call."""

from __future__ import annotations

import dataclasses
import os

import pytest

from sandbox.catalog.ingest import writer
from sandbox.domain.errors import IngestRejected


def test_refusal_after_parquet_was_written_leaves_nothing(area, monkeypatch):
    written = []
    real = writer.write_parts

    def spy(table, directory):
        names = real(table, directory)
        written.extend(directory / n for n in names)
        return names

    monkeypatch.setattr("sandbox.catalog.ingest.arrow_engine.write_parts", spy)
    rows = [*area.rows, area.rows[0]]  # the duplicate check runs beside the Parquet write
    dataset = dataclasses.replace(area.dataset(), max_duplicate_key_rate=0.0)
    with pytest.raises(IngestRejected, match="duplicate|重复"):
        area.ingest([area.write("a.csv", area.csv(rows))], dataset=dataset)
    assert written and not any(p.exists() for p in written)
    assert not (area.root / "raw" / "v1").exists()
    assert area.staging_left() == []


def test_failed_rename_leaves_no_version_and_no_staging(area, monkeypatch):
    def boom(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "rename", boom)
    with pytest.raises(OSError, match="disk went away"):
        area.ingest([area.write("a.csv", area.csv())])
    monkeypatch.undo()
    assert not (area.root / "raw" / "v1").exists()
    assert area.staging_left() == []
    assert not area.quarantine.exists()  # not the upload's fault: nothing to quarantine


def test_existing_target_is_never_overwritten(area):
    path = area.write("a.csv", area.csv())
    area.ingest([path])
    before = sorted((area.root / "raw" / "v1").iterdir())
    with pytest.raises(FileExistsError):
        area.ingest([path])
    assert sorted((area.root / "raw" / "v1").iterdir()) == before
    assert area.staging_left() == []


def test_missing_upload_is_a_caller_error(area):
    with pytest.raises(FileNotFoundError):
        area.ingest([area.root / "nope.csv"])
