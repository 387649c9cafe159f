"""Vectorised identifiers: resident ID numbers, USCCs, mobile and landline numbers.

Numbers are built as ASCII byte matrices (one row per number) so a million of them cost a few
numpy operations, not a million Python calls. The check characters follow the standards:
GB 11643 (ISO 7064 MOD 11-2) for resident IDs, GB 32100 for USCCs and GB 11714 for the
organisation code embedded in a USCC; ``stdnum`` validates what comes out (see the tests).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)  # index: weighted sum mod 11
USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])

_USCC_INDEX = np.full(256, -1, dtype=np.int64)
_USCC_INDEX[USCC_ALPHABET] = np.arange(len(USCC_ALPHABET))
_ZERO = ord("0")


def to_strings(matrix: np.ndarray) -> pa.Array:
    """An (n, width) uint8 ASCII matrix as an Arrow string array."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(matrix)])


def to_matrix(values: pa.Array | np.ndarray, width: int) -> np.ndarray:
    """Fixed-width ASCII strings back to an (n, width) uint8 matrix."""
    raw = np.asarray(values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array) else values)
    return raw.astype(f"S{width}").view(np.uint8).reshape(-1, width).copy()


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digit columns."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + _ZERO).astype(np.uint8)


def resident_id_check(body: np.ndarray) -> np.ndarray:
    """Check characters (ASCII) for an (n, 17) matrix of ID digits."""
    total = ((body.astype(np.int64) - _ZERO) * ID_WEIGHTS).sum(axis=1)
    return ID_CHECK[total % 11]


def resident_ids(region: np.ndarray, birth: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """18-character resident IDs as an (n, 18) matrix.

    ``region`` holds six-digit district codes as integers, ``birth`` datetime64[D] dates and
    ``sequence`` the three-digit order code whose parity carries the sex (odd = male).
    """
    days = birth.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10000 + months * 100 + dom
    out = np.empty((len(days), 18), dtype=np.uint8)
    out[:, 0:6] = digit_matrix(region, 6)
    out[:, 6:14] = digit_matrix(ymd, 8)
    out[:, 14:17] = digit_matrix(sequence, 3)
    out[:, 17] = resident_id_check(out[:, :17])
    return out


def org_code_check(body: np.ndarray) -> np.ndarray:
    """GB 11714 check characters for an (n, 8) matrix of organisation-code characters."""
    b = body.astype(np.int64)
    values = np.where(b >= ord("A"), b - ord("A") + 10, b - _ZERO)
    c = 11 - (values * ORG_WEIGHTS).sum(axis=1) % 11
    return np.where(c == 10, ord("X"), np.where(c == 11, _ZERO, c + _ZERO)).astype(np.uint8)


def uscc_check(body: np.ndarray) -> np.ndarray:
    """GB 32100 check characters for an (n, 17) matrix."""
    total = (_USCC_INDEX[body] * USCC_WEIGHTS).sum(axis=1)
    return USCC_ALPHABET[(31 - total % 31) % 31]


def usccs(
    rng: np.random.Generator, kind: np.ndarray, region: np.ndarray, new_style: np.ndarray
) -> np.ndarray:
    """USCCs as an (n, 18) matrix: two-character registrant kind ("91", "92", "52", …), region, org code.

    Organisations registered after the 2015 reform get an organisation code starting "MA";
    older ones keep an all-digit code. Uniqueness is the caller's business (see ``World``).
    """
    n = len(kind)
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, 0:2] = np.asarray(kind, dtype="S2").view(np.uint8).reshape(n, 2)
    out[:, 2:8] = digit_matrix(region, 6)
    letters = USCC_ALPHABET[rng.integers(0, len(USCC_ALPHABET), (n, 6))]
    digits = rng.integers(0, 10, (n, 8)).astype(np.uint8) + _ZERO
    org = digits.copy()
    org[new_style, 0] = ord("M")
    org[new_style, 1] = ord("A")
    org[new_style, 2:8] = letters[new_style]
    out[:, 8:16] = org
    out[:, 16] = org_code_check(org)
    out[:, 17] = uscc_check(out[:, :17])
    return out


def mobiles(rng: np.random.Generator, n: int, prefixes: np.ndarray) -> np.ndarray:
    """11-digit mobile numbers on real carrier prefixes, as an (n, 11) matrix."""
    out = np.empty((n, 11), dtype=np.uint8)
    out[:, 0:3] = digit_matrix(prefixes[rng.integers(0, len(prefixes), n)], 3)
    out[:, 3:11] = rng.integers(0, 10, (n, 8)).astype(np.uint8) + _ZERO
    return out


def landlines(rng: np.random.Generator, n: int, area_code: str) -> np.ndarray:
    """Landlines "AAAA-NNNNNNN" whose local number starts with 2-8, as an (n, 12) matrix."""
    out = np.empty((n, 12), dtype=np.uint8)
    out[:, 0:4] = np.frombuffer(area_code.encode(), dtype=np.uint8)
    out[:, 4] = ord("-")
    out[:, 5] = rng.integers(2, 9, n).astype(np.uint8) + _ZERO
    out[:, 6:12] = rng.integers(0, 10, (n, 6)).astype(np.uint8) + _ZERO
    return out


def wrong_check(rng: np.random.Generator, matrix: np.ndarray, alphabet: np.ndarray) -> np.ndarray:
    """Copies of the numbers with the last character replaced by a different one of ``alphabet``."""
    out = matrix.copy()
    index = np.searchsorted(np.sort(alphabet), out[:, -1])
    shift = rng.integers(1, len(alphabet), len(out))
    out[:, -1] = np.sort(alphabet)[(index + shift) % len(alphabet)]
    return out


def serials(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """1-based serial numbers, distinct within each group value, handed out in random order."""
    order = np.lexsort((rng.random(len(group)), group))
    starts = (
        np.r_[0, np.flatnonzero(np.diff(group[order])) + 1] if len(group) else np.zeros(0, dtype=np.int64)
    )
    out = np.empty(len(group), dtype=np.int64)
    out[order] = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)])) + 1
    return out


def unique_numbers(rng: np.random.Generator, n: int, digits: int) -> np.ndarray:
    """``n`` distinct integers of exactly ``digits`` digits, in random order."""
    low, high = 10 ** (digits - 1), 10**digits
    values = np.unique(rng.integers(low, high, n + n // 10 + 16))
    while len(values) < n:
        values = np.unique(np.r_[values, rng.integers(low, high, n)])
    return rng.permutation(values)[:n]
