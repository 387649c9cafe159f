"""The records passed between the ingest steps and the one handed back to the catalog service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox.catalog.ingest.detect import Detected


@dataclass(frozen=True)
class Upload:
    path: Path
    name: str
    size: int
    detected: Detected

    def source(self) -> dict[str, str | int | None]:
        return {
            "file": self.name,
            "format": self.detected.format.value,
            "encoding": self.detected.encoding,
            "bytes": self.size,
        }


@dataclass(frozen=True)
class EngineOutput:
    """What an engine leaves in the staging directory and learned on the way."""

    row_count: int
    files: list[str]
    duplicate_key_count: int
    content_sha256: str


@dataclass(frozen=True)
class ConvertedVersion:
    """A published raw version: its files under ``target_dir`` and what the catalog records.

    ``content_sha256`` covers the uploaded bytes (all files, in the given order), so a re-upload
    of the same delivery is recognisable; ``schema_hash`` covers the written Parquet schema.
    """

    row_count: int
    schema_hash: str
    content_sha256: str
    files: tuple[str, ...]
    sources: tuple[dict[str, str | int | None], ...]
    duplicate_key_count: int
    engine: str
