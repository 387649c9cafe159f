"""Files the API hands out, whichever actor's router answers: a released product version as one zip
archive, and an export of correction tickets. Each is written by its service (``versions.export``,
``export.export_tickets``, which check who may have it) into a private directory of the work zone,
read back as one attachment, and the directory is removed at once.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response

from sandbox.context import PlatformContext
from sandbox.governance.access import Principal
from sandbox.products import versions
from sandbox.quality import export

#: A product archive's file format, as every router's download endpoint takes it, and what it answers.
ArchiveFormat = Annotated[
    Literal["csv", "parquet", "xlsx"], Query(alias="format", description="文件格式 / file format")
]
ARCHIVE_RESPONSES = {200: {"content": {"application/zip": {}}}}
TICKET_MEDIA = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip


def attachment(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def product_archive(ctx: PlatformContext, who: Principal, product_id: str, fmt: str,
                    version: int | None) -> Response:  # fmt: skip
    """A released version's tables in ``fmt`` and the gate report's public view, as one zip archive."""
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=ctx.settings.work_dir) as staging:
        out = Path(staging)
        versions.export(ctx, who, product_id, out, fmt, version)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(p for p in out.iterdir() if p.is_file()):
                zipped.write(path, path.name)
    name = f"{product_id}-v{version}-{fmt}.zip" if version else f"{product_id}-{fmt}.zip"
    return attachment(archive.getvalue(), "application/zip", name)


def ticket_export(ctx: PlatformContext, who: Principal, fmt: str, *, refs: list[str] | None,
                  dataset: str | None, state: str | None) -> Response:  # fmt: skip
    """The tickets ``who`` may see (all, or ``refs``) with their failing keys, as CSV or XLSX."""
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tickets-", dir=ctx.settings.work_dir) as scratch:
        path = export.export_tickets(ctx, who, Path(scratch) / f"tickets.{fmt}", refs=refs or None,
                                     dataset_id=dataset, state=state)  # fmt: skip
        content = path.read_bytes()
    return attachment(content, TICKET_MEDIA[fmt], f"tickets.{fmt}")
