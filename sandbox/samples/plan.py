"""Which operator desensitizes each column: decided by the column's PII kind first, then its role.

A column the profiler caught holding identifiers it was not declared with is treated as the
kind it holds, so a catalog mistake never lets identifiers through to a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.domain.catalog import Column, ColumnRole, ColumnType, Dataset, PiiKind

_BY_KIND = {
    PiiKind.CN_RESIDENT_ID: "pseudonym_resident_id",
    PiiKind.CN_USCC: "pseudonym_uscc",
    PiiKind.CN_MOBILE: "synthetic_mobile",
    PiiKind.CN_LANDLINE: "synthetic_landline",
    PiiKind.BANK_CARD: "pseudonym_bank_card",
    PiiKind.EMAIL: "pseudonym_email",
    PiiKind.PERSON_NAME: "synthetic_name",
    PiiKind.LICENSE_PLATE: "pseudonym_token",
    PiiKind.PASSPORT: "pseudonym_token",
    PiiKind.RECORD_ID: "pseudonym_token",
    PiiKind.ORG_NAME: "pseudonym_token",
    PiiKind.ADDRESS: "generalize_address",
    PiiKind.BIRTH_DATE: "generalize",
}
#: Operators whose output is still a quasi-identifier, so it joins the k-anonymity set.
_GENERALIZING = {"generalize", "generalize_address"}
ENTITY_KINDS = (PiiKind.CN_RESIDENT_ID, PiiKind.CN_USCC)


@dataclass(frozen=True)
class ColumnPlan:
    column: Column
    kind: PiiKind  # the effective kind: declared, or detected when the declaration missed it
    operator: str
    quasi_identifier: bool
    sensitive: bool

    @property
    def name(self) -> str:
        return self.column.name


def plan_column(column: Column, kind: PiiKind, *, has_entity: bool) -> ColumnPlan:
    if kind in _BY_KIND:
        operator = _BY_KIND[kind]
    elif column.role == ColumnRole.FREE_TEXT:
        operator = "redact_free_text"
    elif column.role == ColumnRole.QUASI_ID:
        operator = "generalize"
    elif column.role == ColumnRole.DIRECT_ID:
        operator = "pseudonym_token"
    elif column.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and has_entity:
        operator = "shift_date"
    else:
        operator = "keep"
    quasi = column.role == ColumnRole.QUASI_ID or operator in _GENERALIZING
    return ColumnPlan(column, kind, operator, quasi, column.role == ColumnRole.SENSITIVE)


def plan_dataset(dataset: Dataset, columns: list[str], detected: dict[str, PiiKind]) -> list[ColumnPlan]:
    """One plan per approved column, in catalog order."""
    has_entity = entity_kind(dataset) is not None
    plans = []
    for column in dataset.columns:
        if column.name in columns:
            kind = column.pii if column.pii != PiiKind.NONE else detected.get(column.name, PiiKind.NONE)
            plans.append(plan_column(column, kind, has_entity=has_entity))
    return plans


def entity_kind(dataset: Dataset) -> PiiKind | None:
    """People (resident ID) or enterprises (USCC): whose records a dataset holds, if it says."""
    if dataset.entity and dataset.column(dataset.entity).pii in ENTITY_KINDS:
        return dataset.column(dataset.entity).pii
    return None
