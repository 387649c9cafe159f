"""The dev process: ``python -m sandbox.runtime.devworker SPEC.json [--watch]``.

Runs a job on its scenario's samples through the same ``execute`` as production, then the gate
in advisory mode (nothing released, no budget spent), and prints what the gate would release and
suppress. With ``--watch`` it keeps Spark warm and re-runs whenever a file of the job changes.
Like the production worker it holds no platform secrets: the spec carries paths, code tables and
the policy only.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

PREVIEW_ROWS = 10


def _fingerprint(job_dir: Path) -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in job_dir.rglob("*") if p.is_file()))


def run_once(spark, spec: dict, job_dir: Path) -> dict:
    from sandbox.domain.contract import FrameContract
    from sandbox.gate import advisory_gate
    from sandbox.runtime.execute import execute
    from sandbox.runtime.manifest import load_manifest

    started = time.perf_counter()
    staging = Path(spec["staging_dir"])
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest = load_manifest(job_dir)
    inputs = {k: Path(v) for k, v in spec["inputs"].items()}
    as_of = date.fromisoformat(spec["as_of"])
    result = execute(
        spark, job_dir, manifest, inputs, staging, as_of, input_entities=spec.get("input_entities")
    )
    # samples: the developer's to see, including an executing failure's traceback
    # a refused plan's traceback holds only the platform's frames; the others are the developer's to see
    executing = result.traceback if result.phase != "verify" else None
    report: dict = {"job": {**result.as_dict(), "traceback": result.job_traceback or executing}}
    if result.contract:
        zh, en = FrameContract.from_dict(result.contract, manifest).message(manifest)
        report["job"]["reason"] = {"zh": zh, "en": en}
    if result.ok:
        report["frames"] = {}
        for name in result.outputs:
            frame = spark.read.parquet(str(staging / name))
            report["frames"][name] = {
                "rows": frame.count(),
                "columns": frame.columns,
                "preview": [[str(v) for v in row] for row in frame.limit(PREVIEW_ROWS).collect()],
            }
        report["gate"] = advisory_gate(spark, manifest, staging, spec)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    from sandbox.engines.spark import spark_session

    spark = spark_session(
        spec.get("spark_master", "local[2]"), app_name="shuyu-dev", local_dir=Path(spec["scratch_dir"])
    )
    spark.sparkContext.setLogLevel("ERROR")
    job_dir = Path(spec["job_dir"])
    last = None
    while True:
        current = _fingerprint(job_dir)
        if current != last:
            last = current
            print(json.dumps(run_once(spark, spec, job_dir), ensure_ascii=False), flush=True)
        if "--watch" not in argv:
            return 0
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
