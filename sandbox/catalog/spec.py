"""Parse and validate catalog entries (YAML-shaped dicts) into domain objects, and back.

Every error names the entry it is about — dataset, column, field and the bad value — in Chinese
and English, so a provider can fix their registration file without guessing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sandbox.domain.catalog import (
    Catalog,
    Column,
    ColumnRole,
    ColumnType,
    DataGrade,
    Dataset,
    PersonalInfo,
    PiiKind,
    Provider,
    ProvisionMethod,
    UpdateCycle,
)
from sandbox.domain.errors import CatalogError, enum_member
from sandbox.domain.identifiers import IdKind, check_id

_COLUMN_FIELDS = {
    "name", "title", "type", "role", "pii", "grade", "personal_info", "required",
    "references", "code_table", "range", "description",
}  # fmt: skip
_DATASET_FIELDS = {
    "id", "title", "provider", "update_cycle", "provision", "keys", "entity", "timestamp_column",
    "grade", "max_duplicate_key_rate", "description", "columns", "file",
}  # fmt: skip
_FIELD_ZH = {"role": "角色", "pii": "个人信息类型", "grade": "分级", "type": "类型",
             "personal_info": "个人信息敏感程度", "update_cycle": "更新周期", "provision": "提供方式"}  # fmt: skip


def _enum(kind: type[StrEnum], value: Any, where_zh: str, where_en: str, field: str) -> StrEnum:
    return enum_member(kind, str(value), lambda allowed: CatalogError(
        f"{where_zh}：未知{_FIELD_ZH.get(field, field)} {value!r}（可选：{allowed}）",
        f"{where_en}: unknown {field} {value!r} (allowed: {allowed})",
    ))  # fmt: skip


def _require(entry: dict, key: str, where_zh: str, where_en: str) -> Any:
    value = entry.get(key)
    if value in (None, "", []):
        raise CatalogError(f"{where_zh}：缺少字段 {key}", f"{where_en}: missing field {key}")
    return value


def _no_unknown(entry: dict, allowed: set[str], where_zh: str, where_en: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise CatalogError(
            f"{where_zh}：未知字段 {', '.join(unknown)}", f"{where_en}: unknown field(s) {', '.join(unknown)}"
        )


def parse_column(entry: Any, dataset_id: str, index: int) -> Column:
    if not isinstance(entry, dict):
        raise CatalogError(
            f"数据集 {dataset_id} 第 {index + 1} 列不是映射",
            f"dataset {dataset_id} column #{index + 1} is not a mapping",
        )
    name = entry.get("name") or f"#{index + 1}"
    wz, we = f"数据集 {dataset_id} 的列 {name}", f"dataset {dataset_id} column {name}"
    _no_unknown(entry, _COLUMN_FIELDS, wz, we)
    value_range = entry.get("range")
    if value_range is not None:
        if not (isinstance(value_range, list | tuple) and len(value_range) == 2):
            raise CatalogError(f"{wz}：range 必须是 [最小, 最大]", f"{we}: range must be [min, max]")
        value_range = (float(value_range[0]), float(value_range[1]))
    references = entry.get("references")
    if references is not None and str(references).count(".") != 1:
        raise CatalogError(f"{wz}：references 必须形如 数据集.列", f"{we}: references must be dataset.column")
    return Column(
        name=str(_require(entry, "name", wz, we)),
        title=str(_require(entry, "title", wz, we)),
        type=_enum(ColumnType, _require(entry, "type", wz, we), wz, we, "type"),
        role=_enum(ColumnRole, _require(entry, "role", wz, we), wz, we, "role"),
        pii=_enum(PiiKind, entry.get("pii", "none"), wz, we, "pii"),
        grade=_enum(DataGrade, entry.get("grade", DataGrade.GENERAL.value), wz, we, "grade"),
        personal_info=_enum(
            PersonalInfo, entry.get("personal_info", PersonalInfo.NONE.value), wz, we, "personal_info"
        ),
        required=bool(entry.get("required", False)),
        references=references,
        code_table=entry.get("code_table"),
        value_range=value_range,
        description=entry.get("description"),
    )


def parse_dataset(entry: Any, index: int = 0) -> Dataset:
    if not isinstance(entry, dict):
        raise CatalogError(f"第 {index + 1} 个数据集不是映射", f"dataset #{index + 1} is not a mapping")
    dataset_id = entry.get("id") or f"#{index + 1}"
    wz, we = f"数据集 {dataset_id}", f"dataset {dataset_id}"
    _no_unknown(entry, _DATASET_FIELDS, wz, we)
    raw_columns = _require(entry, "columns", wz, we)
    columns = tuple(parse_column(c, dataset_id, i) for i, c in enumerate(raw_columns))
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CatalogError(
            f"{wz}：列名重复 {', '.join(duplicates)}", f"{we}: duplicate column(s) {', '.join(duplicates)}"
        )
    keys = tuple(_require(entry, "keys", wz, we))
    for ref_field, refs in (
        ("keys", keys),
        ("entity", [entry.get("entity")]),
        ("timestamp_column", [entry.get("timestamp_column")]),
    ):
        for ref in refs:
            if ref is not None and ref not in names:
                raise CatalogError(
                    f"{wz}：{ref_field} 引用了不存在的列 {ref}",
                    f"{we}: {ref_field} names unknown column {ref}",
                )
    rate = float(entry.get("max_duplicate_key_rate", 0.01))
    if not 0 <= rate <= 1:
        raise CatalogError(
            f"{wz}：max_duplicate_key_rate 须在 0 到 1 之间",
            f"{we}: max_duplicate_key_rate must be within [0, 1]",
        )
    provision = entry.get("provision", [ProvisionMethod.FILE.value])
    return Dataset(
        id=check_id(IdKind.DATASET, _require(entry, "id", wz, we)),
        title=str(_require(entry, "title", wz, we)),
        provider=check_id(IdKind.PROVIDER, _require(entry, "provider", wz, we)),
        update_cycle=_enum(UpdateCycle, _require(entry, "update_cycle", wz, we), wz, we, "update_cycle"),
        provision=tuple(_enum(ProvisionMethod, p, wz, we, "provision") for p in provision),
        keys=keys,
        columns=columns,
        grade=_enum(DataGrade, entry.get("grade", DataGrade.GENERAL.value), wz, we, "grade"),
        entity=entry.get("entity"),
        timestamp_column=entry.get("timestamp_column"),
        max_duplicate_key_rate=rate,
        description=entry.get("description"),
    )


def parse_catalog(document: Any) -> Catalog:
    if not isinstance(document, dict):
        raise CatalogError("目录文件必须是映射", "catalog file must be a mapping")
    providers = []
    seen_providers: set[str] = set()
    for i, entry in enumerate(document.get("providers") or []):
        wz, we = f"第 {i + 1} 个数据提供单位", f"provider #{i + 1}"
        if not isinstance(entry, dict):
            raise CatalogError(f"{wz}不是映射", f"{we} is not a mapping")
        pid = check_id(IdKind.PROVIDER, _require(entry, "id", wz, we))
        if pid in seen_providers:
            raise CatalogError(f"数据提供单位 {pid} 重复", f"duplicate provider {pid}")
        seen_providers.add(pid)
        providers.append(
            Provider(
                id=pid,
                name=str(_require(entry, "name", wz, we)),
                kind=entry.get("kind", "government"),
                contact=entry.get("contact"),
            )
        )
    code_tables = {
        check_id(IdKind.CODE_TABLE, k): tuple(str(v) for v in values)
        for k, values in (document.get("code_tables") or {}).items()
    }
    datasets, seen = [], set()
    for i, entry in enumerate(document.get("datasets") or []):
        dataset = parse_dataset(entry, i)
        if dataset.id in seen:
            raise CatalogError(
                f"数据集 {dataset.id} 在目录中重复", f"dataset {dataset.id} appears twice in the catalog"
            )
        seen.add(dataset.id)
        datasets.append(dataset)
    catalog = Catalog(tuple(providers), tuple(datasets), code_tables)
    _check_references(catalog)
    return catalog


def _check_references(catalog: Catalog) -> None:
    providers = {p.id for p in catalog.providers}
    columns = {(d.id, c.name) for d in catalog.datasets for c in d.columns}
    for dataset in catalog.datasets:
        if providers and dataset.provider not in providers:
            raise CatalogError(
                f"数据集 {dataset.id}：数据提供单位 {dataset.provider} 未在目录中登记",
                f"dataset {dataset.id}: provider {dataset.provider} is not declared in the catalog",
            )
        for col in dataset.columns:
            if col.code_table and col.code_table not in catalog.code_tables:
                raise CatalogError(
                    f"数据集 {dataset.id} 的列 {col.name}：代码表 {col.code_table} 未定义",
                    f"dataset {dataset.id} column {col.name}: code table {col.code_table} is not defined",
                )
            if col.references and tuple(col.references.split(".")) not in columns:
                raise CatalogError(
                    f"数据集 {dataset.id} 的列 {col.name}：引用的 {col.references} 不在目录中",
                    f"dataset {dataset.id} column {col.name}: referenced {col.references} is not in the catalog",
                )


def dataset_to_dict(dataset: Dataset) -> dict[str, Any]:
    """The inverse of ``parse_dataset``: what is stored as the registered spec."""
    columns = []
    for c in dataset.columns:
        entry: dict[str, Any] = {
            "name": c.name, "title": c.title, "type": c.type.value, "role": c.role.value, "pii": c.pii.value,
            "grade": c.grade.value, "personal_info": c.personal_info.value, "required": c.required,
        }  # fmt: skip
        for key, value in (
            ("references", c.references),
            ("code_table", c.code_table),
            ("description", c.description),
        ):
            if value is not None:
                entry[key] = value
        if c.value_range is not None:
            entry["range"] = list(c.value_range)
        columns.append(entry)
    out: dict[str, Any] = {
        "id": dataset.id, "title": dataset.title, "provider": dataset.provider,
        "update_cycle": dataset.update_cycle.value, "provision": [p.value for p in dataset.provision],
        "keys": list(dataset.keys), "grade": dataset.grade.value,
        "max_duplicate_key_rate": dataset.max_duplicate_key_rate, "columns": columns,
    }  # fmt: skip
    for key, value in (
        ("entity", dataset.entity),
        ("timestamp_column", dataset.timestamp_column),
        ("description", dataset.description),
    ):
        if value is not None:
            out[key] = value
    return out
