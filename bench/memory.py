"""Memory: a 10M-person raw input through the full production path with a 2 GB Spark driver (issue 5).

The job (``bench/gate.py``'s income-by-district-and-age job: one contribution row per person) runs
in its isolated process under a memory cgroup, the gate in its own; both aggregate in Spark and
collect only per-cell results, so a 2 GB driver suffices however many people there are. Prints the
peak memory of each process tree as its cgroup recorded it (``memory.peak``: RSS plus page cache
charged to it), the run's timings and what was released. The baseline is the driver size: a
process that collected the rows would need several times the input's in-memory size.

    .venv/bin/python bench/memory.py [--people 10000000] [--driver-memory 2g] [--memory-limit-gib 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from gate import approved_submission, make_people, setup_platform  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--memory-limit-gib", type=float, default=4.0, help="the job process's cgroup limit")
    args = parser.parse_args()

    from sandbox.governance.access import principal_for
    from sandbox.runtime import production
    from sandbox.runtime.production import RunLimits

    work = Path(tempfile.mkdtemp(prefix="shuyu-bench-memory-"))
    try:
        started = time.perf_counter()
        make_people(work / "people", args.people)
        ctx = setup_platform(work / "home", work / "people", args.driver_memory)
        shutil.rmtree(work / "people")
        raw = next((ctx.settings.raw_dir / "bench_people").iterdir())
        raw_mib = sum(p.stat().st_size for p in raw.rglob("*.parquet")) / 2**20
        print(f"input: {args.people:,} people, raw Parquet {raw_mib:,.0f} MiB (prepared in "
              f"{time.perf_counter() - started:.0f}s)", flush=True)  # fmt: skip
        submission = approved_submission(ctx, work / "job")
        limits = RunLimits(
            driver_memory=args.driver_memory, memory_bytes=int(args.memory_limit_gib * 1024**3)
        )
        started = time.perf_counter()
        run = production.promote(ctx, principal_for(ctx, "operator-2"), submission.id, limits=limits)
        elapsed = time.perf_counter() - started
        isolation, timings = json.loads(run.isolation_json), json.loads(run.timings_json)
        summary = json.loads(run.gate_summary_json or "{}")
        print(f"run {run.state} in {elapsed:.1f}s (job process {timings.get('job_process_s')}s, "
              f"gate after it {timings.get('gate_s')}s); released cells {summary.get('released_cells')}")  # fmt: skip
        print(f"driver memory (job and gate): {args.driver_memory}; job cgroup limit "
              f"{args.memory_limit_gib:.1f} GiB; notes: {isolation['notes'] or 'none'}")  # fmt: skip
        job_gib, gate_gib = (
            isolation["peak_memory_bytes"] / 1024**3,
            isolation["gate_peak_memory_bytes"] / 1024**3,
        )
        print(f"peak memory, job process tree (cgroup):  {job_gib:.2f} GiB")
        print(f"peak memory, gate process tree (cgroup): {gate_gib:.2f} GiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
