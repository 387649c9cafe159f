"""Promotion: run an approved job on the current raw versions, isolated, then gate and release.

The job runs in its own process with no network but loopback and with memory and time limits;
it can only write contribution frames to its staging directory. The trusted gate runs in another
process, started alongside the job so its Spark start-up overlaps the job run; it reads staging only
once told ``go``, after the job process has exited successfully. Only what the gate releases
becomes a product version. Staging is cleared after every run, whatever happened. The developer
sees status, timings and — on failure — the exception type and the job file's line; stdout and
stderr stay with operators.
"""

from __future__ import annotations

import builtins
import functools
import json
import math
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import current_version, get_dataset, version_path
from sandbox.context import PlatformContext
from sandbox.domain.contract import FrameContract
from sandbox.domain.errors import PermissionDenied, ShuyuError
from sandbox.domain.identity import Role
from sandbox.domain.job import RUN_LIFECYCLE, JobManifest, RunState, SubmissionState
from sandbox.domain.progress import Stages, no_progress
from sandbox.domain.scenario import ScenarioState
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.governance.authorizations import covering_authorization
from sandbox.governance.scenarios import get as get_scenario
from sandbox.runtime import approval
from sandbox.runtime.gate_process import GateProcess
from sandbox.runtime.isolation import PROCESSES, end_recorded, run_isolated
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.plan.findings import PlanFinding
from sandbox.runtime.snapshot import code_sha256
from sandbox.runtime.submissions import JobRefused, checks, snapshot_dir
from sandbox.store.models import JobRunRow, JobSubmissionRow, ProductRow
from sandbox.store.zones import Zone, zone_path

DEFAULT_TIMEOUT_S = 3600
DEFAULT_MEMORY_BYTES = 6 * 1024**3
#: Environment the job process inherits: nothing of the platform's (no database URL, no home, no keys).
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "JAVA_HOME", "PYSPARK_PYTHON", "TZ", "SANDBOX_SPARK_CLASS_ARCHIVE")


class PromotionRefused(ShuyuError):
    code = "E820"


@dataclass(frozen=True)
class RunLimits:
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    driver_memory: str = "2g"


def _job_env(scratch: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update({"SPARK_LOCAL_IP": "127.0.0.1", "HOME": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _cluster_segment(settings) -> str | None:
    """The network namespace of the local cluster a run's plans execute on, or None: a local Spark.

    Only a local cluster's segment (``deploy/local-cluster`` sets ``SANDBOX_SPARK_NETNS``) lets the run
    process reach the master and nothing else; without it the run keeps its loopback-only namespace,
    where a master is out of reach, and so its own local Spark."""
    if settings.spark_netns and settings.spark_master.startswith("spark://"):
        return settings.spark_netns
    return None


def promote(
    ctx: PlatformContext,
    actor: Principal,
    submission_id: str,
    *,
    limits: RunLimits | None = None,
    stages: Stages = no_progress,
) -> JobRunRow:
    """Check again, run isolated, gate, release. Returns the finished run."""
    stages("核对审核、快照与授权", "checking approval, snapshot and authorization")
    limits = limits or RunLimits(driver_memory=ctx.settings.spark_driver_memory)
    with audited_refusals(ctx, actor, "job.promote", "job_submission", submission_id):
        check_role(actor, {Role.OPERATOR}, "将作业转入生产", "promote jobs to production")
        with ctx.sessions() as session:
            submission = session.get(JobSubmissionRow, submission_id)
        if submission is None or submission.state != SubmissionState.APPROVED.value:
            raise PromotionRefused(
                f"作业提交 {submission_id} 未获批准", f"submission {submission_id} is not approved"
            )
        snapshot = snapshot_dir(ctx, submission)
        if code_sha256(snapshot) != submission.code_sha256:
            raise PromotionRefused(
                "作业快照与审核时不一致，拒绝运行",
                "the job snapshot differs from what was reviewed; refusing to run",
            )
        manifest = load_manifest(snapshot)
        findings = checks(ctx, snapshot, manifest)
        if findings:
            raise JobRefused(findings)
        scenario = get_scenario(ctx, manifest.scenario)
        if scenario.state != ScenarioState.ACTIVE.value:
            raise PromotionRefused(f"场景 {scenario.id} 未启用", f"scenario {scenario.id} is not active")
        datasets = sorted({i.dataset for i in manifest.inputs})
        with ctx.sessions() as session:
            if (
                covering_authorization(session, scenario.operator_org_id, datasets, datetime.now(UTC).date())
                is None
            ):
                raise PromotionRefused(
                    "没有覆盖这些数据集的有效授权", "no active authorization covers these datasets"
                )
            product = session.get(ProductRow, manifest.id)
        if product is not None and product.scenario_id != scenario.id:
            raise PermissionDenied(
                f"数据产品 {manifest.id} 属于其他场景", f"product {manifest.id} belongs to another scenario"
            )
        with ctx.sessions() as session:  # refused early here; counted for good as the run is recorded
            approval.check_run_allowed(ctx, session, submission, datetime.now(UTC).date())
        versions = {d: current_version(ctx, d) for d in datasets}
    return _run(ctx, actor, submission, manifest, snapshot, versions, limits, stages)


def _run(
    ctx, actor, submission, manifest, snapshot, versions, limits: RunLimits, stages: Stages
) -> JobRunRow:
    run_id = uuid.uuid4().hex[:12]
    run_dir = zone_path(ctx.settings, Zone.RUNS, run_id)
    staging = zone_path(ctx.settings, Zone.STAGING, manifest.scenario, run_id)
    scratch = zone_path(ctx.settings, Zone.WORK, f"run-{run_id}")
    dataset_versions = {d: v.version for d, v in versions.items()}
    cluster = _cluster_segment(ctx.settings)
    with ctx.transaction() as session:
        locked = session.get(JobSubmissionRow, submission.id, with_for_update=True)  # one count at a time
        terms = approval.check_run_allowed(ctx, session, locked, datetime.now(UTC).date())
        run = JobRunRow(
            id=run_id, submission_id=submission.id, promoted_by=actor.username,
            state=RUN_LIFECYCLE.check(None, "start").value, dataset_versions_json=json.dumps(dataset_versions),
            isolation_json="{}", timings_json="{}", logs_path=str(run_dir.relative_to(ctx.settings.home_dir)),
            started_at=utc_now_iso(),
        )  # fmt: skip
        session.add(run)
        ctx.audit(session, "job.promote", "job_run", run_id, actor=actor.username, submission=submission.id,
                  code_sha256=submission.code_sha256, dataset_versions=dataset_versions,
                  run_of_approval=f"{approval.runs_used(session, submission.id)}/{terms.max_runs}",
                  newer_than_reviewed=approval.newer_than_reviewed(terms, dataset_versions))  # fmt: skip
    for directory in (run_dir, staging, scratch):
        directory.mkdir(parents=True)
    gate_dir = zone_path(ctx.settings, Zone.WORK, f"gate-{run_id}")
    gate = None
    try:
        spec = {
            "job_dir": str(snapshot),
            "inputs": {i.alias: str(version_path(ctx, versions[i.dataset])) for i in manifest.inputs},
            "input_entities": {i.alias: get_dataset(ctx, i.dataset).entity for i in manifest.inputs},
            "staging_dir": str(staging), "scratch_dir": str(scratch), "result_path": str(run_dir / "result.json"),
            "as_of": datetime.now(UTC).date().isoformat(),
            "driver_memory": limits.driver_memory,
            "spark_master": ctx.settings.spark_master if cluster else "local[*]",
        }  # fmt: skip
        (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        stages(
            "在隔离进程中运行作业（门控同时启动）",
            "running the job in its isolated process (the gate starts alongside)",
            rows=sum(v.row_count for v in versions.values()),
        )
        subjects = [
            f"{spec['inputs'][alias]}={column}" for alias, column in spec["input_entities"].items() if column
        ]
        gate = GateProcess.start(ctx, snapshot, staging, gate_dir, sorted(dataset_versions), subjects, run_dir,
                                 run_id, actor.username)  # fmt: skip
        started = time.perf_counter()
        code, isolation = run_isolated(
            [sys.executable, "-m", "sandbox.runtime.worker", str(run_dir / "spec.json")],
            timeout_s=limits.timeout_s, memory_limit_bytes=limits.memory_bytes,
            stdout=run_dir / "job.stdout", stderr=run_dir / "job.stderr", env=_job_env(scratch), namespace=cluster,
            record=run_dir / PROCESSES,
        )  # fmt: skip
        elapsed = round(time.perf_counter() - started, 3)
        result = _read_result(run_dir / "result.json", code, manifest, snapshot, elapsed)
        timings = {**result["timings"], "job_process_s": elapsed}
        if not result["ok"]:
            failure = {k: result[k] for k in ("phase", "message", "findings")}
            return _finish(ctx, run_id, "fail", actor, isolation=isolation.as_dict(), timings=timings,
                           error_type=result.get("error_type"), error_line=result.get("error_line"),
                           contract=result.get("contract"), failure=failure)  # fmt: skip
        stages("门控：聚合与披露控制", "the gate: aggregation and disclosure control")
        started = time.perf_counter()
        summary = gate.go()
        timings["gate_s"] = round(time.perf_counter() - started, 3)
        recorded = {**isolation.as_dict(), "gate_peak_memory_bytes": gate.peak_memory_bytes}
        return _release_or_withhold(ctx, actor, run_id, submission, manifest, gate_dir, summary, dataset_versions,
                                    recorded, timings)  # fmt: skip
    finally:
        if gate is not None:
            gate.cancel()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


#: The timings a job process reports about itself; the trusted side keeps no other key.
_JOB_TIMINGS = ("build_s", "verify_s", "total_s")


def _read_result(path: Path, code: int, manifest: JobManifest, snapshot: Path, elapsed: float) -> dict:
    """The run's result, trusted as a success only if its process also exited 0.

    What a developer will see of a failure depends on its phase (``execute``'s docstring). A failure
    while executing, or a process that died, is only that: data may have decided it, so no type,
    line or message. A build failure (the job process saw no data) keeps an error type from the
    closed set of exception classes, a line of the job's own file and a short message; a verify
    failure keeps the verifier's findings; a frame contract breach names only what the manifest
    declares (worded here). Timings are clipped to the process time measured here (``elapsed``).
    """
    try:
        result = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, ValueError):
        result = None
    if not isinstance(result, dict) or not (code == 0 or result.get("ok") is False):
        return {**_NOTHING, "phase": "execute"}
    timings = _timings(result.get("timings"), elapsed)
    if result.get("ok") is True:
        return {"ok": True, "timings": timings}
    phase = result.get("phase") if result.get("phase") in ("build", "verify") else "execute"
    failure = {**_NOTHING, "phase": phase, "timings": timings}
    contract = FrameContract.from_dict(result.get("contract"), manifest)
    if contract is not None:
        zh, en = contract.message(manifest)
        failure["contract"] = {**contract.as_dict(), "zh": zh, "en": en}
    if phase == "verify":
        failure["findings"] = [f.as_dict() for f in _findings(result.get("findings"))]
        failure["error_type"] = "FrameContractError" if contract is not None else "PlanRefused"
    elif phase == "build":
        lines = (snapshot / manifest.entry).read_text(encoding="utf-8").count("\n") + 1
        error_type, line, message = result.get("error_type"), result.get("error_line"), result.get("message")
        failure["error_type"] = error_type if error_type in known_error_types() else "Unknown"
        failure["error_line"] = line if type(line) is int and 1 <= line <= lines else None
        failure["message"] = message[:_MESSAGE_CHARS] if isinstance(message, str) else None
    return failure


_NOTHING = {"ok": False, "error_type": None, "error_line": None, "message": None, "findings": [], "timings": {},
            "contract": None}  # fmt: skip
_MESSAGE_CHARS = 500


def _findings(value) -> list[PlanFinding]:
    if not isinstance(value, list):
        return []
    kept = []
    for item in value:
        if isinstance(item, dict) and all(
            isinstance(item.get(k), str) for k in ("output", "rule", "zh", "en")
        ):
            line = item.get("line")
            kept.append(PlanFinding.from_dict({**item, "line": line if type(line) is int else None}))
    return kept


def _timings(value, elapsed: float) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {
        key: round(min(max(float(value[key]), 0.0), elapsed), 1)
        for key in _JOB_TIMINGS
        if isinstance(value.get(key), int | float)
    }


@functools.cache
def known_error_types() -> frozenset[str]:
    """Every name ``execute`` can report for an exception: built-in, Spark's and py4j's
    (module-qualified), or the platform's two."""
    import py4j.protocol
    import pyspark.errors.exceptions.captured  # noqa: F401 - defines the classes Spark raises
    import pyspark.errors.exceptions.connect  # noqa: F401 - and those its Connect client raises

    builtin = {
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    roots = [pyspark.errors.PySparkException, py4j.protocol.Py4JError]
    engine = {f"{cls.__module__}.{cls.__name__}" for root in roots for cls in _subclasses(root)}
    return frozenset(
        builtin | engine | {"PolicyViolation", "FrameContractError", "TimeoutKilled", "JobProcessDied"}
    )


def _subclasses(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


def coarse_timings(timings: dict[str, float]) -> dict[str, int]:
    """Timings in whole seconds, rounded up to a power of two: how long data took tells little then."""
    return {key: 1 << max(0, math.ceil(math.log2(max(value, 1.0)))) for key, value in timings.items()}


def _release_or_withhold(
    ctx, actor, run_id, submission, manifest, gate_dir, summary, dataset_versions, isolation, timings
):
    from sandbox.products import registry, versions

    if not summary.get("ok") or summary.get("released_cells", 0) == 0:
        shutil.rmtree(gate_dir, ignore_errors=True)
        return _finish(ctx, run_id, "withhold", actor, isolation=isolation, timings=timings, gate=summary)
    if registry.find(ctx, manifest.id) is None:
        registry.register(ctx, actor, product_id=manifest.id, title=manifest.title, scenario_id=manifest.scenario,
                          description=f"由作业 {manifest.id} 生成 / produced by job {manifest.id}")  # fmt: skip
    with ctx.transaction() as session:  # a rollback takes the released directory back (store.placement)
        version = versions.release(
            ctx, session, product_id=manifest.id, run_id=run_id, gate_dir=gate_dir,
            code_sha256=submission.code_sha256, dataset_versions=dataset_versions,
            policy=summary.get("policy", {}), outputs=summary.get("outputs", {}), actor=actor.username,
        )  # fmt: skip
        run = session.get(JobRunRow, run_id)
        _apply_finish(ctx, session, run, "release", actor, isolation=isolation, timings=timings, gate=summary)
        run.product_version_id = version.id
        return run


def _apply_finish(ctx, session, run: JobRunRow, action: str, actor: Principal, *, isolation, timings, gate=None,
                  error_type=None, error_line=None, contract=None, failure=None) -> None:  # fmt: skip
    run.state = RUN_LIFECYCLE.check(RunState(run.state), action).value
    run.isolation_json, run.timings_json = json.dumps(isolation), json.dumps(timings)
    run.error_type, run.error_line, run.finished_at = error_type, error_line, utc_now_iso()
    run.contract_json = json.dumps(contract, ensure_ascii=False) if contract else None
    run.failure_json = json.dumps(failure, ensure_ascii=False) if failure else None
    run.gate_summary_json = json.dumps(gate, ensure_ascii=False) if gate is not None else None
    ctx.audit(session, f"job.run_{run.state}", "job_run", run.id, actor=actor.username, isolation=isolation,
              error_type=error_type, error_line=error_line)  # fmt: skip


def _finish(ctx, run_id: str, action: str, actor: Principal, **fields) -> JobRunRow:
    with ctx.transaction() as session:
        run = session.get(JobRunRow, run_id)
        _apply_finish(ctx, session, run, action, actor, **fields)
        return run


def fail_interrupted(ctx, session, submission_id: str, actor: str) -> list[str]:
    """Fail, inside the caller's transaction, every run of a submission still marked running after the
    process that ran it stopped (the task queue's recovery); nothing of theirs was published, because a
    release is one transaction at the end of a run.

    What the stopped runner had started may still be running: its run process and its gate were each
    started in a session and cgroup of their own, which outlive it. They are ended (``end_recorded``),
    and what they wrote is removed: the run's staging (frames derived from raw data), its scratch and
    its gate's output."""
    runs = session.scalars(
        select(JobRunRow).where(
            JobRunRow.submission_id == submission_id, JobRunRow.state == RunState.RUNNING.value
        )
    ).all()
    scenario = session.get(JobSubmissionRow, submission_id).scenario_id
    for run in runs:
        ended = end_recorded(zone_path(ctx.settings, Zone.RUNS, run.id, PROCESSES))
        for leftover in (zone_path(ctx.settings, Zone.STAGING, scenario, run.id),
                         zone_path(ctx.settings, Zone.WORK, f"run-{run.id}"),
                         zone_path(ctx.settings, Zone.WORK, f"gate-{run.id}")):  # fmt: skip
            shutil.rmtree(leftover, ignore_errors=True)
        run.state = RUN_LIFECYCLE.check(RunState.RUNNING, "fail").value
        run.finished_at = utc_now_iso()
        run.failure_json = json.dumps({"phase": "interrupted"})
        ctx.audit(session, "job.run_failed", "job_run", run.id, actor=actor, reason="interrupted",
                  processes_ended=len(ended))  # fmt: skip
    return [run.id for run in runs]


def promotion_view(run: JobRunRow) -> dict:
    """What a promotion shows (``sandbox job promote``, the queued promotion's result): the run as a
    developer sees it, with the gate's per-output summary (counts and reasons, never a value)."""
    return {
        **developer_view(run),
        "gate": json.loads(run.gate_summary_json) if run.gate_summary_json else None,
    }


def developer_view(run: JobRunRow) -> dict:
    """What a developer may see of a production run: no logs and nothing data could have decided.

    ``_read_result`` narrowed it: the phase a failure happened in; for a build failure its type, line
    and message; for a refused plan the verifier's findings; a frame contract breach in manifest names.
    Timings are rounded to whole seconds.
    """
    contract = json.loads(run.contract_json) if run.contract_json else None
    failure = json.loads(run.failure_json) if run.failure_json else {}
    return {
        "run": run.id, "submission": run.submission_id, "state": run.state, "started_at": run.started_at,
        "finished_at": run.finished_at, "timings": coarse_timings(json.loads(run.timings_json or "{}")),
        "phase": failure.get("phase"), "error_type": run.error_type, "error_line": run.error_line,
        "message": failure.get("message"), "findings": failure.get("findings") or [],
        "reason": {"zh": contract["zh"], "en": contract["en"]} if contract else None,
    }  # fmt: skip
