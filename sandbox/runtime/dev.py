"""``sandbox dev run``: a job on its scenario's samples, with the gate's advisory verdict.

The dev worker executes the job's verified plans (same ``execute`` as production: the job's own code
runs in the jail inside it) confined by ``jail.confined`` to what it needs: the scenario's samples
and the job's code to read, its run directory to write; no raw zone, no secrets, no other scenario.
This side only prepares the spec and shows the result.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sandbox.context import PlatformContext
from sandbox.domain.errors import ShuyuError
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.runtime import jail
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.submissions import JobRefused, check_member, checks
from sandbox.store import catalog_repo
from sandbox.store.zones import Zone, zone_path


class NoDevReport(ShuyuError):
    """The dev process ended without a report (Spark or the jail failed to start); its log is the operators'."""

    code = "E831"

    def __init__(self) -> None:
        super().__init__("开发进程没有给出结果（运营人员可查看其日志）",
                         "the dev process gave no result (operators can read its log)")  # fmt: skip


def prepare(ctx: PlatformContext, actor: Principal, job_dir: Path) -> Path:
    """Check the job and write the dev spec; returns its path.

    Dev runs are developers' (cleared, on the job's scenario), as the queued ``dev.run`` task and the API
    admit them only: ``check_member`` lets operators past the membership check, not into running jobs.
    """
    from sandbox.catalog.service import get_dataset
    from sandbox.gate import dp, load_policy
    from sandbox.samples import sample_dir

    manifest = load_manifest(job_dir)
    with audited_refusals(ctx, actor, "job.dev_run", "job", manifest.id):
        check_role(actor, {Role.DEVELOPER}, "在样例上运行作业", "run jobs on samples")
        check_member(ctx, actor, manifest.scenario)
        findings = checks(ctx, job_dir, manifest)
        if findings:
            raise JobRefused(findings)
        inputs = {i.alias: str(sample_dir(ctx, manifest.scenario, i.dataset)) for i in manifest.inputs}
        datasets = {i.dataset: get_dataset(ctx, i.dataset) for i in manifest.inputs}
        entities = {i.alias: datasets[i.dataset].entity for i in manifest.inputs}
    run_dir = zone_path(ctx.settings, Zone.WORK, f"dev-{actor.username}-{manifest.id}")
    run_dir.mkdir(parents=True, exist_ok=True)
    with ctx.sessions() as session:
        code_tables = catalog_repo.code_tables(session)
    policy = load_policy(ctx.settings.policy_file)
    spec = {
        "job_dir": str(job_dir.resolve()), "inputs": inputs, "input_entities": entities,
        "staging_dir": str(run_dir / "staging"),
        "scratch_dir": str(run_dir / "scratch"), "as_of": datetime.now(UTC).date().isoformat(),
        "spark_master": "local[2]", "code_tables": {k: list(v) for k, v in code_tables.items()},
        "policy": policy.as_dict(), "run": uuid.uuid4().hex[:8],
        "dp_required_by": dp.required_by(policy.differential_privacy, {d: s.grade for d, s in datasets.items()}),
    }  # fmt: skip
    spec_path = run_dir / "spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return spec_path


def run(spec_path: Path, *, watch: bool = False) -> Iterator[dict]:
    """Start the dev process and yield each run's report as it arrives.

    Its other output (Spark's and the JVM's log lines) goes to ``dev.log`` beside the spec.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env.update({"SPARK_LOCAL_IP": "127.0.0.1", "HOME": str(spec_path.parent)})
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    worker = [
        sys.executable,
        "-m",
        "sandbox.runtime.devworker",
        str(spec_path),
        *(["--watch"] if watch else []),
    ]
    argv = jail.confined(
        worker,
        read_only=[Path(spec["job_dir"]), *(Path(p) for p in spec["inputs"].values())],
        writable=[spec_path.parent],
    )
    with (
        (spec_path.parent / "dev.log").open("a", encoding="utf-8") as log,
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=log, env=env, text=True, preexec_fn=_end_with_parent
        ) as process,
    ):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if line.startswith("{"):
                    yield json.loads(line)
        finally:  # a caller that stops listening ends the worker, which would otherwise watch forever
            if process.poll() is None:
                process.terminate()


def first_report(spec_path: Path) -> dict:
    """One run on the samples (no watching): its report, the dev process ended."""
    reports = run(spec_path, watch=False)
    try:
        report = next(reports, None)
    finally:
        reports.close()
    if report is None:
        raise NoDevReport()
    return report


_FAILURE_KEYS = ("ok", "phase", "error_type", "error_line", "message", "findings", "reason", "traceback")
_GATE_KEYS = ("refusal", "released", "suppressed", "suppressed_by_reason")


def report_view(report: dict) -> dict:
    """What a developer sees of a dev run, on every face: whether the job ran, and if not where it
    failed (type, line, message, plan findings, the frame contract it broke, its own traceback on
    the samples); if it did, each output's contribution rows with a preview, and per output what
    the gate would release and suppress by rule. Nothing else of the report leaves (not the gate
    report's place on the server, not the policy)."""
    job = report["job"]
    view: dict = {"job": {key: job.get(key) for key in _FAILURE_KEYS}, "seconds": report.get("seconds")}
    if job.get("ok"):
        view["frames"] = {name: {"rows": f["rows"], "columns": f["columns"], "preview": f["preview"]}
                          for name, f in report.get("frames", {}).items()}  # fmt: skip
        outputs = report.get("gate", {}).get("outputs", {})
        view["gate"] = {
            "outputs": {name: {key: o[key] for key in _GATE_KEYS if key in o} for name, o in outputs.items()}
        }
    return view


def _end_with_parent() -> None:
    """In the worker, before it runs: the kernel ends it when this command dies, however it dies
    (a watching worker would otherwise keep its Spark session forever)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1
