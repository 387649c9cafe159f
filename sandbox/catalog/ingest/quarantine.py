"""Keeping refused uploads: bad input gets a clear error and loses nothing.

The offending files are copied (never moved: the originals stay where the caller put them)
into a fresh directory with a ``reason.json`` that a provider or operator can act on later. A
raw version directory found without a record is moved here the same way (``keep_leftover``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

from sandbox.domain.errors import IngestRejected
from sandbox.store.placement import set_aside

CHUNK = 8 * 1024 * 1024


def quarantine(
    err: IngestRejected, dataset_id: str, files: list[Path], root: Path, *, operator_note: str | None = None
) -> Path:
    """Copy ``files`` under ``root/<dataset>/<UTC time>-<id>/``, record why, and set
    ``err.quarantine_path``; returns that directory.

    ``operator_note`` (a traceback, which may quote data) is kept beside the files as
    ``error.txt``, in this zone only, for operators.
    """
    now = dt.datetime.now(dt.UTC)
    folder = new_folder(root, dataset_id, now)
    kept = []
    for index, src in enumerate(files):
        name = src.name if not (folder / src.name).exists() else f"{index}-{src.name}"
        size, digest = _copy(src, folder / name)
        kept.append({"file": src.name, "stored_as": name, "bytes": size, "sha256": digest})
    err.quarantine_path = str(folder)
    if operator_note:
        (folder / "error.txt").write_text(operator_note, encoding="utf-8")
    _write_reason(folder, {**err.as_dict(), "dataset": dataset_id, "files": kept}, now)
    return folder


def keep_leftover(directory: Path, dataset_id: str, version: int, root: Path) -> Path:
    """Move a raw version directory that has no record (a crash between rename and commit left
    it) into quarantine, unchanged; returns the quarantine directory that now holds it."""
    now = dt.datetime.now(dt.UTC)
    folder = new_folder(root, dataset_id, now)
    set_aside(directory, folder)
    record = {
        "reason": "leftover_version",
        "dataset": dataset_id,
        "version": version,
        "files": [directory.name],
    }
    _write_reason(folder, record, now)
    return folder


def new_folder(root: Path, dataset_id: str, now: dt.datetime) -> Path:
    folder = root / dataset_id / f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def _write_reason(folder: Path, record: dict, now: dt.datetime) -> None:
    record["quarantined_at"] = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = json.dumps(record, ensure_ascii=False, indent=2)
    (folder / "reason.json").write_text(text, encoding="utf-8")


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
