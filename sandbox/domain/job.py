"""A job's manifest (``job.toml``): inputs, outputs, the privacy unit and what may be aggregated."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sandbox.domain.statemachine import TransitionTable


class Aggregate(StrEnum):
    """Allowed aggregates (ACRO): no min/max, no row values."""

    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    STD = "std"


@dataclass(frozen=True)
class InputSpec:
    alias: str
    dataset: str
    columns: tuple[str, ...]
    join_keys: tuple[str, ...] = ()  # columns it may be joined or windowed on, besides its subject column


@dataclass(frozen=True)
class Measure:
    name: str
    agg: Aggregate
    column: str | None = None  # None only for count
    bounds: tuple[float, float] | None = None  # clip each entity's contribution to these bounds


@dataclass(frozen=True)
class Domain:
    """A dimension's declared finite domain: explicit values or a catalog code table."""

    values: tuple[str, ...] = ()
    code_table: str | None = None


@dataclass(frozen=True)
class DPSpec:
    epsilon: float
    delta: float = 0.0


@dataclass(frozen=True)
class OutputSpec:
    name: str
    entity: str
    dimensions: tuple[str, ...]
    measures: tuple[Measure, ...]
    domains: dict[str, Domain] = field(default_factory=dict)
    public_domains: bool = False  # zero cells may be shown only when the domain is public
    totals: bool = False  # release margins; secondary suppression then protects them
    threshold: int | None = None  # may only raise the policy's threshold
    rounding: int | None = None
    max_cells: int | None = None
    max_cells_per_entity: int | None = None  # may only lower the policy's
    dp: DPSpec | None = None


@dataclass(frozen=True)
class JobManifest:
    id: str
    title: str
    scenario: str
    entry: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]

    def input(self, alias: str) -> InputSpec:
        for spec in self.inputs:
            if spec.alias == alias:
                return spec
        raise KeyError(alias)


class SubmissionState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class RunState(StrEnum):
    RUNNING = "running"
    RELEASED = "released"  # passed the gate, product version published
    WITHHELD = "withheld"  # ran, but the gate released nothing
    FAILED = "failed"


SUBMISSION_LIFECYCLE = TransitionTable(
    "作业提交",
    "job submission",
    {
        (None, "submit"): SubmissionState.SUBMITTED,
        (SubmissionState.SUBMITTED, "approve"): SubmissionState.APPROVED,
        (SubmissionState.SUBMITTED, "reject"): SubmissionState.REJECTED,
    },
)
RUN_LIFECYCLE = TransitionTable(
    "生产运行",
    "production run",
    {
        (None, "start"): RunState.RUNNING,
        (RunState.RUNNING, "release"): RunState.RELEASED,
        (RunState.RUNNING, "withhold"): RunState.WITHHELD,
        (RunState.RUNNING, "fail"): RunState.FAILED,
    },
)
