"""Receiving uploaded files: plain names, size limits, a fresh private folder, nothing left on refusal.

Deliveries (any file name a provider's system produces, made plain) and job folders (names that must
already be plain, so the policy check sees the files as the developer wrote them) share one receiver;
the folder lives in the trusted work zone (``tasks.kinds.upload_dir``) until its service or task has
used it.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile

from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput
from sandbox.tasks.kinds import upload_dir

_CHUNK = 1024**2
_NAME_CHARS = 120
_STRICT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
#: The multipart framing a request may carry beyond its files' bytes.
FRAMING_BYTES = 1024**2


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_total_bytes: int
    max_file_bytes: int | None = None
    strict_names: bool = False  # refuse a name that is not already plain, instead of making it plain

    @property
    def max_body_bytes(self) -> int:
        return self.max_total_bytes + FRAMING_BYTES


#: One delivery of a dataset version (larger data goes in several deliveries, or by the host
#: administrator's local ``sandbox ingest``).
DELIVERY = Limits(max_files=20, max_total_bytes=4 * 1024**3)
#: A job folder: job.toml, README.md and an entry file, with room for the policy check to name extras.
JOB_FOLDER = Limits(max_files=10, max_total_bytes=1024**2, max_file_bytes=256 * 1024, strict_names=True)


def receive(ctx: PlatformContext, files: list[UploadFile], limits: Limits) -> tuple[str, Path]:
    """The files written to a fresh private folder; its upload id and path. Past a limit, or with a bad
    name, the whole upload is refused and nothing stays behind. Empty parts (a browser's form with no
    file chosen) are ignored."""
    files = [f for f in files if f.filename]
    if not files or len(files) > limits.max_files:
        raise InvalidInput(f"须上传 1–{limits.max_files} 个文件", f"upload 1-{limits.max_files} files")
    taken: set[str] = set()
    names = [_name(f.filename, number, taken, limits.strict_names) for number, f in enumerate(files, 1)]
    upload_id = uuid.uuid4().hex
    folder = upload_dir(ctx, upload_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700)
    total = 0
    try:
        for name, upload in zip(names, files, strict=True):
            size = 0
            with (folder / name).open("xb") as out:
                while chunk := upload.file.read(_CHUNK):
                    size, total = size + len(chunk), total + len(chunk)
                    if total > limits.max_total_bytes or (
                        limits.max_file_bytes and size > limits.max_file_bytes
                    ):
                        raise _too_large(limits)
                    out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return upload_id, folder


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _name(sent: str | None, number: int, taken: set[str], strict: bool) -> str:
    """A sent name's last path part; strict: as sent, or refused; otherwise made plain — letters (any
    script), digits and ``. _ -``, not starting with a dot, at most 120 characters, unique."""
    last = unicodedata.normalize("NFC", (sent or "").replace("\\", "/").rsplit("/", 1)[-1])
    if strict:
        if not _STRICT_NAME.fullmatch(last) or last.casefold() in taken:
            raise InvalidInput(
                f"第 {number} 个文件的名称无效或重复（只允许字母、数字、_ . -，不以 . 开头）",
                f"file {number}: its name is invalid or repeated (letters, digits, _ . - only, not starting with .)",
            )
        taken.add(last.casefold())
        return last
    name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in last).lstrip("._")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    suffix = suffix[:16]
    stem = stem[: _NAME_CHARS - len(suffix) - 1] or f"upload-{number}"
    candidate, n = f"{stem}.{suffix}" if suffix else stem, 1
    while candidate.casefold() in taken:  # unique on case-insensitive file systems too
        n += 1
        candidate = f"{stem}-{n}.{suffix}" if suffix else f"{stem}-{n}"
    taken.add(candidate.casefold())
    return candidate


def _too_large(limits: Limits) -> InvalidInput:
    def size(n: int) -> str:
        return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n // 1024} KiB"

    each = f"每个至多 {size(limits.max_file_bytes)}，" if limits.max_file_bytes else ""
    each_en = f"at most {size(limits.max_file_bytes)} each, " if limits.max_file_bytes else ""
    return InvalidInput(
        f"上传过大（{each}合计至多 {size(limits.max_total_bytes)}），请分次交付或精简",
        f"upload too large ({each_en}at most {size(limits.max_total_bytes)} in all)",
    )


def queue_delivery(ctx: PlatformContext, who, dataset_id: str, files: list[UploadFile]):
    """A dataset's next version: the caller's right to deliver it is checked before a byte is written,
    then the ingest is queued (the API's and the web page's upload alike)."""
    from sandbox.catalog.service import check_may_ingest, get_dataset
    from sandbox.governance.access import audited_refusals

    with audited_refusals(ctx, who, "dataset.ingest", "dataset", dataset_id):
        check_may_ingest(who, get_dataset(ctx, dataset_id))
        upload_id, folder = receive(ctx, files, DELIVERY)
    return _queued(ctx, who, folder, "dataset.ingest", {"dataset": dataset_id, "upload": upload_id})


def queue_dev_run(ctx: PlatformContext, who, files: list[UploadFile]):
    """A job folder run once on its scenario's samples, queued."""
    upload_id, folder = receive(ctx, files, JOB_FOLDER)
    return _queued(ctx, who, folder, "dev.run", {"upload": upload_id})


def submit_job(ctx: PlatformContext, who, files: list[UploadFile]):
    """A job folder submitted for review: snapshotted by the service, then the upload goes."""
    from sandbox.runtime import submissions

    _, folder = receive(ctx, files, JOB_FOLDER)
    try:
        return submissions.submit(ctx, who, folder)
    finally:
        discard(folder)


def _queued(ctx: PlatformContext, who, folder: Path, kind: str, args: dict):
    from sandbox.tasks import queue

    try:
        return queue.enqueue(ctx, who, kind, args)
    except BaseException:
        discard(folder)  # refused: nothing of the upload stays behind
        raise
