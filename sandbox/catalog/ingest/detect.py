"""What an upload is: its format (magic bytes first, extension second) and its text encoding.

Providers send whatever their systems export — Excel-saved GBK CSVs, UTF-8 with or without BOM,
Parquet from a data platform — and rarely say which, so the content decides. GBK-family text is
always decoded as GB18030, its superset, so characters outside GB2312 survive.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import charset_normalizer
import pyarrow as pa

from sandbox.catalog.ingest import reasons
from sandbox.catalog.ingest.hygiene import CONTROL_BYTES
from sandbox.domain.errors import IngestRejected

HEAD_BYTES = 64 * 1024
GBK_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "cp936"})


class Format(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Detected:
    format: Format
    encoding: str | None = None  # Python codec name for text formats
    delimiter: str = ","


_MAGIC_UNSUPPORTED = {
    b"\xd0\xcf\x11\xe0": "旧版 Excel .xls / legacy Excel .xls",
    b"\x1f\x8b": "gzip",
    b"7z\xbc\xaf": "7z",
    b"Rar!": "rar",
    b"%PDF": "PDF",
}


def classify(path: Path, name: str) -> Detected:
    """Classify one upload from its first bytes; raises ``empty`` or ``unsupported_format``."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        complete = not fh.read(1)
    if not head.strip():
        raise reasons.empty(name)
    ext = path.suffix.lower()
    if head.startswith(b"PAR1") or ext == ".parquet":
        return Detected(Format.PARQUET)
    if head.startswith(b"PK\x03\x04") or ext in (".xlsx", ".xlsm"):
        return Detected(Format.XLSX)
    for magic, what in _MAGIC_UNSUPPORTED.items():
        if head.startswith(magic):
            raise reasons.unsupported_format(name, what)
    encoding = detect_encoding(head, complete, name)
    start = head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    if start == "[":
        raise reasons.unsupported_format(name, "JSON 数组 / JSON array; use JSON Lines")
    if ext in (".jsonl", ".ndjson", ".json") or start == "{":
        return Detected(Format.JSONL, encoding)
    return Detected(Format.CSV, encoding, "\t" if ext == ".tsv" else ",")


def detect_encoding(head: bytes, complete: bool, name: str) -> str:
    """UTF-8 (with or without BOM) if the sample decodes strictly, else GB18030 if
    charset-normalizer sees any GBK-family candidate in the sample's decodable prefix.

    Short GBK samples are often ranked cp949 or big5 first, hence "any candidate", not "best":
    Chinese government data is far likelier GBK than Korean. Judging only the prefix that
    decodes as GB18030 lets a GBK file with one damaged byte be refused at that byte.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise reasons.unknown_encoding(name, "utf-16")
    bom = head.startswith(codecs.BOM_UTF8)
    utf8_error = _decode_error(head, "utf-8", complete)
    if utf8_error is None:
        return "utf-8-sig" if bom else "utf-8"
    gb_error = _decode_error(head, "gb18030", complete)
    # Control characters say nothing about the encoding but make charset-normalizer give up on the
    # sample as binary; they are refused later, with their line and column (``hygiene``).
    sample = head[:gb_error].translate(None, CONTROL_BYTES)
    candidates = [m.encoding for m in charset_normalizer.from_bytes(sample)]
    if not bom and any(c in GBK_FAMILY for c in candidates):
        if gb_error is None:
            return "gb18030"
        raise reasons.undecodable(name, head.count(b"\n", 0, gb_error) + 1, gb_error, "GB18030")
    if bom or gb_error is not None or not candidates:
        raise reasons.undecodable(name, head.count(b"\n", 0, utf8_error) + 1, utf8_error, "UTF-8")
    raise reasons.unknown_encoding(name, candidates[0])


def _decode_error(data: bytes, encoding: str, final: bool) -> int | None:
    """Byte offset of the first undecodable byte, or None; a sample may end mid-character."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError as err:
        return err.start
    return None


def to_utf8(data: pa.Buffer, encoding: str, name: str) -> pa.Buffer:
    """Arrow parses UTF-8 only: transcode the GBK family strictly, naming where it fails.

    UTF-8 input is returned as is; Arrow validates it and :func:`utf8_failure` locates a failure.
    """
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    raw = data.to_pybytes()
    try:
        return pa.py_buffer(raw.decode(encoding).encode("utf-8"))
    except UnicodeDecodeError as err:
        raise reasons.undecodable(name, raw.count(b"\n", 0, err.start) + 1, err.start, "GB18030") from None


def utf8_failure(data: pa.Buffer, name: str) -> IngestRejected | None:
    """The ``undecodable`` rejection for the first invalid UTF-8 byte of ``data``, if any."""
    raw = data.to_pybytes()
    offset = _decode_error(raw, "utf-8", True)
    if offset is None:
        return None
    return reasons.undecodable(name, raw.count(b"\n", 0, offset) + 1, offset, "UTF-8")
