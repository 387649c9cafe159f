"""Job snapshots: copy a job folder read-only and hash it, so what was reviewed is what runs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

JOB_FILES = ("job.toml", "README.md")


def job_files(job_dir: Path) -> list[Path]:
    return sorted(p for p in job_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def code_sha256(job_dir: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in job_files(job_dir):
        relative = path.relative_to(job_dir).as_posix().encode()
        data = path.read_bytes()
        digest.update(len(relative).to_bytes(4, "big") + relative + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def take_snapshot(job_dir: Path, target: Path) -> str:
    """Copy ``job_dir`` to ``target`` (read-only) and return the snapshot's hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(job_dir, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in job_files(target):
        path.chmod(0o444)
    return code_sha256(target)
