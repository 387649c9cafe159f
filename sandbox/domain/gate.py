"""The trusted gate's vocabulary: its policy, the decision on every cell, and what an output came to.

Plain data only. The gate (``sandbox.gate``) fills these in; reports, the production runner and
the product registry read them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: The label a margin (total) takes in place of a dimension value in released tables and reports.
TOTAL_LABEL = "合计"


@dataclass(frozen=True)
class DominanceRule:
    """nk rule: the top ``n`` contributions must stay below ``k`` of the cell total (ACRO safe_nk_n/k)."""

    n: int = 2
    k: float = 0.9
    applies_to: tuple[str, ...] = ("sum", "mean")


@dataclass(frozen=True)
class RoundingRule:
    enabled: bool = False
    base: int = 5


@dataclass(frozen=True)
class DPRule:
    """Differential privacy limits: per output, and the per-dataset budget that never refreshes."""

    max_epsilon_per_output: float = 1.0
    budget_epsilon_per_dataset: float = 10.0
    budget_delta_per_dataset: float = 1e-6
    max_cells_per_entity: int = 1
    mandatory_grades: tuple[str, ...] = ()  # data grades (一般/重要/核心) every output over them must use DP
    mandatory_datasets: tuple[str, ...] = ()  # datasets every output over them must use DP


@dataclass(frozen=True)
class GatePolicy:
    """Disclosure-control rules as data (``policy/defaults.yaml``); operator files may only tighten them."""

    threshold: int = 10
    dominance: DominanceRule = field(default_factory=DominanceRule)
    p_ratio: float = 0.10
    zeros_are_disclosive: bool = True
    allowed_aggregates: tuple[str, ...] = ("count", "sum", "mean", "median", "std")
    max_cells: int = 5000
    max_cells_per_entity: int = 5
    identifying_dimension_ratio: float = 0.8
    rounding: RoundingRule = field(default_factory=RoundingRule)
    differencing: bool = True
    group_attribute: bool = True
    differential_privacy: DPRule = field(default_factory=DPRule)
    output_scan_min_score: float = 0.5
    protection_max_seconds: float = 60.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GatePolicy:
        """Inverse of :meth:`as_dict` (a policy handed to another process as JSON); no strictness check."""
        dominance = dict(data["dominance"], applies_to=tuple(data["dominance"]["applies_to"]))
        return cls(**{
            **data, "dominance": DominanceRule(**dominance), "rounding": RoundingRule(**data["rounding"]),
            "allowed_aggregates": tuple(data["allowed_aggregates"]),
            "differential_privacy": DPRule(**{
                **data["differential_privacy"],
                "mandatory_grades": tuple(data["differential_privacy"].get("mandatory_grades", ())),
                "mandatory_datasets": tuple(data["differential_privacy"].get("mandatory_datasets", ())),
            }),
        })  # fmt: skip


class CellDecision(StrEnum):
    RELEASED = "released"
    SUPPRESSED = "suppressed"


class Rule(StrEnum):
    """Why a cell was suppressed. Stable slugs: reports and dashboards key on them.

    An empty cell is suppressed under THRESHOLD: a reason of its own would say what suppression hides.
    """

    THRESHOLD = "threshold"
    DOMINANCE = "dominance"
    P_RATIO = "p_ratio"
    SECONDARY = "secondary"
    DIFFERENCING = "differencing"
    GROUP_ATTRIBUTE = "group_attribute"
    MEDIAN = "median"


class Refusal(StrEnum):
    """Why a whole output was withheld: nothing of it is released."""

    INVALID_FRAME = "invalid_frame"
    AGGREGATE_NOT_ALLOWED = "aggregate_not_allowed"
    UNDECLARED_DOMAIN = "undeclared_domain"
    LOOSER_THAN_POLICY = "looser_than_policy"
    TOO_LARGE = "too_large"
    IDENTIFYING_DIMENSION = "identifying_dimension"
    IDENTIFIER_IN_OUTPUT = "identifier_in_output"
    DP_UNSUPPORTED = "dp_unsupported"
    BUDGET_EXHAUSTED = "budget_exhausted"
    UNKNOWN_ENTITIES = "unknown_entities"
    DP_REQUIRED = "dp_required"
    PROTECTION_INTERVAL = "protection_interval"


@dataclass
class Reason:
    """One rule that fired on a cell, bilingual; ``detail`` names measures or outputs, never values."""

    rule: Rule
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule.value, "zh": self.zh, "en": self.en}


@dataclass
class CellResult:
    """A cell of a released table: its key (``None`` marks a margin), decision, reasons, values if released."""

    key: tuple[str | None, ...]
    decision: CellDecision
    reasons: list[Reason] = field(default_factory=list)
    values: dict[str, float | int | None] = field(default_factory=dict)

    @property
    def is_margin(self) -> bool:
        return any(part is None for part in self.key)


@dataclass
class OutputOutcome:
    name: str
    refusal: Refusal | None = None
    refusal_zh: str = ""
    refusal_en: str = ""
    cells: list[CellResult] = field(default_factory=list)
    epsilon_spent: float = 0.0
    delta_spent: float = 0.0

    @property
    def released(self) -> list[CellResult]:
        return [c for c in self.cells if c.decision is CellDecision.RELEASED]

    @property
    def suppressed(self) -> list[CellResult]:
        return [c for c in self.cells if c.decision is CellDecision.SUPPRESSED]

    def suppressed_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cell in self.suppressed:
            for rule in dict.fromkeys(r.rule.value for r in cell.reasons):
                counts[rule] = counts.get(rule, 0) + 1
        return counts


@dataclass
class GateOutcome:
    job_id: str
    outputs: dict[str, OutputOutcome] = field(default_factory=dict)

    @property
    def released_cells(self) -> int:
        return sum(len(o.released) for o in self.outputs.values())

    @property
    def refused_outputs(self) -> dict[str, Refusal]:
        return {n: o.refusal for n, o in self.outputs.items() if o.refusal is not None}
