"""Structured columns desensitized as one Spark plan: native column expressions, no Python per cell.

The Spark stage pseudonymizes identifiers, replaces names and phones, cuts addresses to their
community and shifts dates per entity; generalization for k-anonymity follows on the (small)
sample in Arrow, and free text on Ray.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sandbox.samples import pseudonyms as ps
from sandbox.samples.plan import ColumnPlan

ENTITY = "__entity"  # the keyed pseudonym of each row's privacy unit: counts and date shifts use it
SHIFT = "__shift"  # the row's entity's date shift in days
_FORMAT_PRESERVING = {
    "pseudonym_resident_id": ps.resident_id,
    "pseudonym_uscc": ps.uscc,
    "synthetic_mobile": ps.mobile,
    "synthetic_landline": ps.landline,
    "pseudonym_bank_card": ps.bank_card,
    "pseudonym_email": ps.email,
    "synthetic_name": ps.person_name,
}
_LEVELS = (r"^(.*?(?:社区|村|居委会))", r"^(.*?(?:街道|镇|乡))", r"^(.*?(?:区|县|旗))")


def community_level(column: str):
    """An address cut after its community (or, lacking one, its town or district); else null."""
    choices = [F.regexp_extract(F.col(column), pattern, 1) for pattern in _LEVELS]
    result = F.lit(None).cast("string")
    for choice in reversed(choices):
        result = F.when(choice != "", choice).otherwise(result)
    return result


def with_entity(df: DataFrame, entity_column: str | None, key: bytes) -> DataFrame:
    if entity_column is None:
        return df.withColumn(ENTITY, F.lit(None).cast("string"))
    return df.withColumn(ENTITY, ps.hmac_hex(ps.subkey(key, "entity"), ps.normalized(F.col(entity_column))))


def desensitize(df: DataFrame, plans: list[ColumnPlan], key: bytes, *, shift_days: int) -> DataFrame:
    """Apply each column's Spark operator; ``df`` must carry the ``__entity`` column."""
    if any(p.operator == "shift_date" for p in plans):
        df = df.withColumn(SHIFT, ps.date_offset_days(F.col(ENTITY), shift_days))
    for plan in plans:
        name, operator = plan.name, plan.operator
        if operator in _FORMAT_PRESERVING:
            df = _FORMAT_PRESERVING[operator](df, name, key)
        elif operator == "pseudonym_token":
            df = df.withColumn(name, ps.token(key, f"token:{plan.kind.value}", F.col(name)))
        elif operator == "generalize_address":
            df = df.withColumn(name, community_level(name))
        elif operator == "shift_date":
            shifted = (
                F.date_add(F.col(name), F.col(SHIFT))
                if dict(df.dtypes)[name] == "date"
                else F.timestamp_add("DAY", F.col(SHIFT), F.col(name))
            )
            df = df.withColumn(name, shifted)
    return df.select(*[p.name for p in plans], ENTITY)
