"""Keeping refused uploads: bad input gets a clear error and loses nothing.

The offending files are copied (never moved: the originals stay where the caller put them)
into a fresh directory with a ``reason.json`` that a provider or operator can act on later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

from sandbox.domain.errors import IngestRejected

CHUNK = 8 * 1024 * 1024


def quarantine(err: IngestRejected, dataset_id: str, files: list[Path], root: Path) -> Path:
    """Copy ``files`` under ``root/<dataset>/<UTC time>-<id>/``, record why, and set
    ``err.quarantine_path``; returns that directory."""
    now = dt.datetime.now(dt.UTC)
    folder = root / dataset_id / f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    kept = []
    for index, src in enumerate(files):
        name = src.name if not (folder / src.name).exists() else f"{index}-{src.name}"
        size, digest = _copy(src, folder / name)
        kept.append({"file": src.name, "stored_as": name, "bytes": size, "sha256": digest})
    err.quarantine_path = str(folder)
    record = {
        **err.as_dict(),
        "dataset": dataset_id,
        "files": kept,
        "quarantined_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    (folder / "reason.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def _copy(src: Path, dst: Path) -> tuple[int, str]:
    """Copy and hash in one pass, so the recorded sha256 is of the bytes actually kept."""
    digest = hashlib.sha256()
    size = 0
    with src.open("rb") as fin, dst.open("xb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
