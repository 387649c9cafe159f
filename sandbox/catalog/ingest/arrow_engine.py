"""The in-memory engine: each upload is read whole with Arrow, typed, checked and written.

Used below the Spark threshold, i.e. whenever the data fits comfortably in memory; everything
is vectorized, and the upload hash and duplicate count run on a second thread beside parsing
and writing (hashlib and Arrow release the GIL).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from sandbox.catalog.ingest import readers
from sandbox.catalog.ingest.model import EngineOutput, Upload
from sandbox.catalog.ingest.validate import check_duplicates, conform, duplicate_key_count
from sandbox.catalog.ingest.writer import write_parts
from sandbox.domain.catalog import Dataset


def convert(dataset: Dataset, uploads: list[Upload], staging: Path, max_field_chars: int) -> EngineOutput:
    digest = hashlib.sha256()
    tables = []
    with ThreadPoolExecutor(max_workers=1) as helper:
        for upload in uploads:
            with pa.OSFile(str(upload.path)) as fh:
                data = fh.read_buffer()
            helper.submit(digest.update, data)
            raw = readers.read(data, upload.detected, upload.name, dataset, max_field_chars)
            tables.append(
                conform(raw.table, dataset, upload.name, raw.where, max_field_chars=max_field_chars)
            )
        table = pa.concat_tables(tables)
        duplicates = helper.submit(duplicate_key_count, table, dataset.keys)
        files = write_parts(table, staging)
        check_duplicates(dataset, duplicates.result(), table.num_rows)
    return EngineOutput(table.num_rows, files, duplicates.result(), digest.hexdigest())
