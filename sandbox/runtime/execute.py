"""Run one job: its plans built in the jail, verified and executed here, its frames written to staging.

One code path for samples (dev) and raw data (production): only the input paths differ. Three phases,
each with its own channel back to the developer:

- ``build``: the job process (``jobproc``, in ``jail``) ran ``build(ctx)`` over plans, never data, so
  its failure is shown whole: type, line, message.
- ``verify``: the trusted side checked each plan (``plan.protocheck``, ``plan.verify``); its findings
  name the rule, the reason and, where the plan recorded it, the job's line.
- ``execute``: the trusted side ran the verified plans on the inputs. Only here can data matter, so a
  production failure says only that it failed; the traceback stays with operators (``traceback``).
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.connect.proto import base_pb2 as pb2

from sandbox.domain.contract import Breach, FrameContract, required_columns
from sandbox.domain.job import JobManifest, OutputSpec
from sandbox.engines.connect_planner import Planner, analyzed
from sandbox.engines.staged_entity import entity_hash
from sandbox.runtime import jail
from sandbox.runtime.jobcode import FrameContractError
from sandbox.runtime.plan import protocheck
from sandbox.runtime.plan.endpoint import PlanEndpoint
from sandbox.runtime.plan.findings import PlanFinding, line_in
from sandbox.runtime.plan.verify import verify

#: Staging is written once, read once by the gate, then deleted: LZ4 makes both passes cheaper than
#: the session's zstd (5M contribution rows: 2.9 s + 12.0 s vs 3.5 s + 13.9 s) for 1.6× the bytes.
STAGING_CODEC = "lz4_raw"


@dataclass
class JobResult:
    ok: bool
    outputs: dict[str, list[str]] = field(default_factory=dict)  # output -> columns written
    phase: str | None = None  # where it failed: build, verify or execute
    error_type: str | None = None
    error_line: int | None = None
    message: str | None = None  # build phase only: nothing there saw data
    findings: list[dict] = field(default_factory=list)  # verify phase: PlanFinding.as_dict()
    timings: dict[str, float] = field(default_factory=dict)
    contract: dict | None = None  # FrameContract.as_dict(): names from the manifest only
    traceback: str | None = None  # never in ``as_dict``: in the execute phase it may quote values
    job_traceback: str | None = None  # from the job's own first frame on (dev runs show it)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "outputs": self.outputs, "phase": self.phase, "error_type": self.error_type,
                "error_line": self.error_line, "message": self.message, "findings": self.findings,
                "timings": self.timings, "contract": self.contract}  # fmt: skip


def _staged_entity(frame, entity: str):
    """A text entity as its 64-bit hash: the gate needs only which rows share an entity.

    Staging then carries 8 bytes an entity instead of an identifier: cheaper to write, read and shuffle.
    Two entities whose hashes collide (about 1 in 10^6 runs at 5M entities) count as one, which only
    lowers counts. A missing entity stays missing, for the gate to drop and count.
    """
    column = F.col(entity)
    if not isinstance(frame.schema[entity].dataType, T.StringType):
        return column
    return entity_hash(column).alias(entity)


def input_frames(spark, manifest: JobManifest, inputs: dict[str, Path]) -> dict:
    """Each input read with only its declared columns, as a leaf the verifier recognises."""
    frames = {}
    for spec in manifest.inputs:
        path = str(inputs[spec.alias])
        schema = spark.read.parquet(path).select(*spec.columns).schema
        frames[spec.alias] = spark.read.schema(schema).parquet(path)
    return frames


def build_plans(spark, job_dir: Path, manifest: JobManifest, frames: dict, as_of: date) -> dict:
    """The job process's answer: ``{"ok": True, "plans": …}`` or its failure (see ``jobproc``)."""
    # A Unix socket's path must stay under 108 bytes, which a home's scratch path may not: a short
    # private directory (the jail sees it as /plan).
    socket_dir = Path(tempfile.mkdtemp(prefix="shuyu-plan-"))
    socket_dir.chmod(0o755)
    entry = jail.entry_path(manifest.entry)
    spec = {"entry": entry, "module": f"job_{manifest.id.replace('-', '_')}", "aliases": sorted(frames),
            "outputs": [o.name for o in manifest.outputs], "as_of": as_of.isoformat(),
            "socket": f"{jail.SOCKET_DIR}/endpoint.sock"}  # fmt: skip
    try:
        with PlanEndpoint(spark, frames, socket_dir / "endpoint.sock", entry):
            done = jail.run(job_dir, socket_dir, json.dumps(spec))
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        reason = "TimeoutKilled" if done.returncode == -9 else "JobProcessDied"
        return {"ok": False, "error_type": reason, "traceback": done.stderr[-4000:]}
    return json.loads(lines[-1])


def verify_plans(planner: Planner, manifest: JobManifest, built: dict, input_entities: dict[str, str] | None):
    """Each output's DataFrame and every finding about any of them (none: all may run)."""
    entry, aliases = jail.entry_path(manifest.entry), {i.alias for i in manifest.inputs}
    findings: list[PlanFinding] = []
    frames = {}
    lines = {int(k): v for k, v in (built.get("lines") or {}).items() if type(v) is int}
    for spec in manifest.outputs:
        raw = base64.b64decode(built["plans"][spec.name])
        message = pb2.Plan.FromString(raw)
        refused = protocheck.check(spec.name, message, aliases, entry)
        if refused:
            findings += refused
            continue
        frame = planner.dataframe(raw)
        _check_frame(frame, spec, required_columns(spec))
        plan_json, root = analyzed(frame)
        findings += verify(spec.name, plan_json, root, aliases, spec.entity,
                           input_entities, protocheck.call_sites(message, entry, lines),
                           {i.alias: i.join_keys for i in manifest.inputs})  # fmt: skip
        frames[spec.name] = frame
    return frames, findings


def execute(
    spark, job_dir: Path, manifest: JobManifest, inputs: dict[str, Path], staging_dir: Path, as_of: date,
    *, hash_entities: bool = False, input_entities: dict[str, str] | None = None,
) -> JobResult:  # fmt: skip
    """Build the plans in the jail, verify them, run them and write each to ``staging_dir/<output>``.

    ``hash_entities`` (production) stages text entities as 64-bit hashes; dev runs keep the samples'
    values, which the developer's preview shows. ``input_entities``: alias → the catalog's subject
    column, the only columns an output's entity may be.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    planner = Planner(spark.newSession())  # its own views and settings; the caller's session is untouched
    frames = input_frames(planner.spark, manifest, inputs)
    built = build_plans(spark, job_dir, manifest, frames, as_of)
    timings["build_s"] = round(time.perf_counter() - started, 3)
    if not built.get("ok"):
        return JobResult(False, phase="build", error_type=built.get("error_type"), error_line=built.get("error_line"),
                         message=built.get("message"), contract=built.get("contract"), timings=timings,
                         traceback=built.get("traceback"), job_traceback=_job_traceback(built.get("traceback")))  # fmt: skip
    planner.bind(frames)
    try:
        verified, findings = verify_plans(planner, manifest, built, input_entities)
    except FrameContractError as exc:
        return JobResult(False, phase="verify", error_type="FrameContractError", contract=exc.contract.as_dict(),
                         traceback="".join(traceback.format_exception(exc)),
                         timings=timings)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - an analysis error: names and types, no data yet
        text = _first_line(exc)
        finding = PlanFinding("*", "analysis", f"计划无法解析：{text}", f"the plan does not analyze: {text}",
                              _call_site(exc, manifest))  # fmt: skip
        return JobResult(False, phase="verify", findings=[finding.as_dict()], timings=timings)
    timings["verify_s"] = round(time.perf_counter() - started - timings["build_s"], 3)
    if findings:
        return JobResult(False, phase="verify", findings=[f.as_dict() for f in findings], timings=timings)
    try:
        written = {}
        for spec in manifest.outputs:
            frame, columns = verified[spec.name], required_columns(spec)
            staged = [
                _staged_entity(frame, c) if hash_entities and c == spec.entity else F.col(c) for c in columns
            ]
            frame.select(*staged).write.mode("error").option("compression", STAGING_CODEC).parquet(
                str(staging_dir / spec.name)
            )
            written[spec.name] = columns
    except Exception as exc:  # noqa: BLE001 - data may be in it: operators only (see module docstring)
        return JobResult(
            False, phase="execute", timings=timings, traceback="".join(traceback.format_exception(exc))
        )
    timings["total_s"] = round(time.perf_counter() - started, 3)
    return JobResult(True, written, timings=timings)


def _call_site(exc: Exception, manifest: JobManifest) -> int | None:
    """The job's line in Spark's query context ("… was called from /job/job.py:3"), if there."""
    contexts = exc.getQueryContext() if hasattr(exc, "getQueryContext") else []
    sites = " ".join([context.callSite() for context in contexts] + [str(exc)])
    return line_in(sites, jail.entry_path(manifest.entry))


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "desc", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


def _check_frame(frame, spec: OutputSpec, columns: list[str]) -> None:
    missing = tuple(c for c in columns if c not in frame.columns)
    if missing:
        raise FrameContractError(FrameContract(Breach.COLUMNS, spec.name, missing))


def _job_traceback(text: str | None) -> str | None:
    """The traceback from the job file's first frame on (the platform's frames say nothing useful)."""
    if not text:
        return None
    marker = f'File "{jail.JOB_DIR}/'
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if marker in line), None)
    if first is None:
        return None
    return "Traceback (most recent call last):\n" + "".join(lines[first:])
