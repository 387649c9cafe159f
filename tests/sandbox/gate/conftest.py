"""Helpers for gate tests: contribution frames written straight to staging, manifests, one gate run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.domain.gate import CellDecision, GateOutcome, GatePolicy
from sandbox.domain.job import Aggregate, Domain, DPSpec, InputSpec, JobManifest, Measure, OutputSpec
from sandbox.gate import gate_job, load_policy

TOTAL = None


def count(name: str = "people") -> Measure:
    return Measure(name, Aggregate.COUNT)


def measure(name: str, agg: str, column: str, bounds=(0.0, 1000.0)) -> Measure:
    return Measure(name, Aggregate(agg), column, (float(bounds[0]), float(bounds[1])))


def output(
    name: str,
    dimensions: dict[str, tuple[str, ...] | None],
    measures: tuple[Measure, ...] = (),
    *,
    entity: str = "pid",
    totals: bool = False,
    public: bool = False,
    threshold: int | None = None,
    rounding: int | None = None,
    max_cells: int | None = None,
    max_cells_per_entity: int | None = None,
    dp: DPSpec | None = None,
    code_tables: dict[str, str] | None = None,
) -> OutputSpec:
    """An output spec; a dimension given ``None`` has no declared domain, ``code_tables`` adds dimensions."""
    domains = {d: Domain(values=v) for d, v in dimensions.items() if v is not None}
    domains.update({d: Domain(code_table=t) for d, t in (code_tables or {}).items()})
    return OutputSpec(
        name=name, entity=entity, dimensions=(*dimensions, *(code_tables or {})), measures=measures or (count(),), domains=domains,
        public_domains=public, totals=totals, threshold=threshold, rounding=rounding, max_cells=max_cells,
        max_cells_per_entity=max_cells_per_entity, dp=dp,
    )  # fmt: skip


def manifest(*outputs: OutputSpec, job_id: str = "test_job") -> JobManifest:
    return JobManifest(job_id, "测试作业", "test-scenario", "job.py", (InputSpec("src", "ds_people", ("pid",)),),
                       tuple(outputs))  # fmt: skip


def write_frame(spark, staging: Path, name: str, rows: list[tuple], schema: str) -> None:
    spark.createDataFrame(rows, schema).coalesce(1).write.parquet(str(staging / name))


@dataclass
class GateRun:
    outcome: GateOutcome
    out_dir: Path

    @property
    def report(self) -> dict:
        return json.loads((self.out_dir / "gate_report.json").read_text(encoding="utf-8"))

    def cell(self, output_name: str, key: tuple):
        return next(c for c in self.outcome.outputs[output_name].cells if c.key == key)

    def released(self, output_name: str, key: tuple) -> bool:
        return self.cell(output_name, key).decision is CellDecision.RELEASED

    def rules(self, output_name: str, key: tuple) -> set[str]:
        return {r.rule.value for r in self.cell(output_name, key).reasons}


def gate(spark, root: Path, job: JobManifest, *, policy: GatePolicy | None = None, ledger=None, code_tables=None,
         datasets=("ds_people",), out: str = "out", entity_sources=None, register=None,
         staging: str = "staging", dp_required_by=None) -> GateRun:  # fmt: skip
    """Run the gate on the frames under ``root/staging``, writing to ``root/out``; with a release
    ``register``, as production run ``run-<out>``."""
    out_dir = root / out
    outcome = gate_job(spark, job, root / staging, out_dir, policy=policy or load_policy(),
                       code_tables=code_tables or {}, ledger=ledger, input_datasets=list(datasets),
                       entity_sources=entity_sources, register=register, dp_required_by=dp_required_by,
                       run_id=f"run-{out}" if register else None)  # fmt: skip
    return GateRun(outcome, out_dir)


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gate")
