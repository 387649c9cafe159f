"""Ingest: turn a provider's upload into one immutable, validated Parquet version of a dataset.

``ingest_files`` is the whole contract: detect each file's format and encoding, check it
against the registered schema, convert with Arrow (or Spark above a size threshold), publish by
atomic rename, and on refusal keep a copy of the upload in quarantine with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.catalog.ingest import arrow_engine
from sandbox.catalog.ingest.detect import Format, classify
from sandbox.catalog.ingest.model import ConvertedVersion, Upload
from sandbox.catalog.ingest.quarantine import quarantine
from sandbox.catalog.ingest.validate import arrow_schema
from sandbox.catalog.ingest.writer import publish, schema_hash, staging
from sandbox.domain.catalog import Dataset
from sandbox.domain.errors import IngestRejected

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ConvertedVersion", "ingest_files"]

#: Formats the Spark engine reads; Parquet, JSON Lines and XLSX always go through Arrow.
SPARK_FORMATS = frozenset({Format.CSV})


def ingest_files(
    dataset: Dataset,
    files: list[Path],
    *,
    target_dir: Path,
    quarantine_root: Path,
    work_dir: Path,
    spark_factory: Callable[[], SparkSession] | None = None,
    spark_threshold_bytes: int = 2 * 1024**3,
) -> ConvertedVersion:
    """Validate ``files`` (one version: same columns, concatenated in the given order) and
    publish them as Parquet at ``target_dir``.

    ``target_dir`` must not exist and must be on ``work_dir``'s filesystem (staging is renamed
    into place); it appears, complete and read-only, only on success. Uploads larger in total
    than ``spark_threshold_bytes`` and all CSV are converted by Spark from ``spark_factory``.
    Raises :class:`IngestRejected`, with ``quarantine_path`` set, when the upload is refused;
    ``FileExistsError``/``FileNotFoundError`` for caller mistakes, which quarantine nothing.
    """
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("ingest_files needs at least one file")
    if target_dir.exists():
        raise FileExistsError(f"version directory already exists: {target_dir}")
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(path)
    try:
        uploads = [Upload(p, p.name, p.stat().st_size, classify(p, p.name)) for p in files]
        total = sum(u.size for u in uploads)
        use_spark = total > spark_threshold_bytes and all(u.detected.format in SPARK_FORMATS for u in uploads)
        with staging(work_dir, dataset.id) as stage:
            if use_spark:
                from sandbox.catalog.ingest import spark_engine  # pyspark loads only when needed

                out = spark_engine.convert(dataset, uploads, stage, spark_factory)
            else:
                out = arrow_engine.convert(dataset, uploads, stage)
            version = ConvertedVersion(
                row_count=out.row_count,
                schema_hash=schema_hash(stage, out.files, arrow_schema(dataset)),
                content_sha256=out.content_sha256,
                files=tuple(out.files),
                sources=tuple(u.source() for u in uploads),
                duplicate_key_count=out.duplicate_key_count,
                engine="spark" if use_spark else "arrow",
            )
            publish(stage, out.files, target_dir)
    except IngestRejected as err:
        quarantine(err, dataset.id, files, quarantine_root)
        raise
    return version
