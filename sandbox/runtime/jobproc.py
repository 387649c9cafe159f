"""The job process: ``python -m sandbox.runtime.jobproc`` with a spec on stdin, inside ``jail``.

It runs the job's ``build(ctx)`` with a Spark Connect client whose only server is the plan endpoint
on a Unix socket, so every DataFrame it holds is a plan: no JVM, no rows, no paths. It prints one
JSON line: each output's serialized ``Plan``, or how ``build`` failed. Nothing here saw data, so a
failure is the developer's to see whole (type, line, message).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import traceback
from datetime import date
from pathlib import Path


def _session(socket: str):
    from pyspark.sql.connect.client import ChannelBuilder
    from pyspark.sql.connect.session import SparkSession

    class _UnixSocket(ChannelBuilder):
        def toChannel(self):  # noqa: N802 - pyspark's name
            return self._insecure_channel(f"unix:{socket}")

        @property
        def host(self) -> str:
            return "shuyu-plan-endpoint"

    return SparkSession.builder.channelBuilder(_UnixSocket()).getOrCreate()


def _record_lines(entry: str) -> dict[int, int]:
    """Each DataFrame's plan id → the job line that made it, for naming lines in the verifier's findings."""
    from pyspark.sql.connect.dataframe import DataFrame

    lines: dict[int, int] = {}
    original = DataFrame.__init__

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        plan_id = getattr(self._plan, "_plan_id", None)
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == entry and plan_id is not None:
                lines.setdefault(plan_id, frame.lineno)
                break

    DataFrame.__init__ = init
    return lines


def build_plans(spec: dict) -> dict:
    """Run ``build`` and return ``{"ok": True, "plans": {output: base64 Plan}}`` or the failure."""
    from sandbox.domain.contract import Breach, FrameContract
    from sandbox.runtime.guard import actions_refused
    from sandbox.runtime.jobcode import FrameContractError, job_line, load_build
    from sandbox.runtime.sdk import JobContext

    entry = Path(spec["entry"])
    try:
        spark = _session(spec["socket"])
        frames = {alias: spark.read.table(alias) for alias in spec["aliases"]}
        lines = _record_lines(str(entry))
        build = load_build(entry, spec["module"])
        with actions_refused():
            result = build(JobContext(frames, date.fromisoformat(spec["as_of"])))
        if not isinstance(result, dict):
            raise FrameContractError(FrameContract(Breach.NOT_A_MAPPING))
        missing = tuple(o for o in spec["outputs"] if o not in result)
        if missing:
            raise FrameContractError(FrameContract(Breach.OUTPUTS, missing=missing))
        if len(result) != len(spec["outputs"]):
            raise FrameContractError(FrameContract(Breach.UNDECLARED))
        plans = {}
        for name in spec["outputs"]:
            frame = result[name]
            if not hasattr(frame, "_plan") or type(frame).__module__ != "pyspark.sql.connect.dataframe":
                raise FrameContractError(FrameContract(Breach.NOT_A_FRAME, name))
            plans[name] = base64.b64encode(frame._plan.to_proto(spark.client).SerializeToString()).decode()
        return {"ok": True, "plans": plans, "lines": {str(k): v for k, v in lines.items()}}
    except Exception as exc:  # noqa: BLE001 - reported whole: nothing here depends on data
        return {
            "ok": False,
            "error_type": _error_type(exc),
            "error_line": job_line(exc, entry),
            "message": " ".join(str(exc).split())[:500],
            "contract": exc.contract.as_dict() if isinstance(exc, FrameContractError) else None,
            "traceback": "".join(traceback.format_exception(exc)),
        }


def _error_type(exc: BaseException) -> str:
    """Built-in exceptions by name, others module-qualified (the names ``production`` accepts)."""
    cls = type(exc)
    if cls.__module__ == "builtins" or cls.__name__ in ("PolicyViolation", "FrameContractError"):
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


def main() -> int:
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"  # pyspark.sql.functions builds Connect columns
    spec = json.loads(sys.stdin.read())
    print(json.dumps(build_plans(spec), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
