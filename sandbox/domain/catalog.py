"""Catalog vocabulary: how providers describe datasets and columns.

The enums are the closed vocabularies of the catalog YAML. Grades follow GB/T 43697-2024
(一般 / 重要 / 核心 数据), plus the personal-information sensitivity the same standard asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnRole(StrEnum):
    DIRECT_ID = "direct_id"
    QUASI_ID = "quasi_id"
    SENSITIVE = "sensitive"
    ATTRIBUTE = "attribute"
    FREE_TEXT = "free_text"


class PiiKind(StrEnum):
    NONE = "none"
    CN_RESIDENT_ID = "cn_resident_id"
    CN_MOBILE = "cn_mobile"
    CN_LANDLINE = "cn_landline"
    CN_USCC = "cn_uscc"
    PERSON_NAME = "person_name"
    ADDRESS = "address"
    BANK_CARD = "bank_card"
    EMAIL = "email"
    LICENSE_PLATE = "license_plate"
    PASSPORT = "passport"
    BIRTH_DATE = "birth_date"
    ORG_NAME = "org_name"
    RECORD_ID = "record_id"


class DataGrade(StrEnum):
    """GB/T 43697-2024 data grade."""

    GENERAL = "一般"
    IMPORTANT = "重要"
    CORE = "核心"


class PersonalInfo(StrEnum):
    """Personal-information sensitivity (GB/T 43697-2024 §6, PIPL art. 28)."""

    NONE = "非个人信息"
    GENERAL = "一般个人信息"
    SENSITIVE = "敏感个人信息"


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DOUBLE = "double"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


class UpdateCycle(StrEnum):
    REALTIME = "实时"
    DAILY = "每日"
    WEEKLY = "每周"
    MONTHLY = "每月"
    QUARTERLY = "每季度"
    YEARLY = "每年"
    PERIODIC = "定期"
    IRREGULAR = "不定期"


#: Days after which a dataset's newest record is stale, per update cycle (used by timeliness checks).
STALENESS_DAYS: dict[UpdateCycle, int] = {
    UpdateCycle.REALTIME: 2,
    UpdateCycle.DAILY: 3,
    UpdateCycle.WEEKLY: 14,
    UpdateCycle.MONTHLY: 45,
    UpdateCycle.QUARTERLY: 120,
    UpdateCycle.YEARLY: 400,
    UpdateCycle.PERIODIC: 120,
    UpdateCycle.IRREGULAR: 730,
}


class ProvisionMethod(StrEnum):
    API = "接口"
    TABLE = "库表"
    FILE = "文件"


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    kind: str = "government"
    contact: str | None = None


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    type: ColumnType
    role: ColumnRole
    pii: PiiKind = PiiKind.NONE
    grade: DataGrade = DataGrade.GENERAL
    personal_info: PersonalInfo = PersonalInfo.NONE
    required: bool = False
    references: str | None = None  # "dataset.column" this column points at
    code_table: str | None = None  # name of a code table the values must belong to
    value_range: tuple[float, float] | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    provider: str
    update_cycle: UpdateCycle
    provision: tuple[ProvisionMethod, ...]
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    grade: DataGrade = DataGrade.GENERAL
    entity: str | None = None  # the privacy unit column: whose records these are
    timestamp_column: str | None = None  # record update time, for timeliness
    max_duplicate_key_rate: float = 0.01
    description: str | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Catalog:
    providers: tuple[Provider, ...]
    datasets: tuple[Dataset, ...]
    code_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
