"""A streaming pass over a large text upload before Spark reads it.

Spark decodes leniently (bad bytes silently become U+FFFD) and cannot say whether quoted values
span lines, which decides if it may split the file. One sequential pass here hashes the bytes,
decodes them strictly, watches quote parity at every newline, and notes whether any refused
control character occurs (only then does Spark look for them cell by cell), in bounded memory.

The file is cut into pieces that end at a newline: ``"`` (0x22) and ``\\n`` (0x0A) never occur
inside a multi-byte UTF-8 or GB18030 character, so each piece decodes on its own and byte-level
quote parity is exact (a doubled quote flips parity twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from sandbox.catalog.ingest import reasons
from sandbox.catalog.ingest.hygiene import has_control_bytes

CHUNK = 16 * 1024 * 1024
_QUOTE, _NEWLINE = ord('"'), ord("\n")


@dataclass(frozen=True)
class Scanned:
    multiline: bool  # a quoted value contains a newline: Spark must read the file as one piece
    control: bool  # a refused control character occurs somewhere (``hygiene.has_control_bytes``)


def scan_text(path: Path, name: str, encoding: str, digest) -> Scanned:
    """Feed ``path``'s bytes to ``digest``, refuse undecodable text, and say what Spark must know."""
    offset = lines = 0  # where the current piece starts: byte offset, newlines before it
    carry = b""
    open_quote = multiline = control = False
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            digest.update(chunk)
            data = carry + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            piece, carry = data[:cut], data[cut:]
            _check_decodes(piece, encoding, name, offset, lines)
            if not multiline:
                multiline, open_quote = _quoted_newline(piece, open_quote)
            control = control or has_control_bytes(piece)
            offset += len(piece)
            lines += piece.count(b"\n")
            if not chunk:
                return Scanned(multiline, control)


def _check_decodes(piece: bytes, encoding: str, name: str, offset: int, lines: int) -> None:
    if encoding == "gb18030":
        try:
            piece.decode("gb18030")
        except UnicodeDecodeError as err:
            at = err.start
        else:
            return
        label = "GB18030"
    else:
        try:
            pa.array([piece], pa.binary()).cast(pa.string())  # SIMD UTF-8 validation
            return
        except pa.ArrowInvalid:
            at = _utf8_error(piece)
        label = "UTF-8"
    raise reasons.undecodable(name, lines + piece.count(b"\n", 0, at) + 1, offset + at, label)


def _utf8_error(piece: bytes) -> int:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start
    raise AssertionError("Arrow and Python disagree on UTF-8 validity")


def _quoted_newline(piece: bytes, open_quote: bool) -> tuple[bool, bool]:
    """Whether a newline in ``piece`` falls inside quotes, and the quote parity at its end."""
    if b'"' not in piece:
        return open_quote and b"\n" in piece, open_quote
    data = np.frombuffer(piece, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    newlines = np.flatnonzero(data == _NEWLINE)
    before = np.searchsorted(quotes, newlines) + open_quote  # quotes preceding each newline
    return bool((before & 1).any()), bool((len(quotes) + open_quote) & 1)
