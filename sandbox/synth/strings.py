"""Arrow string helpers: the few column-at-a-time string operations the generators need."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Part = pa.Array | str


def take(pool: Sequence[str] | np.ndarray, index: np.ndarray) -> pa.Array:
    """``pool[index]`` as an Arrow string array, without a Python loop per row."""
    return pa.array(list(pool), type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def text(values: np.ndarray) -> pa.Array:
    """A numpy string array as one Arrow string array (``pa.array`` may chunk large ones)."""
    pool, index = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return take(pool, index)


def join(*parts: Part) -> pa.Array:
    """Concatenate string arrays and literals element-wise; a null part makes the row null."""
    scalars = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*scalars, "")


def where(condition: np.ndarray, then: Part, otherwise: Part | None) -> pa.Array:
    """Row-wise choice between two string columns (or literals); ``None`` means null."""
    other = (
        pa.scalar(otherwise, pa.string()) if otherwise is None or isinstance(otherwise, str) else otherwise
    )
    chosen = pa.scalar(then, pa.string()) if isinstance(then, str) else then
    return pc.if_else(pa.array(np.asarray(condition, dtype=bool)), chosen, other)


def number(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal strings, zero-padded to ``width``."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def fixed2(values: pa.Array) -> pa.Array:
    """Doubles as two-decimal fixed-point numbers (Arrow decimal128), rounded to the fen.

    Arrow's CSV writer would print large doubles in exponent form; decimals print as plain
    digits ("-12.50"), unquoted, so the files stay readable and exact.
    """
    return pc.cast(values, pa.decimal128(18, 2), safe=False)


def csv_text(values: pa.Array) -> pa.Array:
    """A column as the exact text the CSV files carry: what ground truth and keys are made of."""
    if pa.types.is_floating(values.type):
        return pc.cast(fixed2(values), pa.string())
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    if pa.types.is_timestamp(values.type):
        return pc.strftime(values, "%Y-%m-%d %H:%M:%S")
    return pc.cast(values, pa.string())
