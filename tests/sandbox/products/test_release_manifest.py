"""Export reads a released version through its file manifest (name and SHA-256 of every file the gate
wrote), never a directory listing: a file planted beside them does not leave, a changed one stops it."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.products import versions
from sandbox.products.versions import ProductFilesChanged

from .conftest import released_product


def _version(cast):
    released_product(cast, "disability_levels")
    return versions.version_dir(cast.ctx, "disability_levels")


def _export(cast, name: str):
    out = cast.ctx.settings.work_dir / name
    return versions.export(cast.ctx, cast("operator-1"), "disability_levels", out, "csv")


def test_the_manifest_lists_what_the_gate_wrote_with_hashes(live):
    row, directory = _version(live)
    files = json.loads(row.files_json)
    assert list(files) == ["by_level.parquet"] and len(files["by_level.parquet"]) == 64
    assert [p.name for p in _export(live, "out")] == ["disability_levels-v1-by_level.csv"]


def test_a_file_planted_in_the_version_directory_does_not_leave(live):
    row, directory = _version(live)
    os.chmod(directory, 0o755)
    pq.write_table(pa.table({"id_number": ["110101199003070011"]}), directory / "rows.parquet")
    exported = _export(live, "out")
    assert [p.name for p in exported] == ["disability_levels-v1-by_level.csv"]
    assert not any("110101199003070011" in p.read_text(encoding="utf-8-sig") for p in exported)


def test_a_changed_file_stops_the_export(live):
    row, directory = _version(live)
    target = directory / "by_level.parquet"
    target.chmod(0o644)
    pq.write_table(pa.table({"level": [1], "people": [1]}), target)
    with pytest.raises(ProductFilesChanged) as info:
        _export(live, "out")
    assert "by_level.parquet" in info.value.zh and "differs" in info.value.en
    assert not (live.ctx.settings.work_dir / "out").exists()
