"""Keyed, format-preserving pseudonyms as Spark column expressions: no Python runs per cell.

HMAC-SHA256 is built from Spark's native ``sha2`` (H(K⊕opad ‖ H(K⊕ipad ‖ m)), RFC 2104), with
one sub-key per identifier kind derived from the authorization's key. The same person or
enterprise therefore gets the same pseudonym in every dataset of every sample made under that
authorization, and joins still work; a new authorization gets unrelated pseudonyms.

Where developers' validation code expects a format, the pseudonym keeps it: resident IDs get a
real date and a valid MOD 11-2 check character, USCCs a valid GB 11714 organisation-code check
and GB 32100 check character, bank cards a Luhn digit. Pseudonymous resident IDs and USCCs use
region codes starting with 9, which no real division has, so a pseudonym can never be taken
for (or collide with) a real number. The embedded date and sequence carry no information about
the person: neither birth date nor sex can be read from a pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sandbox.samples.checks import ID_CHECK, ID_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS
from sandbox.samples.names import COMMON_SURNAMES, synthetic_given_pool

_BLOCK = 64
_GB11714_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                    "153", "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183",
                    "185", "186", "187", "188", "189", "199")  # fmt: skip
_DAYS_1930_2019 = 32872
_SEPARATOR = "\x1f"  # the ASCII unit separator: in no pool value


def subkey(key: bytes, purpose: str) -> bytes:
    """One key per identifier kind (or purpose), derived from the authorization's key."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


def hmac_hex(key: bytes, value: Column) -> Column:
    """HMAC-SHA256 of the UTF-8 value as 64 hex characters; null stays null."""
    padded = (
        key.ljust(_BLOCK, b"\0") if len(key) <= _BLOCK else hashlib.sha256(key).digest().ljust(_BLOCK, b"\0")
    )
    inner_key = bytes(b ^ 0x36 for b in padded)
    outer_key = bytes(b ^ 0x5C for b in padded)
    message = F.encode(value.cast("string"), "UTF-8")
    inner = F.unhex(F.sha2(F.concat(F.lit(bytearray(inner_key)), message), 256))
    return F.sha2(F.concat(F.lit(bytearray(outer_key)), inner), 256)


def number(digest: Column, slot: int, modulo: int) -> Column:
    """An integer in [0, modulo) from 12 hex characters (48 bits) of the digest; slots 0-4."""
    return F.pmod(F.conv(F.substring(digest, 1 + 12 * slot, 12), 16, 10).cast("long"), F.lit(modulo))


def _digits(value: Column, width: int) -> Column:
    return F.lpad(value.cast("string"), width, "0")


def _pick(pool: str | tuple[str, ...] | tuple[int, ...], index: Column) -> Column:
    # the pool as one string literal split into an array, which the optimizer folds into an array
    # literal: two gateway calls to build instead of one per value (a name pool holds hundreds)
    values = F.split(F.lit(_SEPARATOR.join(map(str, pool))), _SEPARATOR)
    if all(isinstance(v, int) for v in pool):
        values = values.cast("array<int>")
    # element_at on a literal array does not return null for a null index in Spark 4: guard it
    return F.when(index.isNull(), None).otherwise(F.element_at(values, (index + 1).cast("int")))


def normalized(value: Column) -> Column:
    """What identifies the same thing in two datasets: trimmed, upper case, blank as null."""
    text = F.upper(F.trim(value.cast("string")))
    return F.when(text == "", None).otherwise(text)


def _staged(df: DataFrame, column: str, stage: str, expression: Column) -> tuple[DataFrame, Column]:
    """Materialize an intermediate column, so Spark computes it once instead of inlining it per use."""
    name = f"__{stage}_{column}"
    return df.withColumn(name, expression), F.col(name)


def _finish(df: DataFrame, column: str, expression: Column) -> DataFrame:
    return df.withColumn(column, expression).drop(
        *[c for c in df.columns if c.endswith(f"_{column}") and c.startswith("__")]
    )


def _digit(value: Column, position: int) -> Column:
    """The decimal digit ``position`` places from the right of a non-negative integer column."""
    return F.pmod((value / F.lit(10**position)).cast("long"), F.lit(10))


def _weighted_digits(value: Column, width: int, weights: tuple[int, ...]) -> Column:
    """Σ weight × digit over a ``width``-digit number written left to right: arithmetic, no strings."""
    return reduce(
        lambda a, b: a + b, [_digit(value, width - 1 - i) * F.lit(w) for i, w in enumerate(weights)]
    )


def resident_id(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """18-character pseudonymous resident ID: region 9xxxxx, a date in 1930-2019, a valid check character."""
    df, digest = _staged(
        df, column, "digest", hmac_hex(subkey(key, "cn_resident_id"), normalized(F.col(column)))
    )
    df, region = _staged(df, column, "region", number(digest, 0, 100_000))
    born = F.date_add(F.lit("1930-01-01").cast("date"), number(digest, 1, _DAYS_1930_2019).cast("int"))
    df, ymd = _staged(
        df, column, "ymd", (F.year(born) * 10000 + F.month(born) * 100 + F.dayofmonth(born)).cast("long")
    )
    df, seq = _staged(df, column, "seq", number(digest, 2, 1000))
    w = ID_WEIGHTS
    total = (
        F.lit(9 * w[0])
        + _weighted_digits(region, 5, w[1:6])
        + _weighted_digits(ymd, 8, w[6:14])
        + _weighted_digits(seq, 3, w[14:17])
    )
    text = F.concat(
        F.lit("9"),
        _digits(region, 5),
        ymd.cast("string"),
        _digits(seq, 3),
        _pick(ID_CHECK, F.pmod(total, F.lit(11))),
    )
    return _finish(df, column, text)


def uscc(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """18-character pseudonymous USCC: the registrant kind kept, region 99xxxx, valid check characters."""
    df, clean = _staged(df, column, "clean", normalized(F.col(column)))
    df, digest = _staged(df, column, "digest", hmac_hex(subkey(key, "cn_uscc"), clean))
    kind = F.when(
        F.substring(clean, 1, 2).rlike("^[0-9A-HJ-NPQRTUWXY]{2}$"), F.substring(clean, 1, 2)
    ).otherwise(F.lit("91"))
    df, kind = _staged(df, column, "kind", kind)
    df, region = _staged(df, column, "region", number(digest, 0, 10_000))
    df, org = _staged(
        df, column, "org", number(digest, 1, 31**8)
    )  # eight base-31 digits: the organisation code
    index = [F.pmod((org / F.lit(31 ** (7 - j))).cast("long"), F.lit(31)) for j in range(8)]
    df, org_index = _staged(df, column, "orgindex", F.array(*index))
    at = [F.element_at(org_index, j + 1) for j in range(8)]
    gb11714 = tuple(_GB11714_VALUES.index(c) for c in USCC_ALPHABET)
    org_c = F.lit(11) - F.pmod(
        reduce(lambda a, b: a + b, [_pick(gb11714, at[j]) * F.lit(w) for j, w in enumerate(_ORG_WEIGHTS)]),
        F.lit(11),
    )
    df, org_check = _staged(
        df,
        column,
        "orgcheck",
        F.when(org_c == 10, USCC_ALPHABET.index("X")).when(org_c == 11, 0).otherwise(org_c),
    )
    kind_total = (F.instr(F.lit(USCC_ALPHABET), F.substring(kind, 1, 1)) - 1) * USCC_WEIGHTS[0] + (
        F.instr(F.lit(USCC_ALPHABET), F.substring(kind, 2, 1)) - 1
    ) * USCC_WEIGHTS[1]
    region_total = F.lit(9 * USCC_WEIGHTS[2] + 9 * USCC_WEIGHTS[3]) + _weighted_digits(
        region, 4, USCC_WEIGHTS[4:8]
    )
    org_total = (
        reduce(lambda a, b: a + b, [at[j] * F.lit(USCC_WEIGHTS[8 + j]) for j in range(8)])
        + org_check * USCC_WEIGHTS[16]
    )
    check = F.pmod(F.lit(31) - F.pmod(kind_total + region_total + org_total, F.lit(31)), F.lit(31))
    chars = F.concat(
        *[_pick(USCC_ALPHABET, a) for a in at], _pick(USCC_ALPHABET, org_check), _pick(USCC_ALPHABET, check)
    )
    return _finish(
        df,
        column,
        F.when(digest.isNull(), None).otherwise(F.concat(kind, F.lit("99"), _digits(region, 4), chars)),
    )


def _digits_only(column: str) -> Column:
    return F.regexp_replace(normalized(F.col(column)), r"[^0-9]", "")


def mobile(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """An 11-digit mobile number on a real carrier prefix, the same for the same number."""
    df, digest = _staged(df, column, "digest", hmac_hex(subkey(key, "cn_mobile"), _digits_only(column)))
    prefix = _pick(_MOBILE_PREFIXES, number(digest, 0, len(_MOBILE_PREFIXES)))
    return _finish(df, column, F.concat(prefix, _digits(number(digest, 1, 10**8), 8)))


def landline(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """ "AREA-NNNNNNN": the area code kept (a city, not a person), the local number replaced."""
    df, digest = _staged(df, column, "digest", hmac_hex(subkey(key, "cn_landline"), _digits_only(column)))
    area = F.regexp_extract(normalized(F.col(column)), r"^\(?(0\d{2,3})[)\- ]", 1)
    local = F.concat((number(digest, 0, 7) + 2).cast("string"), _digits(number(digest, 1, 10**6), 6))
    return _finish(df, column, F.when(area == "", local).otherwise(F.concat(area, F.lit("-"), local)))


def bank_card(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """A 19-digit UnionPay-style number (62…) with a valid Luhn digit."""
    df, digest = _staged(df, column, "digest", hmac_hex(subkey(key, "bank_card"), _digits_only(column)))
    df, body = _staged(
        df,
        column,
        "body",
        F.concat(F.lit("62"), _digits(number(digest, 0, 10**8), 8), _digits(number(digest, 1, 10**8), 8)),
    )
    terms = []  # Luhn: from the right of the body, the digit next to the check is doubled, and every second one
    for i in range(18):
        digit = F.substring(body, 18 - i, 1).cast("int")
        terms.append(F.when(digit * 2 > 9, digit * 2 - 9).otherwise(digit * 2) if i % 2 == 0 else digit)
    total = reduce(lambda a, b: a + b, terms)
    return _finish(
        df, column, F.concat(body, F.pmod(F.lit(10) - F.pmod(total, F.lit(10)), F.lit(10)).cast("string"))
    )


def email(df: DataFrame, column: str, key: bytes) -> DataFrame:
    digest = hmac_hex(subkey(key, "email"), F.lower(F.trim(F.col(column))))
    return df.withColumn(column, F.concat(F.lit("u"), F.substring(digest, 1, 12), F.lit("@example.invalid")))


def person_name(df: DataFrame, column: str, key: bytes) -> DataFrame:
    """A consistent synthetic name: a common surname plus one or two characters no real given name uses."""
    df, digest = _staged(df, column, "digest", hmac_hex(subkey(key, "person_name"), F.trim(F.col(column))))
    pool = synthetic_given_pool()
    second = F.when(number(digest, 3, 3) == 0, F.lit("")).otherwise(_pick(pool, number(digest, 2, len(pool))))
    surname = _pick(COMMON_SURNAMES, number(digest, 0, len(COMMON_SURNAMES)))
    return _finish(df, column, F.concat(surname, _pick(pool, number(digest, 1, len(pool))), second))


def token(key: bytes, purpose: str, value: Column) -> Column:
    """A keyed 16-character token for identifiers without a useful format (record numbers, plates…)."""
    return F.upper(F.substring(hmac_hex(subkey(key, purpose), normalized(value)), 1, 16))


def date_offset_days(entity_digest: Column, max_days: int) -> Column:
    """A per-entity shift in [-max_days, max_days]: every date of one entity moves by the same amount.

    Drawn from bits of the entity's keyed digest that nothing else uses, so it costs no extra HMAC.
    """
    return (number(entity_digest, 4, 2 * max_days + 1) - max_days).cast("int")
