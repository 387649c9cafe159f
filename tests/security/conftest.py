"""Harness for the attack corpus: run an adversarial job through production's layers in order.

Layers, in the order production applies them: ``manifest`` (job.toml validation), ``static``
(the policy check at submission and promotion), ``runtime`` (restricted builtins, refused
DataFrame actions, errors reduced to type and line), ``gate`` (the trusted disclosure gate).
An attack is *blocked* by the first layer that stops it; the test also asserts what the
attacker wanted never appears in what leaves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from sandbox.catalog.service import read_catalog_file
from sandbox.domain.errors import ShuyuError
from sandbox.gate import gate_job, load_policy
from sandbox.gate.entities import EntitySource
from sandbox.runtime.execute import JobResult, execute
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.policy_check import Finding, check_job

AS_OF = date(2026, 6, 30)


@dataclass
class Outcome:
    blocked_by: str | None
    findings: list[Finding] = field(default_factory=list)
    error: ShuyuError | None = None
    job: JobResult | None = None
    gate: object | None = None
    released_text: str = ""  # every file the gate wrote, concatenated (what would leave)


@dataclass
class Attack:
    spark: object
    raw: dict[str, Path]
    code_tables: dict[str, tuple[str, ...]]
    subjects: dict[str, str]  # dataset -> its subject column (the gate's entity check)
    root: Path

    def run(self, toml: str, code: str, *, skip_static: bool = False) -> Outcome:
        job_dir = self.root / "job"
        job_dir.mkdir(parents=True, exist_ok=True)
        (job_dir / "job.toml").write_text(toml, encoding="utf-8")
        (job_dir / "job.py").write_text(code, encoding="utf-8")
        try:
            manifest = load_manifest(job_dir)
        except ShuyuError as err:
            return Outcome("manifest", error=err)
        findings = check_job(job_dir, manifest)
        if findings and not skip_static:
            return Outcome("static", findings=findings)
        staging = self.root / "staging"
        staging.mkdir(exist_ok=True)
        inputs = {i.alias: self.raw[i.dataset] for i in manifest.inputs}
        result = execute(self.spark, job_dir, manifest, inputs, staging, AS_OF)
        if not result.ok:
            return Outcome("runtime", findings=findings, job=result)
        out = self.root / "out"
        sources = [EntitySource(self.raw[i.dataset], self.subjects[i.dataset]) for i in manifest.inputs]
        outcome = gate_job(self.spark, manifest, staging, out, policy=load_policy(None), code_tables=self.code_tables,
                           ledger=None, input_datasets=[], advisory=True, entity_sources=sources)  # fmt: skip
        text = "".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".md", ".csv")
        )
        refused = bool(outcome.refused_outputs)
        suppressed = any(o.suppressed for o in outcome.outputs.values())
        return Outcome(
            "gate" if refused or suppressed else None,
            findings=findings,
            job=result,
            gate=outcome,
            released_text=text,
        )


@pytest.fixture
def attack(spark, raw_county, county, tmp_path) -> Attack:
    catalog = read_catalog_file(county / "catalog.yaml").catalog
    subjects = {dataset.id: dataset.entity for dataset in catalog.datasets}
    return Attack(spark, raw_county, catalog.code_tables, subjects, tmp_path)


def raw_values(raw: dict[str, Path], dataset: str, column: str, limit: int = 200) -> list[str]:
    import pandas as pd

    values = pd.read_parquet(raw[dataset], columns=[column])[column].dropna().astype(str)
    return list(values.head(limit))


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
