"""The gate's warm-up: the real gate code path on synthetic data while the job runs, leaving nothing behind."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from sandbox.domain.job import DPSpec
from sandbox.gate import load_policy
from sandbox.gate import warmup as warmup_module
from sandbox.gate.identifiers import samples_scanner
from sandbox.gate.warmup import BackgroundWarmup, synthetic_frame, warm_up
from sandbox.store.models import (
    AuditEventRow,
    PrivacyBudgetRow,
    PrivacySpendRow,
    ProductRow,
)
from tests.sandbox.gate.conftest import count, manifest, measure, output
from tests.sandbox.gate.test_process import DISTRICTS, gate_env, gate_job

BANDS = ("0-17", "18-59", "60+")


def _job() -> tuple:
    exact = output("exact", {"band": BANDS}, (count(), measure("mean_income", "mean", "income", (0, 5000))),
                   code_tables={"d": "districts"}, totals=True)  # fmt: skip
    noisy = output("noisy", {"band": BANDS}, (count(),), dp=DPSpec(epsilon=1.0))
    return manifest(exact, noisy), {"districts": tuple(DISTRICTS)}


def test_synthetic_frames_keep_to_the_declared_domains_and_bounds():
    job, code_tables = _job()
    spec = job.outputs[0]
    frame = synthetic_frame(spec, {"band": BANDS, "d": tuple(DISTRICTS)}, 1000).to_pydict()
    assert set(frame) == {"pid", "band", "d", "income"}
    assert set(frame["band"]) <= set(BANDS) and set(frame["d"]) <= set(DISTRICTS)
    assert all(0 <= v <= 5000 for v in frame["income"])
    assert len(set(frame["pid"])) < 1000  # some entities in two rows: the per-entity sum runs too
    staged_like = synthetic_frame(spec, {"band": BANDS, "d": tuple(DISTRICTS)}, 10)
    assert str(staged_like.schema.field("pid").type) == "int64"  # as the job runner stages entities


@pytest.mark.slow
def test_warm_up_gates_every_output_and_leaves_no_files(spark, tmp_path):
    job, code_tables = _job()
    took = warm_up(spark, job, tmp_path / "work", policy=load_policy(None), code_tables=code_tables,
                   scanner=samples_scanner(), rows=2000)  # fmt: skip
    assert set(took) == {"exact", "noisy"}
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.slow
def test_a_failing_warm_up_is_logged_and_does_not_raise(spark, tmp_path, monkeypatch, capsys):
    def failing(*args, **kwargs):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(warmup_module, "warm_up", failing)
    job, code_tables = _job()
    background = BackgroundWarmup.start(spark, job, tmp_path, policy=load_policy(None), code_tables=code_tables,
                                        scanner=samples_scanner(), rows=10)  # fmt: skip
    background._thread.join(30)
    background.stop()
    assert "gate warm-up: failed" in capsys.readouterr().err


def _counts(ctx) -> dict[str, int]:
    with ctx.sessions() as session:
        return {row.__name__: session.scalar(select(func.count()).select_from(row))
                for row in (AuditEventRow, PrivacySpendRow, PrivacyBudgetRow, ProductRow)}  # fmt: skip


def _gate_env(ctx, tmp_path, rows: int) -> dict[str, str]:
    return gate_env(ctx, tmp_path / "policy.yaml", SANDBOX_GATE_WARMUP_ROWS=str(rows))


def _setup_job(ctx, spark, tmp_path):
    return gate_job(ctx, spark, tmp_path, "differential_privacy: {budget_epsilon_per_dataset: 5.0}\n")


def _start_gate(ctx, tmp_path, job_dir, rows: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "sandbox.gate", "--await-go", "--job-dir", str(job_dir), "--staging",
            str(tmp_path / "staging"), "--out", str(tmp_path / "out"), "--dataset", "ds_people", "--run-id", "run1"]  # fmt: skip
    stderr = (tmp_path / "gate.stderr").open("wb")
    return subprocess.Popen(argv, env=_gate_env(ctx, tmp_path, rows), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip


def _wait_for_warm_up(tmp_path, process, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        log = (tmp_path / "gate.stderr").read_text(encoding="utf-8", errors="replace")
        if "gate warm-up: done" in log:
            return log
        time.sleep(0.5)
    raise AssertionError((tmp_path / "gate.stderr").read_text(encoding="utf-8", errors="replace")[-2000:])


def _staging_files(tmp_path) -> dict:
    return {p.relative_to(tmp_path): p.stat().st_mtime_ns for p in (tmp_path / "staging").rglob("*")}


@pytest.mark.slow
def test_a_warmed_up_gate_not_told_to_go_leaves_nothing_behind(sqlite_ctx, spark, tmp_path):
    """The warm-up ran to the end, then the job failed: no files, no budget, no products, no audit events."""
    job_dir = _setup_job(sqlite_ctx, spark, tmp_path)
    before, staging = _counts(sqlite_ctx), _staging_files(tmp_path)
    work_before = (
        set(sqlite_ctx.settings.work_dir.iterdir()) if sqlite_ctx.settings.work_dir.exists() else set()
    )
    process = _start_gate(sqlite_ctx, tmp_path, job_dir, rows=5000)
    _wait_for_warm_up(tmp_path, process)
    process.stdin.close()  # end of input: the job failed
    assert process.wait(120) == 3
    assert _counts(sqlite_ctx) == before
    assert _staging_files(tmp_path) == staging
    assert not (tmp_path / "out").exists()
    leftovers = {p.name for p in sqlite_ctx.settings.work_dir.iterdir()} - {p.name for p in work_before}
    assert leftovers <= {"spark"}  # Spark's own scratch dir (its files are removed when the session stops)
    assert not list(sqlite_ctx.settings.work_dir.glob("gate-warmup-*"))


@pytest.mark.slow
def test_a_warmed_up_gate_releases_what_a_cold_one_does_and_spends_once(sqlite_ctx, spark, tmp_path):
    job_dir = _setup_job(sqlite_ctx, spark, tmp_path)
    before = _counts(sqlite_ctx)
    process = _start_gate(sqlite_ctx, tmp_path, job_dir, rows=5000)
    _wait_for_warm_up(tmp_path, process)
    process.communicate(b"go\n", timeout=240)
    assert process.returncode == 0
    summary = json.loads((tmp_path / "out" / "gate_summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] and summary["outputs"]["exact"]["released"] == 5
    assert summary["outputs"]["noisy"]["epsilon_spent"] == 1.0
    after = _counts(sqlite_ctx)
    assert (
        after["PrivacySpendRow"] == before["PrivacySpendRow"] + 1
    )  # the real run's spend, not the warm-up's
    assert after["ProductRow"] == before["ProductRow"]
    assert not list(sqlite_ctx.settings.work_dir.glob("gate-warmup-*"))
    report = json.loads((tmp_path / "out" / "gate_report.json").read_text(encoding="utf-8"))
    assert "w0" not in json.dumps(report)  # no synthetic entity or value leaked into the real report


class _NoStop:
    """The shared test session, which the gate's ``finally: spark.stop()`` must not end."""

    def __init__(self, spark) -> None:
        self._spark = spark

    def __getattr__(self, name):
        return getattr(self._spark, name)

    def stop(self) -> None:
        pass


@pytest.mark.slow
def test_a_failing_warm_up_does_not_fail_the_run(sqlite_ctx, spark, tmp_path, monkeypatch, capsys):
    from sandbox.gate import __main__ as gate_main

    job_dir = _setup_job(sqlite_ctx, spark, tmp_path)
    failed = threading.Event()

    def failing(*args, **kwargs):
        failed.set()
        raise RuntimeError("synthetic failure")

    class _Stdin(io.StringIO):
        def readline(self, *args):
            failed.wait(60)
            time.sleep(0.2)
            return "go\n"

    for key, value in _gate_env(sqlite_ctx, tmp_path, 5000).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(warmup_module, "warm_up", failing)
    monkeypatch.setattr(gate_main, "spark_session", lambda *args, **kwargs: _NoStop(spark))
    monkeypatch.setattr(sys, "stdin", _Stdin())
    code = gate_main.run(["--await-go", "--job-dir", str(job_dir), "--staging", str(tmp_path / "staging"),
                          "--out", str(tmp_path / "out"), "--dataset", "ds_people", "--run-id", "run1"])  # fmt: skip
    assert code == 0
    assert "gate warm-up: failed" in capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "gate_summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] and summary["outputs"]["exact"]["released"] == 5


@pytest.mark.slow
def test_go_cuts_a_long_warm_up_short(sqlite_ctx, spark, tmp_path):
    job_dir = _setup_job(sqlite_ctx, spark, tmp_path)
    process = _start_gate(
        sqlite_ctx, tmp_path, job_dir, rows=3_000_000
    )  # far longer than the few seconds it gets
    deadline = time.monotonic() + 240
    while "gate warm-up: started" not in (tmp_path / "gate.stderr").read_text(errors="replace"):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.5)
    time.sleep(5)
    process.communicate(b"go\n", timeout=120)
    log = (tmp_path / "gate.stderr").read_text(encoding="utf-8", errors="replace")
    assert process.returncode == 0, log[-2000:]
    assert "gate warm-up: stopped" in log
    summary = json.loads((tmp_path / "out" / "gate_summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] and summary["outputs"]["exact"]["released"] == 5
    assert not list(sqlite_ctx.settings.work_dir.glob("gate-warmup-*"))
