"""The gate's advisory verdict for dev runs: the same rules on the samples' frames, nothing released.

Called by the dev worker, which holds no platform secrets: the policy and the code tables come in
its spec. No privacy budget is spent (samples are not the protected data); the files go to a
``gate`` folder beside staging, for the developer to read.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from sandbox.domain.gate import GatePolicy
from sandbox.domain.job import JobManifest
from sandbox.gate.entities import EntitySource
from sandbox.gate.pipeline import gate_job
from sandbox.gate.report import summary


def advisory_gate(
    spark: SparkSession, manifest: JobManifest, staging_run_dir: Path, spec: dict[str, Any]
) -> dict:
    """Run the gate on a dev run's frames; returns the summary plus where the report was written."""
    out_dir = staging_run_dir.parent / "gate"
    shutil.rmtree(out_dir, ignore_errors=True)
    policy = GatePolicy.from_dict(spec["policy"])
    code_tables = {name: tuple(values) for name, values in spec.get("code_tables", {}).items()}
    outcome = gate_job(spark, manifest, staging_run_dir, out_dir, policy=policy, code_tables=code_tables,
                       ledger=None, input_datasets=[], advisory=True, entity_sources=entity_sources(spec),
                       dp_required_by=spec.get("dp_required_by", []))  # fmt: skip
    return {**summary(outcome, policy.as_dict()), "report": str(out_dir / "gate_report.md")}


def entity_sources(spec: dict[str, Any]) -> list[EntitySource] | None:
    """Each input's samples and subject column: a dev run's staged entities must be among them
    (``None``, no check, for a spec without inputs' subject columns)."""
    subjects = spec.get("input_entities")
    if not subjects:
        return None
    return [
        EntitySource(Path(path), subjects[alias])
        for alias, path in spec["inputs"].items()
        if subjects.get(alias)
    ]
