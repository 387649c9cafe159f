"""``python -m sandbox.gate``: the gate in its own process, as the production runner starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandbox.audit.chain import utc_now_iso
from sandbox.store.models import CodeTableRow
from tests.sandbox.gate.conftest import write_frame

DISTRICTS = [f"d{i:02d}" for i in range(5)]
JOB_TOML = f"""
id = "gate_process_job"
title = "网关进程测试"
scenario = "test-scenario"
entry = "job.py"

[inputs.src]
dataset = "ds_people"
columns = ["pid", "d"]

[outputs.noisy]
entity = "pid"
dimensions = ["d"]
measures = [{{ name = "people", agg = "count" }}]
dp = {{ epsilon = 1.0 }}

[outputs.noisy.domains]
d = {json.dumps(DISTRICTS)}

[outputs.exact]
entity = "pid"
dimensions = ["d"]
measures = [{{ name = "people", agg = "count" }}]

[outputs.exact.domains]
d = {{ code_table = "districts" }}
"""


def gate_env(ctx, policy_file, **extra: str) -> dict[str, str]:
    """The environment the production runner gives the gate process (loopback Spark, 1 GB driver)."""
    return {**os.environ, "SANDBOX_HOME": str(ctx.settings.home_dir), "SANDBOX_SPARK_MASTER": "local[2]",
            "SANDBOX_SPARK_DRIVER_MEMORY": "1g", "SANDBOX_POLICY_FILE": str(policy_file),
            "SPARK_LOCAL_IP": "127.0.0.1", **extra}  # fmt: skip


def gate_job(ctx, spark, tmp_path, policy: str):
    """The districts code table, a job directory, ``policy`` and both outputs staged (100 people)."""
    with ctx.transaction() as session:
        session.add(
            CodeTableRow(name="districts", values_json=json.dumps(DISTRICTS), created_at=utc_now_iso())
        )
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "job.toml").write_text(JOB_TOML, encoding="utf-8")
    (job_dir / "job.py").write_text("def build(ctx):\n    return {}\n", encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(policy)
    rows = [(f"p{i}", DISTRICTS[i % 5]) for i in range(100)]
    for name in ("noisy", "exact"):
        write_frame(spark, tmp_path / "staging", name, rows, "pid string, d string")
    return job_dir


def _gate_process(
    ctx, job_dir, staging, out, *extra: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = gate_env(ctx, job_dir.parent / "policy.yaml")
    argv = [sys.executable, "-m", "sandbox.gate", "--job-dir", str(job_dir), "--staging", str(staging),
            "--out", str(out), "--dataset", "ds_people", "--run-id", "run1", *extra]  # fmt: skip
    return subprocess.run(
        argv, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_gate_process_releases_and_the_budget_survives_the_process(sqlite_ctx, spark, tmp_path):
    job_dir = gate_job(
        sqlite_ctx, spark, tmp_path, "differential_privacy: {budget_epsilon_per_dataset: 1.0}\n"
    )

    first = _gate_process(sqlite_ctx, job_dir, tmp_path / "staging", tmp_path / "out1")
    assert first.returncode == 0, first.stderr[-2000:]
    summary = json.loads((tmp_path / "out1" / "gate_summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] and summary["outputs"]["exact"]["released"] == 5
    assert summary["outputs"]["noisy"]["epsilon_spent"] == 1.0
    assert {p.name for p in (tmp_path / "out1").iterdir()} >= {"exact.parquet", "exact.csv", "noisy.parquet",
                                                               "gate_report.json", "gate_report.md"}  # fmt: skip

    second = _gate_process(
        sqlite_ctx, job_dir, tmp_path / "staging", tmp_path / "out2", "--await-go", stdin="go\n"
    )
    assert second.returncode == 0, second.stderr[-2000:]
    summary = json.loads((tmp_path / "out2" / "gate_summary.json").read_text(encoding="utf-8"))
    assert summary["outputs"]["noisy"]["refusal"] == "budget_exhausted"
    assert summary["outputs"]["exact"]["released"] == 5


def test_gate_process_refuses_a_bad_start_with_a_coded_error(sqlite_ctx, tmp_path):
    (tmp_path / "job").mkdir()
    (tmp_path / "staging").mkdir()
    (tmp_path / "policy.yaml").write_text("threshold: 10\n")
    missing = _gate_process(sqlite_ctx, tmp_path / "job", tmp_path / "missing", tmp_path / "out")
    (tmp_path / "policy.yaml").write_text("threshold: 3\n")
    looser = _gate_process(sqlite_ctx, tmp_path / "job", tmp_path / "staging", tmp_path / "out")
    for result, code in ((missing, "E1103"), (looser, "E1100")):
        assert result.returncode == 2
        assert json.loads(result.stderr.strip().splitlines()[-1])["code"] == code


@pytest.mark.slow
def test_a_gate_not_told_to_go_ends_without_gating(sqlite_ctx, spark, tmp_path):
    """The production runner starts the gate alongside the job; if the job fails, the gate gets end of input."""
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "job.toml").write_text(JOB_TOML, encoding="utf-8")
    (job_dir / "job.py").write_text("def build(ctx):\n    return {}\n", encoding="utf-8")
    (tmp_path / "policy.yaml").write_text("threshold: 10\n")
    write_frame(spark, tmp_path / "staging", "exact", [(f"p{i}", DISTRICTS[i % 5]) for i in range(100)],
                "pid string, d string")  # fmt: skip
    result = _gate_process(
        sqlite_ctx, job_dir, tmp_path / "staging", tmp_path / "out", "--await-go", stdin=""
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert not (tmp_path / "out").exists()
