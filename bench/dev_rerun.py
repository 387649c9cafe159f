"""Dev runner: a warm re-run under ``--watch`` vs the cold first run, side by side (issue 5).

Builds a demo-sized platform (synthetic county, the elderly-care scenario and its desensitized
samples), then runs ``jobs/elderly_care_hotspots`` the way ``sandbox dev run JOB_DIR --watch`` does
(``sandbox.runtime.dev``: its own worker process, the same ``execute`` as production, the advisory
gate). The baseline is the cold first run: process and Spark start-up plus the run. Each warm
re-run is timed from saving an edit of ``job.py`` to its report arriving (file polling included).
Goal: a warm re-run in at most 5 s (median of 5), the job's plans built in the jail each time.

    .venv/bin/python bench/dev_rerun.py [--people 20000] [--reruns 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

JOB = Path(__file__).parents[1] / "jobs" / "elderly_care_hotspots"


def _stop_setup_engines() -> None:
    """Stop the Spark and Ray the set-up started, so the measured runs compete with nothing of ours."""
    import ray
    from pyspark.sql import SparkSession

    ray.shutdown()
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000, help="the demo's county size")
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args()

    from sandbox.context import PlatformContext
    from sandbox.demo.platform import build_platform
    from sandbox.governance.access import principal_for
    from sandbox.runtime import dev
    from sandbox.runtime.manifest import load_manifest
    from sandbox.samples import build_samples
    from sandbox.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-dev-"))
    try:
        ctx = PlatformContext(Settings(home=work / "home"), actor="admin")
        build_platform(ctx, work / "deliveries", people=args.people, seed=7)
        scenario = load_manifest(JOB).scenario
        build_samples(ctx, principal_for(ctx, "operator-1"), scenario, seed=7)
        _stop_setup_engines()
        job = work / "job"
        shutil.copytree(JOB, job)
        spec = dev.prepare(ctx, principal_for(ctx, "developer-1"), job)

        started = time.perf_counter()
        reports = dev.run(spec, watch=True)
        first = next(reports)
        cold = time.perf_counter() - started
        assert first["job"]["ok"], first["job"]
        print(f"cold first run: {cold:.1f}s (the run itself {first['seconds']}s)", flush=True)
        warm, inside = [], []
        source = (job / "job.py").read_text(encoding="utf-8")
        for rerun in range(args.reruns):
            time.sleep(1)  # a distinct modification time, as a developer's save would have
            (job / "job.py").write_text(f"{source}\n# edit {rerun + 1}\n", encoding="utf-8")
            started = time.perf_counter()
            report = next(reports)
            warm.append(time.perf_counter() - started)
            inside.append(report["seconds"])
            assert report["job"]["ok"], report["job"]
            print(
                f"warm re-run {rerun + 1}: {warm[-1]:.1f}s (the run itself {report['seconds']}s)", flush=True
            )
        reports.close()
        median = statistics.median(warm)
        print(f"samples of {scenario} from a {args.people:,}-person county; job {JOB.name}")
        print(f"cold first run (process + Spark start + run): {cold:.1f}s")
        print(f"warm re-run under --watch, median of {args.reruns}: {median:.1f}s "
              f"(the run itself {statistics.median(inside):.1f}s)")  # fmt: skip
        print(
            f"ratio warm/cold: {median / cold:.2f}x; goal: warm re-run <= 5 s -> {'met' if median <= 5 else 'NOT met'}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
