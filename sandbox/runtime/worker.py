"""The production run process: ``python -m sandbox.runtime.worker SPEC.json``.

Started by the production runner inside its isolation (no network but loopback, memory and time
limits). It runs no job code itself: the job's plans come from the jailed job process, are verified
here and run on the approved raw columns (``execute``); it writes contribution frames to staging and
a result file. It imports nothing of the platform's store, settings or gate.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    from sandbox.engines.spark import BATCH_DRIVER_JAVA_OPTIONS, spark_session
    from sandbox.runtime.execute import execute
    from sandbox.runtime.manifest import load_manifest
    from sandbox.runtime.plan.findings import PlanFinding

    job_dir = Path(spec["job_dir"])
    manifest = load_manifest(job_dir)
    # The runner chose: a local Spark in this process's loopback-only namespace, or a local cluster's master
    # from inside the cluster's compute segment (production._cluster_segment).
    spark = spark_session(
        spec.get("spark_master", "local[*]"),
        app_name=f"shuyu-job-{manifest.id}",
        driver_memory=spec.get("driver_memory", "2g"),
        local_dir=Path(spec["scratch_dir"]),
        java_options=BATCH_DRIVER_JAVA_OPTIONS,
    )
    spark.sparkContext.setLogLevel("ERROR")
    result = execute(
        spark, job_dir, manifest, {k: Path(v) for k, v in spec["inputs"].items()},
        Path(spec["staging_dir"]), date.fromisoformat(spec["as_of"]),
        hash_entities=True, input_entities=spec.get("input_entities"),
    )  # fmt: skip
    if result.traceback:  # for operators (``sandbox job logs``); what the developer sees is narrowed
        print(result.traceback, file=sys.stderr, flush=True)
    for finding in result.findings:
        print(f"plan refused: {PlanFinding.from_dict(finding)}", file=sys.stderr, flush=True)
    Path(spec["result_path"]).write_text(json.dumps(result.as_dict()), encoding="utf-8")
    spark.stop()
    return 0 if result.ok else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
