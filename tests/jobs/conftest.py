"""Each real job on the synthetic county, through the trusted gate, against an independent pandas answer.

The county here has 20,000 people (the shared fixture's 3,000 leave too few enterprises per cell for
the dominance rules to have anything to bite on).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sandbox.catalog.service import read_catalog_file
from sandbox.domain.contract import required_columns
from sandbox.domain.gate import CellDecision, GateOutcome
from sandbox.gate import gate_job, load_policy
from sandbox.gate.entities import EntitySource
from sandbox.gate.rules import FLOAT_DIGITS
from sandbox.runtime.execute import execute
from sandbox.runtime.jobcode import load_build
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.sdk import JobContext
from sandbox.synth import generate
from tests.conftest import ingest_county

JOBS = Path(__file__).parents[2] / "jobs"
AS_OF = date(2026, 6, 30)
POLICY = load_policy()


@dataclass
class Gated:
    """One job's gate outcome, with its contribution frames kept for the comparison."""

    outcome: GateOutcome
    staging: Path

    def released(self, output: str) -> dict[tuple, dict]:
        """Released cells without margins: key → values."""
        return {
            c.key: c.values
            for c in self.outcome.outputs[output].cells
            if c.decision is CellDecision.RELEASED and not c.is_margin
        }

    def decisions(self, output: str) -> dict[tuple, set[str]]:
        """Every cell's key → the rules that suppressed it (empty when released)."""
        return {c.key: {r.rule.value for r in c.reasons} for c in self.outcome.outputs[output].cells}


PEOPLE = 20_000


@pytest.fixture(scope="session")
def jobs_county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("jobs_county")
    generate(out, people=PEOPLE, seed=11)
    return out


@pytest.fixture(scope="session")
def jobs_raw(jobs_county, tmp_path_factory) -> dict[str, Path]:
    return ingest_county(jobs_county, tmp_path_factory.mktemp("jobs_raw"))


@pytest.fixture(scope="session")
def code_tables(jobs_county) -> dict[str, tuple[str, ...]]:
    catalog = read_catalog_file(jobs_county / "catalog.yaml").catalog
    return {name: tuple(values) for name, values in catalog.code_tables.items()}


@pytest.fixture(scope="session")
def subjects(jobs_county) -> dict[str, str]:
    """Each dataset's subject column, as the catalog declares it."""
    catalog = read_catalog_file(jobs_county / "catalog.yaml").catalog
    return {dataset.id: dataset.entity for dataset in catalog.datasets if dataset.entity}


@pytest.fixture(scope="session")
def gate_frames(spark, jobs_raw, code_tables, subjects):
    """The gate as production runs it, entity check included: every staged entity in a raw subject column."""

    def run(manifest, staging: Path, out: Path) -> Gated:
        sources = [
            EntitySource(jobs_raw[i.dataset], subjects[i.dataset])
            for i in manifest.inputs
            if i.dataset in subjects
        ]
        outcome = gate_job(spark, manifest, staging, out, policy=POLICY, code_tables=code_tables, ledger=None,
                           input_datasets=sorted({i.dataset for i in manifest.inputs}), entity_sources=sources)  # fmt: skip
        for name, output in outcome.outputs.items():
            assert output.refusal is None, (name, output.refusal_en)
        return Gated(outcome, staging)

    return run


@pytest.fixture(scope="session")
def run_job(spark, jobs_raw, gate_frames, tmp_path_factory):
    """Run a job's build on the raw county and gate its frames, as a production run does (in one process)."""

    @functools.cache  # one run per job, shared by its module and the before/after comparison
    def run(job_id: str) -> Gated:
        job_dir = JOBS / job_id
        manifest = load_manifest(job_dir)
        root = tmp_path_factory.mktemp(job_id)
        staging = root / "staging"
        staging.mkdir()
        inputs = {i.alias: jobs_raw[i.dataset] for i in manifest.inputs}
        result = execute(spark, job_dir, manifest, inputs, staging, AS_OF)
        assert result.ok, result
        return gate_frames(manifest, staging, root / "out")

    return run


@pytest.fixture(scope="session")
def run_job_directly(spark, jobs_raw, gate_frames, tmp_path_factory):
    """The runtime before jobs became plans: ``build(ctx)`` called in the trusted process with the
    session's own DataFrames, its frames written as they came, then the same gate."""

    def run(job_id: str) -> Gated:
        job_dir = JOBS / job_id
        manifest = load_manifest(job_dir)
        root = tmp_path_factory.mktemp(f"{job_id}-directly")
        frames = {
            i.alias: spark.read.parquet(str(jobs_raw[i.dataset])).select(*i.columns) for i in manifest.inputs
        }
        built = load_build(job_dir / manifest.entry, f"direct_{job_id}")(JobContext(frames, AS_OF))
        for spec in manifest.outputs:
            built[spec.name].select(*required_columns(spec)).write.parquet(str(root / "staging" / spec.name))
        return gate_frames(manifest, root / "staging", root / "out")

    return run


def read(raw: dict[str, Path], dataset: str) -> pd.DataFrame:
    return pd.read_parquet(raw[dataset])


def released_as(expected: float):
    """A released non-count value: the true one, shown to the gate's fixed number of decimals."""
    return pytest.approx(expected, rel=1e-9, abs=10**-FLOAT_DIGITS)


def contributions(
    frame: pd.DataFrame, entity: str, dims: list[str], bounds: dict[str, tuple]
) -> pd.DataFrame:
    """Contribution bounding as the gate does it: per entity and cell, each column's rows summed, then
    clipped to its ``(low, high)``."""
    per_entity = frame.groupby([entity, *dims], dropna=False)[list(bounds)].sum(min_count=1).reset_index()
    for column, (low, high) in bounds.items():
        per_entity[column] = per_entity[column].clip(low, high)
    return per_entity


def expected_cells(
    frame: pd.DataFrame, entity: str, dims: list[str], measures: dict[str, tuple], *, totals: bool = False
) -> dict[tuple, dict[str, float]]:
    """The gate's aggregation written out in pandas: per entity and cell its rows summed and clipped to the
    measure's bounds; then per cell — and with ``totals`` per margin, over the entities' clipped
    contributions — the entity count and each aggregate.

    ``measures`` maps a measure name to ``("count",)`` or ``(agg, column, low, high)``.
    """
    bounds = {spec[1]: spec[2:] for spec in measures.values() if spec[0] != "count"}
    per_entity = contributions(frame, entity, dims, bounds)
    margins = [[d for d in dims if d != left_out] for left_out in dims] + [[]] if totals else []
    cells: dict[tuple, dict[str, float]] = {}
    for subset in [dims, *margins]:
        rows = (
            per_entity.groupby([entity, *subset], dropna=False)[list(bounds)].sum(min_count=1).reset_index()
        )
        for key, cell in rows.groupby(subset, dropna=False) if subset else [((), rows)]:
            key = key if isinstance(key, tuple) else (key,)
            full = tuple(key[subset.index(d)] if d in subset else None for d in dims)
            cells[full] = {
                name: cell[entity].nunique() if spec[0] == "count" else getattr(cell[spec[1]], spec[0])()
                for name, spec in measures.items()
            }
    return cells
