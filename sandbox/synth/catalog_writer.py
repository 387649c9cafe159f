"""catalog.yaml: the providers' registration of every synthetic dataset, in the catalog loader's format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sandbox.domain.catalog import Column, DataGrade, Dataset, PersonalInfo, PiiKind
from sandbox.synth.timeline import AS_OF


def duplicate_key_rate(defect_rate: float) -> float:
    """Ingest's tolerance for duplicate keys: comfortably above the injected duplicate share."""
    return max(0.05, round(3 * defect_rate, 4))


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _column(c: Column) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": c.name, "title": c.title, "type": c.type.value, "role": c.role.value}
    if c.pii != PiiKind.NONE:
        entry["pii"] = c.pii.value
    if c.grade != DataGrade.GENERAL:
        entry["grade"] = c.grade.value
    if c.personal_info != PersonalInfo.NONE:
        entry["personal_info"] = c.personal_info.value
    if c.required:
        entry["required"] = True
    if c.references:
        entry["references"] = c.references
    if c.code_table:
        entry["code_table"] = c.code_table
    if c.value_range is not None:
        entry["range"] = [_number(v) for v in c.value_range]
    return entry


def _dataset(d: Dataset, defect_rate: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": d.id,
        "title": d.title,
        "provider": d.provider,
        "update_cycle": d.update_cycle.value,
        "provision": [p.value for p in d.provision],
        "keys": list(d.keys),
    }
    if d.entity:
        entry["entity"] = d.entity
    if d.timestamp_column:
        entry["timestamp_column"] = d.timestamp_column
    entry["grade"] = d.grade.value
    entry["max_duplicate_key_rate"] = duplicate_key_rate(defect_rate)
    if d.description:
        entry["description"] = d.description
    entry["file"] = f"{d.id}.csv"
    entry["columns"] = [_column(c) for c in d.columns]
    return entry


def write_catalog(
    path: Path,
    providers: tuple[tuple[str, str], ...],
    datasets: list[Dataset],
    code_tables: dict[str, tuple[str, ...]],
    defect_rate: float,
) -> None:
    document = {
        "version": 1,
        "as_of": str(AS_OF),
        "code_tables": {name: [str(v) for v in values] for name, values in code_tables.items()},
        "providers": [{"id": pid, "name": name} for pid, name in providers],
        "datasets": [_dataset(d, defect_rate) for d in datasets],
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=None, width=110)
    path.write_text(text, encoding="utf-8")
