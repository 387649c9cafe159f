"""Released tables as the delivery API and the consumer's pages read them: verified and parsed once per
file state.

Only the top-level ``<output>.parquet`` files a version's release manifest lists are tables, and each
is read only if its bytes hash to what the release recorded (the bytes that are hashed are the bytes
that are parsed, so nothing can change between the check and the read). A table is hashed and parsed
once per file state: its (device, inode, size, mtime, ctime) is compared on every read, and any write,
truncation, replacement, rename over, ``chmod`` or ``touch`` changes the ctime (which no process sets
at will) or the inode, so the file is hashed again and refused if it differs; a state seen within
``SETTLED_NS`` of its own timestamps is not trusted (a change in the same clock tick would keep them),
it is hashed again each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.products import versions
from sandbox.products.versions import ProductFilesChanged
from sandbox.store.models import ProductVersionRow

#: A file whose last change is not this much older than the moment it was hashed is hashed again on
#: every read: file timestamps come from a coarse clock, and a change within the same tick would not
#: move them (git's "racily clean" entries, for the same reason).
SETTLED_NS = 1_000_000_000
_PARSED: OrderedDict[str, pa.Table] = OrderedDict()  # content hash -> table
_PARSED_MAX = 32
#: (path, content hash) -> (the file's state when it was verified, the table)
_VERIFIED: OrderedDict[tuple[str, str], tuple[tuple[int, ...], pa.Table]] = OrderedDict()
_VERIFIED_MAX = 256
_TABLES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Released:
    """A released version as the query path reads it: the columns of ``ProductVersionRow`` it needs."""

    product_id: str
    version: int
    path: str  # relative to the products zone
    files_json: str | None
    released_at: str


@lru_cache(maxsize=256)
def _manifest(files_json: str) -> dict[str, str]:
    return json.loads(files_json)  # shared: never changed by a caller


def tables_of(row: ProductVersionRow | Released) -> dict[str, str]:
    """The version's released tables: output name -> manifest entry (top-level Parquet files only)."""
    files = _manifest(row.files_json) if row.files_json else {}
    return {
        name.removesuffix(".parquet"): name
        for name in sorted(files)
        if "/" not in name and name.endswith(".parquet")
    }


def state_of(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_table(row: ProductVersionRow | Released, directory: Path, name: str) -> pa.Table:
    """One released table, refused (``ProductFilesChanged``) unless its bytes hash to the release manifest's."""
    return read_checked(row, name, str(directory / name), lambda: directory / name)[0]


def read_checked(
    row: ProductVersionRow | Released, name: str, path: str, checked: Callable[[], Path]
) -> tuple[pa.Table, str]:
    """The table and its content hash. ``path`` is where the file is; ``checked`` gives the same path
    checked against its zone, which a file not yet verified in its current state must pass."""
    if row.files_json is None:
        versions.released_files(row, checked().parent)  # raises: released without a manifest
    digest = _manifest(row.files_json)[name]
    key = (path, digest)
    try:
        now = state_of(os.stat(path))
    except OSError:
        now = None
    with _TABLES_LOCK:
        known = _VERIFIED.get(key)
        if known is not None and known[0] == now:
            _VERIFIED.move_to_end(key)
            return known[1], digest
        _VERIFIED.pop(key, None)
    started = time.time_ns()
    try:
        with open(checked(), "rb") as file:
            before = os.fstat(file.fileno())
            data = file.read()
            after = os.fstat(file.fileno())
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        raise ProductFilesChanged(
            f"{row.product_id} v{row.version} 的文件 {name} 缺失或与发布时不同，拒绝提供",
            f"{row.product_id} v{row.version}: file {name} is missing or differs from its release; not served",
        )
    with _TABLES_LOCK:
        table = _PARSED.get(digest)
    if table is None:
        table = pq.read_table(pa.BufferReader(data))
    state = state_of(before)
    settled = state == state_of(after) and max(before.st_mtime_ns, before.st_ctime_ns) < started - SETTLED_NS
    with _TABLES_LOCK:
        _PARSED[digest] = table
        _PARSED.move_to_end(digest)
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
        if settled:
            _VERIFIED[key] = (state, table)
            while len(_VERIFIED) > _VERIFIED_MAX:
                _VERIFIED.popitem(last=False)
    return table, digest
