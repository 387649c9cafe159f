"""Putting a finished version directory at its numbered place, for as long as its record lives.

Raw dataset versions, product versions and sample versions are built in a private directory
with no number, then renamed to ``.../vNNNN`` inside the transaction that allocates the number
(``allocate.py``) and records the row. :func:`place` ties the directory to that transaction: if
it rolls back (an error in the block, a failed commit), the directory is renamed away again, so
no unrecorded version stays visible.

A directory already at the target has no record: the allocation lock guarantees that no
committed or in-flight version holds the number. It is what a process left that died between
rename and commit, and :func:`set_aside` moves it (never deletes it) for the caller to record.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session


def place(session: Session, directory: Path, target: Path, trash: Path) -> None:
    """:func:`move_durably`, undone if ``session``'s transaction rolls back: the directory then
    leaves ``target`` for ``trash`` and is removed."""
    move_durably(directory, target)
    identity = _identity(target)
    committed = []

    def withdraw(_session: Session) -> None:
        # Only this directory: after the rollback another allocator may already own the number.
        if committed or not target.exists() or _identity(target) != identity:
            return
        gone = trash / f"withdrawn-{target.name}-{uuid.uuid4().hex[:8]}"
        try:
            trash.mkdir(parents=True, exist_ok=True)
            os.rename(target, gone)
        except OSError:
            return  # left in place: the next allocation of this number sets it aside
        for path in gone.rglob("*"):
            if path.is_file():
                path.chmod(0o644)
        shutil.rmtree(gone, ignore_errors=True)

    event.listen(session, "after_commit", lambda _session: committed.append(True), once=True)
    event.listen(session, "after_rollback", withdraw, once=True)


def move_durably(directory: Path, target: Path) -> None:
    """Rename ``directory`` to ``target`` (atomic on one filesystem; ``target`` must not exist)
    and fsync ``target``'s parent so the rename survives a crash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        raise FileExistsError(target)
    os.rename(directory, target)
    try:
        fsync_dir(target.parent)
    except OSError:
        os.rename(target, directory)
        raise


def set_aside(target: Path, folder: Path) -> Path:
    """Move a leftover ``target`` into ``folder``; returns its new path."""
    folder.mkdir(parents=True, exist_ok=True)
    moved = folder / target.name
    os.rename(target, moved)
    return moved


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
