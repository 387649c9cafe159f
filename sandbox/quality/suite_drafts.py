"""Suites as providers see them: the rules a catalog entry implies, and a suite written out as YAML.

A dataset without a suite file gets the drafted rules (required columns, keys, code tables, ranges,
references, identifiers, update cycle); ``sandbox quality suite`` prints a suite with every rule's
wording spelled out, for a provider to read or an operator to start a suite file from.
"""

from __future__ import annotations

from typing import Any

import yaml

from sandbox.domain.catalog import Dataset, PiiKind
from sandbox.domain.quality import Check, Suite


def draft_entries(dataset: Dataset) -> list[dict[str, Any]]:
    """The rules a catalog entry implies, as suite entries a provider can then edit."""
    entries: list[dict[str, Any]] = [
        {"id": "readable", "check": "row_count", "dimension": "可访问性", "severity": "high", "min_rows": 1},
        {
            "id": "key_unique",
            "check": "unique_key",
            "dimension": "准确性",
            "severity": "high",
            "columns": list(dataset.keys),
        },
    ]
    resident_ids = [c for c in dataset.columns if c.pii == PiiKind.CN_RESIDENT_ID]
    for column in dataset.columns:
        severity = "high" if column.name in dataset.keys else "medium"
        if column.required:
            entries.append(
                {
                    "id": f"{column.name}_required",
                    "check": "not_null",
                    "dimension": "完整性",
                    "severity": severity,
                    "column": column.name,
                }
            )
        if column.pii == PiiKind.CN_RESIDENT_ID:
            entries.append(
                {
                    "id": f"{column.name}_valid_id",
                    "check": "resident_id",
                    "dimension": "规范性",
                    "severity": severity,
                    "column": column.name,
                }
            )
        if column.pii == PiiKind.CN_USCC:
            entries.append(
                {
                    "id": f"{column.name}_valid_uscc",
                    "check": "uscc",
                    "dimension": "规范性",
                    "severity": severity,
                    "column": column.name,
                }
            )
        if column.pii == PiiKind.BIRTH_DATE and len(resident_ids) == 1:
            entries.append(
                {
                    "id": f"{column.name}_matches_id",
                    "check": "birth_date_matches_id",
                    "dimension": "一致性",
                    "severity": "medium",
                    "column": column.name,
                    "id_column": resident_ids[0].name,
                }
            )
        if column.code_table:
            entries.append(
                {
                    "id": f"{column.name}_in_code_table",
                    "check": "in_code_table",
                    "dimension": "规范性",
                    "severity": "medium",
                    "column": column.name,
                    "code_table": column.code_table,
                }
            )
        if column.value_range is not None:
            low, high = column.value_range
            entries.append(
                {
                    "id": f"{column.name}_in_range",
                    "check": "in_range",
                    "dimension": "准确性",
                    "severity": "medium",
                    "column": column.name,
                    "min": low,
                    "max": high,
                }
            )
        if column.references:
            entries.append(
                {
                    "id": f"{column.name}_references",
                    "check": "references",
                    "dimension": "一致性",
                    "severity": "high",
                    "column": column.name,
                    "target": column.references,
                }
            )
    if dataset.timestamp_column:
        entries.append(
            {
                "id": f"{dataset.timestamp_column}_fresh",
                "check": "fresh",
                "dimension": "时效性",
                "severity": "medium",
                "column": dataset.timestamp_column,
            }
        )
    return entries


def suite_yaml(dataset: Dataset, suite: Suite) -> str:
    """A suite as the YAML a provider reads: every rule with its wording spelled out."""
    entries = []
    for rule in suite.rules:
        entry: dict[str, Any] = {
            "id": rule.id,
            "check": rule.check.value,
            "dimension": rule.dimension.value,
            "severity": rule.severity.value,
        }
        if rule.check == Check.UNIQUE_KEY:
            entry["columns"] = list(rule.columns)
        elif rule.check == Check.FIELD_ORDER:
            entry["lesser"], entry["greater"] = rule.columns
        elif rule.check == Check.BIRTH_DATE_MATCHES_ID:
            entry["column"], entry["id_column"] = rule.columns
        elif rule.columns:
            entry["column"] = rule.columns[0]
        for name, value in (
            ("code_table", rule.code_table),
            ("min", rule.min_value),
            ("max", rule.max_value),
            ("target", rule.target),
            ("max_age_days", rule.max_age_days),
        ):
            if value is not None:
                entry[name] = int(value) if isinstance(value, float) and value.is_integer() else value
        if rule.check == Check.ROW_COUNT:
            entry["min_rows"] = rule.min_rows
        entry["description"] = rule.description
        entry["fix"] = rule.fix
        entries.append(entry)
    document = {
        "dataset": dataset.id,
        "title": suite.title or f"{dataset.title} 数据质量规则 / quality rules",
        "rules": entries,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)
