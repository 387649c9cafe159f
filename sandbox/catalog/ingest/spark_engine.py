"""The out-of-core engine: large CSV uploads converted by Spark.

Same contract as the Arrow engine — same grammar (``validate.PATTERNS``), same cell hygiene
(``hygiene``), same Parquet schema, same duplicate rule — so an upload is accepted or refused
alike whichever engine ran. Spark reads every column as text in PERMISSIVE mode; a
corrupt-record column flags ragged rows and per-column flags mark values outside the grammar
and unclean text cells. The first failure is found by position (``_metadata.file_block_start``
plus the row's place within its split), and only then is the file re-read in Python to name
its line. Only CSV comes here: Parquet is already columnar, an XLSX sheet holds at most
1,048,576 rows, and JSON Lines uploads go through Arrow at any size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from functools import reduce
from pathlib import Path

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sandbox.catalog.ingest import locate, reasons
from sandbox.catalog.ingest.hygiene import CONTROL_PATTERN
from sandbox.catalog.ingest.model import EngineOutput, Upload
from sandbox.catalog.ingest.scan import Scanned, scan_text
from sandbox.catalog.ingest.validate import (
    FALSE_VALUES,
    PATTERNS,
    TRUE_VALUES,
    check_columns,
    check_duplicates,
)
from sandbox.domain.catalog import Column, ColumnType, Dataset
from sandbox.domain.errors import IngestRejected
from sandbox.engines.spark import spark_session

SPARK_TYPES = {
    ColumnType.INTEGER: "bigint",
    ColumnType.DOUBLE: "double",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp_ntz",
}
CORRUPT, SOURCE, BLOCK, ROW, MALFORMED = "__corrupt", "__source", "__block", "__row", "__malformed"


def convert(
    dataset: Dataset,
    uploads: list[Upload],
    staging: Path,
    spark_factory: Callable[[], SparkSession] | None,
    max_field_chars: int,
) -> EngineOutput:
    digest = hashlib.sha256()
    headers, scans = [], []
    for upload in uploads:
        encoding = upload.detected.encoding
        scans.append(scan_text(upload.path, upload.name, encoding, digest))
        header = locate.csv_header(upload.path, encoding, upload.detected.delimiter)
        if not header:
            raise reasons.empty(upload.name)
        check_columns(dataset, [h.strip() for h in header], upload.name)
        headers.append(header)
    spark = _isolated((spark_factory or spark_session)())
    inputs = staging / ".inputs"  # plain names: Spark would read "[", "{", "*" in a path as a glob
    inputs.mkdir()
    frames = []
    for i, (upload, header, scanned) in enumerate(zip(uploads, headers, scans, strict=True)):
        link = inputs / f"{i}.csv"
        link.symlink_to(upload.path.resolve())
        frames.append(_read(spark, dataset, link, upload, header, scanned, i, max_field_chars))
    checked = reduce(DataFrame.unionByName, frames)
    flags = [F.col(MALFORMED)] + [F.col(_flag(i)) for i in range(len(dataset.columns))]
    controls = [F.col(_control(i)) for i in range(len(dataset.columns))]
    summary = {
        r[SOURCE]: r
        for r in checked.groupBy(SOURCE)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.min(F.when(reduce(SparkColumn.__or__, flags), F.struct(BLOCK, ROW, *flags, *controls))).alias(
                "bad"
            ),
        )
        .collect()
    }
    for index, upload in enumerate(uploads):
        stats = summary.get(index)
        if stats is None or stats["rows"] == 0:
            raise reasons.empty(upload.name)
        if stats["bad"] is not None:
            raise _failure(
                checked, index, stats["bad"], upload, len(headers[index]), dataset, max_field_chars
            )
    rows = sum(s["rows"] for s in summary.values())
    out = staging / ".spark"
    writer = checked.select(*(c.name for c in dataset.columns)).write.option("compression", "zstd")
    for col in dataset.columns:
        if col.type is ColumnType.STRING:  # as the Arrow engine: no raw text in footer min/max
            writer = writer.option(f"parquet.column.statistics.enabled#{col.name}", "false")
    writer.parquet(str(out))
    files = _adopt_parts(out, staging)
    shutil.rmtree(inputs)
    duplicates = _duplicate_key_count(spark, [staging / f for f in files], dataset.keys)
    check_duplicates(dataset, duplicates, rows)
    return EngineOutput(rows, files, duplicates, digest.hexdigest())


def _isolated(shared: SparkSession) -> SparkSession:
    """A session of our own on the caller's SparkContext, so two settings change for us only:
    the corrupt-record column is filled only if every column is parsed (no CSV column pruning),
    and Spark 4 accepts GB18030 only as a "legacy" Java charset."""
    session = shared.newSession()
    for key, value in shared.conf.getAll.items():
        if shared.conf.isModifiable(key):
            session.conf.set(key, value)
    session.conf.set("spark.sql.csv.parser.columnPruning.enabled", "false")
    session.conf.set("spark.sql.legacy.javaCharsets", "true")
    return session


def _read(
    spark: SparkSession,
    dataset: Dataset,
    path: Path,
    upload: Upload,
    header: list[str],
    scanned: Scanned,
    index: int,
    max_field_chars: int,
) -> DataFrame:
    schema = T.StructType(
        [T.StructField(h, T.StringType()) for h in header] + [T.StructField(CORRUPT, T.StringType())]
    )
    frame = (
        spark.read.schema(schema)
        .options(
            header=True,
            enforceSchema=True,
            mode="PERMISSIVE",
            columnNameOfCorruptRecord=CORRUPT,
            multiLine=scanned.multiline,
            encoding="GB18030" if upload.detected.encoding == "gb18030" else "UTF-8",
            sep=upload.detected.delimiter,
            quote='"',
            escape='"',
            nullValue="",
        )
        .csv(str(path))
    )
    text = {h.strip(): _name(h) for h in header}
    converted, flags = [], []
    for i, col in enumerate(dataset.columns):
        cell = F.when(text[col.name] != "", text[col.name])
        value, bad = _typed(cell, col)
        control = F.lit(False)
        if col.type is ColumnType.STRING:
            bad, control = _unclean(cell, max_field_chars, scanned.control)
        converted.append(value.alias(col.name))
        flags += [bad.alias(_flag(i)), control.alias(_control(i))]
    return frame.select(
        F.lit(index).alias(SOURCE),
        F.col("_metadata.file_block_start").alias(BLOCK),
        F.monotonically_increasing_id().alias(ROW),
        F.col(CORRUPT).isNotNull().alias(MALFORMED),
        *converted,
        *flags,
    )


def _typed(text: SparkColumn, col: Column) -> tuple[SparkColumn, SparkColumn]:
    """The typed value and a "refused" flag, by the grammar the Arrow engine applies."""
    if col.type is ColumnType.STRING:
        return text, F.lit(False)
    if col.type is ColumnType.BOOLEAN:
        value = F.when(text.isin(*TRUE_VALUES), F.lit(True)).when(text.isin(*FALSE_VALUES), F.lit(False))
    else:
        value = F.when(text.rlike(PATTERNS[col.type]), text.try_cast(SPARK_TYPES[col.type]))
    return value, text.isNotNull() & value.isNull()


def _unclean(text: SparkColumn, max_chars: int, may_hold_control: bool) -> tuple[SparkColumn, SparkColumn]:
    """A "refused" and a "control character" flag for a text cell, by :mod:`hygiene`'s rules.
    Cells are searched for control characters only if the byte scan found one in the file."""
    control = text.rlike(CONTROL_PATTERN) if may_hold_control else F.lit(False)
    bad = control | (F.length(text) > max_chars)
    return F.coalesce(bad, F.lit(False)), F.coalesce(control, F.lit(False))


def _name(name: str) -> SparkColumn:
    return F.col("`" + name.replace("`", "``") + "`")


def _flag(i: int) -> str:
    return f"__bad_{i}"


def _control(i: int) -> str:
    return f"__control_{i}"


def _failure(
    checked: DataFrame, source: int, bad, upload: Upload, width: int, dataset: Dataset, max_field_chars: int
) -> IngestRejected:
    """Turn the first refused row (by split offset, then row id) into a located rejection."""
    blocks = sorted(
        checked.where(F.col(SOURCE) == source)
        .groupBy(BLOCK)
        .agg(F.count(F.lit(1)).alias("rows"), F.min(ROW).alias("first"))
        .collect(),
        key=lambda r: r[BLOCK],
    )
    before = sum(b["rows"] for b in blocks if b[BLOCK] < bad[BLOCK])
    first = next(b["first"] for b in blocks if b[BLOCK] == bad[BLOCK])
    offset, line = locate.split_start(upload.path, bad[BLOCK])
    where, fields = locate.csv_record(
        upload.path,
        upload.detected.encoding,
        upload.detected.delimiter,
        before + bad[ROW] - first,
        offset=offset,
        first_line=line,
        first_record=before,
    )
    if bad[MALFORMED]:
        return reasons.malformed_row(upload.name, where, fields, width)
    i, column = next((i, c) for i, c in enumerate(dataset.columns) if bad[_flag(i)])
    if bad[_control(i)]:
        return reasons.control_character(upload.name, column.name, where)
    if column.type is ColumnType.STRING:
        return reasons.oversized_field(upload.name, column.name, where, max_field_chars)
    return reasons.type_mismatch(upload.name, column.name, column.type, where)


def _adopt_parts(out: Path, staging: Path) -> list[str]:
    """Keep Spark's data files under stable names; drop its markers and checksums."""
    names = []
    for i, part in enumerate(sorted(out.glob("part-*.parquet"))):
        names.append(f"part-{i:05d}.parquet")
        os.rename(part, staging / names[-1])
    shutil.rmtree(out)
    return names


def _duplicate_key_count(spark: SparkSession, files: list[Path], keys: tuple[str, ...]) -> int:
    """Same rule as the Arrow engine: rows with every key part present, minus distinct keys."""
    if not keys:
        return 0
    complete = reduce(SparkColumn.__and__, [_name(k).isNotNull() for k in keys])
    row = (
        spark.read.parquet(*(str(f) for f in files))
        .agg(
            F.count(F.when(complete, 1)).alias("keyed"),
            F.count_distinct(*(_name(k) for k in keys)).alias("distinct"),
        )
        .first()
    )
    return row["keyed"] - row["distinct"]
