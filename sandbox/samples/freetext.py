"""Free text: Presidio analyze + anonymize with the Chinese recognizers, in parallel on Ray.

Each identifier found is replaced by its entity label (``<CN_MOBILE>``), so the remark still
reads as a remark. Ray's ``map_batches`` runs one ``Redactor`` per worker (an actor that builds
its analyzer once); blank cells are never analyzed.
"""

from __future__ import annotations

import pyarrow as pa
from presidio_anonymizer import AnonymizerEngine

from sandbox.samples.recognizers import LANGUAGE, analyzer

ROW = "__row"


class Redactor:
    """Redacts every column of a batch except the row number; one per worker, reused across batches."""

    def __init__(self) -> None:
        self.analyzer = analyzer()
        self.anonymizer = AnonymizerEngine()

    def text(self, text: str | None) -> str | None:
        if text is None or not text.strip():
            return text
        found = self.analyzer.analyze(text=text, language=LANGUAGE)
        return self.anonymizer.anonymize(text=text, analyzer_results=found).text if found else text

    def __call__(self, batch: pa.Table) -> pa.Table:
        columns = {
            name: pa.array([self.text(v) for v in batch.column(name).to_pylist()], pa.string())
            for name in batch.column_names
            if name != ROW
        }
        return pa.table({ROW: batch.column(ROW), **columns})


def redact_locally(table: pa.Table, columns: list[str]) -> pa.Table:
    """The same redaction in this process (the baseline Ray is measured against)."""
    return Redactor()(table.select([ROW, *columns]))


def redact_on_ray(
    ray, table: pa.Table, columns: list[str], *, workers: int = 2, batch_size: int = 2000
) -> pa.Table:
    """``table``'s free-text ``columns`` redacted by ``workers`` Ray actors; rows come back in order."""
    import pyarrow.compute as pc

    dataset = ray.data.from_arrow(table.select([ROW, *columns]))
    redacted = dataset.map_batches(
        Redactor, batch_format="pyarrow", batch_size=batch_size, concurrency=workers, num_cpus=1
    )
    result = pa.concat_tables(ray.get(redacted.to_arrow_refs()))
    return result.take(pc.sort_indices(result.column(ROW)))


def redact_free_text(ray, table: pa.Table, columns: list[str], *, workers: int = 2) -> pa.Table:
    """Replace ``columns`` of ``table`` by their redacted text (the table keeps its row order)."""
    if not columns or table.num_rows == 0:
        return table
    numbered = table.append_column(ROW, pa.array(range(table.num_rows), pa.int64()))
    redacted = redact_on_ray(ray, numbered, columns, workers=workers)
    for name in columns:
        table = table.set_column(table.schema.get_field_index(name), name, redacted.column(name))
    return table
