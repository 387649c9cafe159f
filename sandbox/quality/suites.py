"""Rule suites: read ``quality/suites/<dataset>.yaml`` and check it against the catalog.

A suite is written for providers to read, so each rule says in words (Chinese and English)
what it checks and how to fix a failure; where a rule leaves them out, the check's standard
wording is used. A dataset without a suite file gets the rules its catalog entry implies
(``sandbox.quality.suite_drafts``).

Suites are looked up in ``<home>/quality/suites`` first (an operator's local rules), then in the
suites shipped with Shuyu (the repository's top-level ``quality/suites``, installed under
``<prefix>/share/shuyu/quality/suites``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from sandbox.context import PlatformContext
from sandbox.domain.catalog import ColumnType, Dataset
from sandbox.domain.errors import enum_member
from sandbox.domain.quality import Check, Dimension, Rule, Severity, Suite, SuiteError
from sandbox.quality.suite_drafts import draft_entries, suite_yaml
from sandbox.store import catalog_repo

_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_FIELDS = {
    "id",
    "check",
    "dimension",
    "severity",
    "column",
    "columns",
    "id_column",
    "lesser",
    "greater",
    "code_table",
    "min",
    "max",
    "target",
    "max_age_days",
    "min_rows",
    "description",
    "fix",
}

#: The standard wording of each check: (description, suggested fix), each Chinese / English.
#: ``{x_zh}`` names a column by its catalog title, ``{x}`` by its name.
WORDING: dict[Check, tuple[str, str]] = {
    Check.NOT_NULL: (
        "{column_zh}为必填项，不得为空 / {column} is required and must not be blank",
        "补录缺失的{column_zh} / fill in the missing {column}",
    ),
    Check.UNIQUE_KEY: (
        "{column_zh}不得重复 / key {column} must be unique",
        "删除或合并重复记录 / remove or merge the duplicated records",
    ),
    Check.RESIDENT_ID: (
        "{column_zh}须符合 GB 11643（出生日期段、ISO 7064 MOD 11-2 校验码）/ "
        "{column} must be a valid resident ID number (GB 11643 birth date part and check digit)",
        "核对证件原件，更正{column_zh} / check the identity document and correct {column}",
    ),
    Check.USCC: (
        "{column_zh}须符合 GB 32100 统一社会信用代码校验规则 / {column} must be a valid USCC (GB 32100 check character)",
        "对照营业执照更正{column_zh} / correct {column} from the business licence",
    ),
    Check.BIRTH_DATE_MATCHES_ID: (
        "{column_zh}须与{id_column_zh}第 7-14 位一致 / {column} must equal digits 7-14 of {id_column}",
        "核对出生日期与身份号码，更正错误一方 / check both and correct whichever is wrong",
    ),
    Check.IN_CODE_TABLE: (
        "{column_zh}须取自代码表 {code_table} / {column} must come from code table {code_table}",
        "按代码表 {code_table} 重新编码{column_zh} / recode {column} using code table {code_table}",
    ),
    Check.IN_RANGE: (
        "{column_zh}须在 [{min}, {max}] 之间 / {column} must lie within [{min}, {max}]",
        "核对并更正{column_zh} / check and correct {column}",
    ),
    Check.REFERENCES: (
        "{column_zh}须能在 {target} 中找到 / {column} must exist in {target}",
        "核对{column_zh}，或请 {target} 的提供单位补充该记录 / correct {column}, or have the record added to {target}",
    ),
    Check.FRESH: (
        "{column_zh}须在更新周期内 / {column} must fall within the update cycle",
        "按更新周期重新核实并更新记录 / re-verify and update the record within its update cycle",
    ),
    Check.FIELD_ORDER: (
        "{lesser_zh}不得大于{greater_zh} / {lesser} must not exceed {greater}",
        "核对{lesser_zh}与{greater_zh}，更正错误一方 / check both and correct whichever is wrong",
    ),
    Check.ROW_COUNT: (
        "数据集须可读取且不少于 {min_rows} 行 / the delivered version must be readable with at least {min_rows} row(s)",
        "重新交付完整数据 / deliver the complete data again",
    ),
}


def bundled_suite_dirs() -> list[Path]:
    """Where Shuyu's own suites live: the source checkout, then the installed data files."""
    checkout = Path(__file__).resolve().parents[2] / "quality" / "suites"
    installed = Path(sys.prefix) / "share" / "shuyu" / "quality" / "suites"
    return [d for d in (checkout, installed) if d.is_dir()]


def find_suite_file(dataset_id: str, home_suites: Path) -> Path | None:
    for directory in (home_suites, *bundled_suite_dirs()):
        candidate = directory / f"{dataset_id}.yaml"
        if candidate.is_file():
            return candidate
    return None


def read_suite(
    path: Path,
    dataset: Dataset,
    code_tables: set[str],
    target_columns: Callable[[str], tuple[str, ...] | None],
) -> Suite:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SuiteError(
            f"规则集 {path} 无法解析：{exc}", f"rule suite {path} cannot be parsed: {exc}"
        ) from None
    if not isinstance(document, dict) or document.get("dataset") != dataset.id:
        raise SuiteError(
            f"规则集 {path} 须以 dataset: {dataset.id} 开头",
            f"rule suite {path} must declare dataset: {dataset.id}",
        )
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"规则集 {path} 没有规则", f"rule suite {path} has no rules")
    return build_suite(
        dataset, entries, str(path), code_tables, target_columns, title=str(document.get("title", ""))
    )


def build_suite(
    dataset: Dataset,
    entries: list[Any],
    source: str,
    code_tables: set[str],
    target_columns: Callable[[str], tuple[str, ...] | None],
    *,
    title: str = "",
) -> Suite:
    rules = tuple(_rule(dataset, entry, i) for i, entry in enumerate(entries, start=1))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise SuiteError(f"规则编号 {rule.id} 重复", f"rule id {rule.id} is used twice")
        seen.add(rule.id)
        _check_fits(dataset, rule, code_tables, target_columns)
    canonical = json.dumps([_rule_dict(r) for r in rules], ensure_ascii=False, sort_keys=True)
    return Suite(dataset.id, rules, source, hashlib.sha256(canonical.encode()).hexdigest(), title)


def _rule(dataset: Dataset, entry: Any, position: int) -> Rule:
    where_zh, where_en = f"第 {position} 条规则", f"rule #{position}"
    if not isinstance(entry, dict):
        raise SuiteError(f"{where_zh}须为映射", f"{where_en} must be a mapping")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise SuiteError(
            f"{where_zh}含未知字段：{', '.join(sorted(unknown))}",
            f"{where_en} has unknown fields: {', '.join(sorted(unknown))}",
        )
    rule_id = str(entry.get("id", ""))
    if not _RULE_ID.match(rule_id):
        raise SuiteError(
            f"{where_zh}的编号 {rule_id!r} 不合法（小写字母、数字、下划线）",
            f"{where_en} has an invalid id {rule_id!r} (lowercase letters, digits, underscores)",
        )
    check = _enum(Check, entry.get("check"), rule_id, "check")
    dimension = _dimension(entry.get("dimension"), rule_id)
    severity = _enum(Severity, entry.get("severity"), rule_id, "severity")
    columns = _columns(check, entry, rule_id)
    rule = Rule(
        id=rule_id,
        check=check,
        dimension=dimension,
        severity=severity,
        columns=columns,
        code_table=entry.get("code_table"),
        min_value=_number(entry.get("min"), rule_id),
        max_value=_number(entry.get("max"), rule_id),
        target=entry.get("target"),
        max_age_days=entry.get("max_age_days"),
        min_rows=int(entry.get("min_rows", 1)),
    )
    description, fix = _wording(rule, dataset)
    return replace(
        rule, description=str(entry.get("description") or description), fix=str(entry.get("fix") or fix)
    )


def _enum(kind, value, rule_id: str, name: str):
    return enum_member(kind, value, lambda allowed: SuiteError(
        f"规则 {rule_id} 的 {name} 须为 {allowed} 之一：{value!r}",
        f"rule {rule_id}: {name} must be one of {allowed}: {value!r}",
    ))  # fmt: skip


def _dimension(value, rule_id: str) -> Dimension:
    for dimension in Dimension:
        if value in (dimension.value, dimension.en):
            return dimension
    allowed = "、".join(d.value for d in Dimension)
    raise SuiteError(
        f"规则 {rule_id} 的质量维度须为 GB/T 36344 的 {allowed} 之一：{value!r}",
        f"rule {rule_id}: dimension must be a GB/T 36344 dimension ({allowed}): {value!r}",
    )


def _number(value, rule_id: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SuiteError(f"规则 {rule_id} 的上下限须为数字", f"rule {rule_id}: min and max must be numbers")
    return float(value)


def _columns(check: Check, entry: dict, rule_id: str) -> tuple[str, ...]:
    if check == Check.ROW_COUNT:
        return ()
    if check == Check.UNIQUE_KEY:
        columns = entry.get("columns") or ([entry["column"]] if entry.get("column") else [])
    elif check == Check.FIELD_ORDER:
        columns = [entry.get("lesser"), entry.get("greater")]
    elif check == Check.BIRTH_DATE_MATCHES_ID:
        columns = [entry.get("column"), entry.get("id_column")]
    else:
        columns = [entry.get("column")]
    if not columns or not all(isinstance(c, str) and c for c in columns):
        raise SuiteError(
            f"规则 {rule_id}（{check.value}）缺少列名", f"rule {rule_id} ({check.value}) names no column"
        )
    return tuple(columns)


def _wording(rule: Rule, dataset: Dataset) -> tuple[str, str]:
    description, fix = WORDING[rule.check]
    titles = {c.name: c.title for c in dataset.columns}

    def zh(*names: str) -> str:
        return "、".join(f"{titles.get(n, n)}（{n}）" for n in names)

    first, last = (rule.columns[0], rule.columns[-1]) if rule.columns else ("", "")
    values = {
        "column": rule.column_label,
        "column_zh": zh(*rule.column_label.split("|")),
        "id_column": last,
        "id_column_zh": zh(last),
        "lesser": first,
        "lesser_zh": zh(first),
        "greater": last,
        "greater_zh": zh(last),
        "code_table": rule.code_table,
        "target": rule.target,
        "min_rows": rule.min_rows,
        "min": _show(rule.min_value),
        "max": _show(rule.max_value),
    }
    return description.format(**values), fix.format(**values)


def _show(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _check_fits(
    dataset: Dataset,
    rule: Rule,
    code_tables: set[str],
    target_columns: Callable[[str], tuple[str, ...] | None],
) -> None:
    def refuse(zh: str, en: str) -> SuiteError:
        return SuiteError(
            f"数据集 {dataset.id} 规则 {rule.id}：{zh}", f"dataset {dataset.id} rule {rule.id}: {en}"
        )

    for column in rule.columns:
        if column not in dataset.column_names:
            raise refuse(f"列 {column} 不存在", f"column {column} does not exist")
    if rule.check == Check.IN_CODE_TABLE and rule.code_table not in code_tables:
        raise refuse(f"代码表 {rule.code_table} 未登记", f"code table {rule.code_table} is not registered")
    if rule.check == Check.IN_RANGE and rule.min_value is None and rule.max_value is None:
        raise refuse("须给出 min 或 max", "needs min or max")
    if rule.check == Check.REFERENCES:
        target_dataset, _, target_column = (rule.target or "").partition(".")
        if target_column not in (target_columns(target_dataset) or ()):
            raise refuse(
                f"引用目标 {rule.target} 未登记", f"reference target {rule.target} is not registered"
            )
    if rule.check == Check.FRESH and dataset.column(rule.columns[0]).type not in (
        ColumnType.TIMESTAMP,
        ColumnType.DATE,
    ):
        raise refuse("时效规则须作用于日期或时间列", "a freshness rule needs a date or timestamp column")


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in rule.__dict__.items()}


def suite_for(ctx: PlatformContext, dataset: Dataset) -> Suite:
    """The suite a run uses: the dataset's suite file if there is one, else the catalog's implied rules."""
    with ctx.sessions() as session:
        code_tables = set(catalog_repo.code_tables(session))
        registered = {
            row.id: tuple(c.name for c in row.columns) for row in catalog_repo.list_datasets(session)
        }
    path = find_suite_file(dataset.id, ctx.settings.home_dir / "quality" / "suites")
    if path is None:
        return build_suite(dataset, draft_entries(dataset), "catalog", code_tables, registered.get)
    return read_suite(path, dataset, code_tables, registered.get)


def suite_view(ctx: PlatformContext, dataset: Dataset) -> dict[str, Any]:
    """The suite a dataset is checked with, as every face shows it: where it comes from (a file's name,
    or ``catalog``; never a host path) and its rules as YAML."""
    rules = suite_for(ctx, dataset)
    return {"dataset": dataset.id, "source": Path(rules.source).name, "rules": len(rules.rules),
            "yaml": suite_yaml(dataset, rules)}  # fmt: skip
