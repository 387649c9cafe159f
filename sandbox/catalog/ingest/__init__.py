"""Ingest: turn a provider's upload into one immutable, validated Parquet version of a dataset.

``staged_version`` is the whole contract: detect each file's format and encoding, check it
against the registered schema, convert with Arrow (or Spark above a size threshold) into a
private staging directory that has no version number yet, and on refusal keep a copy of the
upload in quarantine with the reason. The caller gives the staged directory its number and
renames it into place (the catalog service does so inside the transaction that records it);
``ingest_files`` is that, for a target chosen beforehand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.catalog.ingest import arrow_engine
from sandbox.catalog.ingest.detect import Format, classify
from sandbox.catalog.ingest.hygiene import MAX_FIELD_CHARS
from sandbox.catalog.ingest.model import ConvertedVersion, Upload
from sandbox.catalog.ingest.quarantine import quarantine
from sandbox.catalog.ingest.validate import arrow_schema
from sandbox.catalog.ingest.writer import freeze, schema_hash, staging
from sandbox.domain.catalog import Dataset
from sandbox.domain.errors import IngestRejected
from sandbox.store.placement import move_durably

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ConvertedVersion", "Staged", "ingest_files", "staged_version"]

#: Formats the Spark engine reads; Parquet, JSON Lines and XLSX always go through Arrow.
SPARK_FORMATS = frozenset({Format.CSV})


@dataclass(frozen=True)
class Staged:
    """A converted upload: its complete, read-only files in ``directory``, and what to record."""

    directory: Path
    version: ConvertedVersion


@contextmanager
def staged_version(
    dataset: Dataset,
    files: list[Path],
    *,
    quarantine_root: Path,
    work_dir: Path,
    spark_factory: Callable[[], SparkSession] | None = None,
    spark_threshold_bytes: int = 2 * 1024**3,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> Iterator[Staged]:
    """Validate ``files`` (one version: same columns, concatenated in the given order) and
    convert them into a fresh directory under ``work_dir``, yielded with what the catalog records.

    Move ``directory`` into place (on ``work_dir``'s filesystem) inside the ``with`` block;
    whatever is still there at its end is removed. Uploads larger in total than
    ``spark_threshold_bytes`` and all CSV are converted by Spark from ``spark_factory``. Raises
    :class:`IngestRejected`, with ``quarantine_path`` set, when the upload is refused;
    ``FileNotFoundError`` for a caller mistake, which quarantines nothing.
    """
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("staged_version needs at least one file")
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(path)
    with staging(work_dir, dataset.id) as stage:
        try:
            version = _convert(dataset, files, stage, spark_factory, spark_threshold_bytes, max_field_chars)
        except IngestRejected as err:
            quarantine(err, dataset.id, files, quarantine_root)
            raise
        yield Staged(stage, version)


def ingest_files(dataset: Dataset, files: list[Path], *, target_dir: Path, **options) -> ConvertedVersion:
    """:func:`staged_version`, published at ``target_dir`` by atomic rename; ``target_dir`` must
    not exist (``FileExistsError``) and appears, complete and read-only, only on success."""
    if target_dir.exists():
        raise FileExistsError(f"version directory already exists: {target_dir}")
    with staged_version(dataset, files, **options) as staged:
        move_durably(staged.directory, target_dir)
    return staged.version


def _convert(
    dataset: Dataset,
    files: list[Path],
    stage: Path,
    spark_factory: Callable[[], SparkSession] | None,
    spark_threshold_bytes: int,
    max_field_chars: int,
) -> ConvertedVersion:
    uploads = [Upload(p, p.name, p.stat().st_size, classify(p, p.name)) for p in files]
    total = sum(u.size for u in uploads)
    use_spark = total > spark_threshold_bytes and all(u.detected.format in SPARK_FORMATS for u in uploads)
    if use_spark:
        from sandbox.catalog.ingest import spark_engine  # pyspark loads only when needed

        out = spark_engine.convert(dataset, uploads, stage, spark_factory, max_field_chars)
    else:
        out = arrow_engine.convert(dataset, uploads, stage, max_field_chars)
    version = ConvertedVersion(
        row_count=out.row_count,
        schema_hash=schema_hash(stage, out.files, arrow_schema(dataset)),
        content_sha256=out.content_sha256,
        files=tuple(out.files),
        sources=tuple(u.source() for u in uploads),
        duplicate_key_count=out.duplicate_key_count,
        engine="spark" if use_spark else "arrow",
    )
    freeze(stage, out.files)
    return version
