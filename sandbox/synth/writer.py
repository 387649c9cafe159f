"""Deterministic CSV output: UTF-8, one unquoted header line, strings quoted (RFC 4180).

Doubles are written as fixed two-decimal text (see ``strings.fixed2``), dates as YYYY-MM-DD,
timestamps as ``YYYY-MM-DD HH:MM:SS``, booleans as true/false; a blank field is a null.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from sandbox.synth.strings import fixed2


def write_csv(path: Path, columns: dict[str, pa.Array], order: tuple[str, ...]) -> None:
    if tuple(columns) != order:
        raise ValueError(f"{path.name}: columns {tuple(columns)} differ from the catalog's {order}")
    arrays = [fixed2(a) if pa.types.is_floating(a.type) else a for a in columns.values()]
    table = pa.table(arrays, names=list(order))
    with path.open("wb") as sink:
        sink.write((",".join(order) + "\n").encode())
        pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
