"""A job's inputs must stay within its scenario's approved (requested, justified, granted) columns."""

from __future__ import annotations

from sandbox.domain.job import JobManifest
from sandbox.runtime.policy_check import Finding


def scope_findings(manifest: JobManifest, approved: dict[str, list[str]]) -> list[Finding]:
    findings = []
    for spec in manifest.inputs:
        allowed = set(approved.get(spec.dataset, ()))
        if not allowed:
            findings.append(Finding("job.toml", 0, "scope", f"场景 {manifest.scenario} 未获准使用数据集 {spec.dataset}",
                                    f"scenario {manifest.scenario} is not approved for dataset {spec.dataset}"))  # fmt: skip
            continue
        for column in spec.columns:
            if column not in allowed:
                findings.append(Finding("job.toml", 0, "scope", f"列 {spec.dataset}.{column} 不在场景获准的列中",
                                        f"column {spec.dataset}.{column} is not among the scenario's approved columns"))  # fmt: skip
    return findings
