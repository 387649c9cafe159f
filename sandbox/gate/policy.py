"""The gate policy: defaults from ``policy/defaults.yaml``, an operator file that may only tighten them,
and a job's output settings that may only tighten them further.

Every key has a direction of strictness; a value on the loose side of the default is refused, so no
configuration mistake can quietly weaken disclosure control.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox.domain.catalog import DataGrade
from sandbox.domain.gate import DominanceRule, DPRule, GatePolicy, Refusal, RoundingRule
from sandbox.domain.job import Aggregate, DPSpec, OutputSpec
from sandbox.gate.errors import GatePolicyError, OutputRefused

DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "policy" / "defaults.yaml"

#: Dotted key -> how a value may move away from the default: up, down, stay true, shrink, grow.
STRICTNESS: dict[str, str] = {
    "threshold": "higher",
    "dominance.n": "higher",
    "dominance.k": "lower",
    "dominance.applies_to": "superset",
    "p_ratio": "higher",
    "zeros_are_disclosive": "keep_true",
    "allowed_aggregates": "subset",
    "max_cells": "lower",
    "max_cells_per_entity": "lower",
    "identifying_dimension_ratio": "lower",
    "rounding.enabled": "keep_true",
    "rounding.base": "higher",
    "differencing": "keep_true",
    "group_attribute": "keep_true",
    "differential_privacy.max_epsilon_per_output": "lower",
    "differential_privacy.budget_epsilon_per_dataset": "lower",
    "differential_privacy.budget_delta_per_dataset": "lower",
    "differential_privacy.max_cells_per_entity": "lower",
    "differential_privacy.mandatory_grades": "superset",
    "differential_privacy.mandatory_datasets": "superset",
    "output_scan.min_score": "lower",
    "protection_intervals.max_seconds": "lower",
}
_AGGREGATES = {a.value for a in Aggregate}
#: What a list-valued key may hold (``None``: any identifiers); the others hold aggregates.
_LIST_VALUES: dict[str, set[str] | None] = {
    "differential_privacy.mandatory_grades": {g.value for g in DataGrade},
    "differential_privacy.mandatory_datasets": None,
}
_DIRECTION_TEXT = {
    "higher": ("不得低于默认值", "may not be lower than the default"),
    "lower": ("不得高于默认值", "may not be higher than the default"),
    "keep_true": ("不得关闭", "may not be switched off"),
    "subset": ("不得增加默认值以外的项", "may not add entries beyond the default"),
    "superset": ("不得删除默认值中的项", "may not drop entries of the default"),
}


def _flatten(document: dict[str, Any], source: str, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, source, f"{dotted}."))
        elif dotted in STRICTNESS:
            flat[dotted] = value
        else:
            raise GatePolicyError(f"{source}：未知的规则 {dotted}", f"{source}: unknown rule {dotted}")
    return flat


def _checked(key: str, value: Any, source: str) -> Any:
    """Type and range of one value; lists become sorted tuples."""
    direction = STRICTNESS[key]
    bad = GatePolicyError(f"{source}：{key} 的取值无效", f"{source}: invalid value for {key}")
    if direction == "keep_true":
        if not isinstance(value, bool):
            raise bad
        return value
    if direction in ("subset", "superset"):
        allowed = _LIST_VALUES.get(key, _AGGREGATES)
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) for v in value)
            or (allowed is not None and not set(value) <= allowed)
        ):
            raise bad
        return tuple(dict.fromkeys(value))
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise bad
    if key in (
        "threshold",
        "dominance.n",
        "max_cells",
        "max_cells_per_entity",
        "rounding.base",
        "differential_privacy.max_cells_per_entity",
    ):
        if not isinstance(value, int) or value < 1:
            raise bad
    elif key in ("dominance.k", "differential_privacy.budget_delta_per_dataset") and value > 1:
        raise bad
    return value


def _is_looser(direction: str, value: Any, default: Any) -> bool:
    return {
        "higher": lambda: value < default,
        "lower": lambda: value > default,
        "keep_true": lambda: default and not value,
        "subset": lambda: not set(value) <= set(default),
        "superset": lambda: not set(value) >= set(default),
    }[direction]()


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise GatePolicyError(f"策略文件 {path} 不存在", f"policy file {path} does not exist") from None
    except yaml.YAMLError:
        raise GatePolicyError(
            f"策略文件 {path} 不是合法的 YAML", f"policy file {path} is not valid YAML"
        ) from None
    if not isinstance(document, dict) or document.pop("version", 1) != 1:
        raise GatePolicyError(
            f"策略文件 {path} 格式不受支持", f"policy file {path} has an unsupported format"
        )
    return {k: _checked(k, v, str(path)) for k, v in _flatten(document, str(path)).items()}


def _build(flat: dict[str, Any]) -> GatePolicy:
    def group(prefix: str) -> dict[str, Any]:
        return {k.removeprefix(prefix): v for k, v in flat.items() if k.startswith(prefix)}

    return GatePolicy(
        threshold=flat["threshold"], dominance=DominanceRule(**group("dominance.")), p_ratio=flat["p_ratio"],
        zeros_are_disclosive=flat["zeros_are_disclosive"], allowed_aggregates=flat["allowed_aggregates"],
        max_cells=flat["max_cells"], max_cells_per_entity=flat["max_cells_per_entity"],
        identifying_dimension_ratio=flat["identifying_dimension_ratio"],
        rounding=RoundingRule(**group("rounding.")), differencing=flat["differencing"],
        group_attribute=flat["group_attribute"],
        differential_privacy=DPRule(**group("differential_privacy.")),
        output_scan_min_score=flat["output_scan.min_score"],
        protection_max_seconds=flat["protection_intervals.max_seconds"],
    )  # fmt: skip


def load_policy(settings_policy_file: Path | None = None) -> GatePolicy:
    """The defaults, tightened by the operator's policy file if there is one; looser values are refused."""
    defaults = _read(DEFAULTS_FILE)
    missing = set(STRICTNESS) - set(defaults)
    if missing:
        raise GatePolicyError(f"默认策略缺少 {', '.join(sorted(missing))}",
                              f"the default policy lacks {', '.join(sorted(missing))}")  # fmt: skip
    if settings_policy_file is None:
        return _build(defaults)
    operator = _read(settings_policy_file)
    for key, value in operator.items():
        if _is_looser(STRICTNESS[key], value, defaults[key]):
            zh, en = _DIRECTION_TEXT[STRICTNESS[key]]
            raise GatePolicyError(
                f"策略文件 {settings_policy_file}：{key} = {value!r} 比默认值 {defaults[key]!r} 宽松（{zh}）",
                f"policy file {settings_policy_file}: {key} = {value!r} is looser than the default "
                f"{defaults[key]!r} ({en})",
            )
    return _build({**defaults, **operator})


@dataclass(frozen=True)
class OutputRules:
    """The rules one output runs under: the policy, tightened by the output's own settings."""

    threshold: int
    dominance: DominanceRule
    p_ratio: float
    zeros_are_disclosive: bool
    group_attribute: bool
    max_cells: int
    rounding_base: int | None
    dp: DPSpec | None
    max_cells_per_entity: int
    identifying_dimension_ratio: float
    output_scan_min_score: float


def _looser(output: OutputSpec, zh: str, en: str) -> OutputRefused:
    return OutputRefused(
        Refusal.LOOSER_THAN_POLICY, f"输出 {output.name}：{zh}", f"output {output.name}: {en}"
    )


def output_rules(policy: GatePolicy, output: OutputSpec) -> OutputRules:
    """Combine policy and output settings; an output setting looser than the policy refuses the output."""
    if output.threshold is not None and output.threshold < policy.threshold:
        raise _looser(output, f"threshold 不得低于策略值 {policy.threshold}",
                      f"threshold may not be lower than the policy's {policy.threshold}")  # fmt: skip
    if output.max_cells is not None and output.max_cells > policy.max_cells:
        raise _looser(output, f"max_cells 不得高于策略值 {policy.max_cells}",
                      f"max_cells may not exceed the policy's {policy.max_cells}")  # fmt: skip
    if output.max_cells_per_entity is not None and output.max_cells_per_entity > policy.max_cells_per_entity:
        raise _looser(output, f"max_cells_per_entity 不得高于策略值 {policy.max_cells_per_entity}",
                      f"max_cells_per_entity may not exceed the policy's {policy.max_cells_per_entity}")  # fmt: skip
    cells_per_entity = min(
        policy.max_cells_per_entity, output.max_cells_per_entity or policy.max_cells_per_entity
    )
    if output.dp is not None:  # differential privacy's own bound (its L0 sensitivity) may be tighter
        cells_per_entity = min(cells_per_entity, policy.differential_privacy.max_cells_per_entity)
    rounding_base = policy.rounding.base if policy.rounding.enabled else None
    if output.rounding is not None:
        if rounding_base is not None and output.rounding < rounding_base:
            raise _looser(output, f"rounding 不得低于策略的取整基数 {rounding_base}",
                          f"rounding may not be finer than the policy's base {rounding_base}")  # fmt: skip
        rounding_base = output.rounding
    dp_rule = policy.differential_privacy
    if output.dp is not None and (
        output.dp.epsilon > dp_rule.max_epsilon_per_output
        or output.dp.delta > dp_rule.budget_delta_per_dataset
    ):
        raise _looser(output, f"dp.epsilon 不得超过 {dp_rule.max_epsilon_per_output}，dp.delta 不得超过 "
                      f"{dp_rule.budget_delta_per_dataset}", f"dp.epsilon may not exceed "
                      f"{dp_rule.max_epsilon_per_output} and dp.delta may not exceed {dp_rule.budget_delta_per_dataset}")  # fmt: skip
    return OutputRules(
        threshold=max(policy.threshold, output.threshold or 0), dominance=policy.dominance,
        p_ratio=policy.p_ratio, zeros_are_disclosive=policy.zeros_are_disclosive and not output.public_domains,
        group_attribute=policy.group_attribute,
        max_cells=min(policy.max_cells, output.max_cells or policy.max_cells),
        rounding_base=rounding_base if rounding_base and rounding_base > 1 else None, dp=output.dp,
        max_cells_per_entity=cells_per_entity,
        identifying_dimension_ratio=policy.identifying_dimension_ratio,
        output_scan_min_score=policy.output_scan_min_score,
    )  # fmt: skip
