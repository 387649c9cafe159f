"""The gate process: ``python -m sandbox.gate --job-dir DIR --staging DIR --out DIR [--dataset ID ...]
[--entities PATH=COLUMN ...]``.

Started by the production runner (and the dev runner) in a process of its own. The platform home, the
database URL and the policy file come from the ``SANDBOX_*`` settings; ``SANDBOX_DB_SCHEMA`` pins a
PostgreSQL schema. Writes the released tables, ``gate_report.json``/``.md`` and ``gate_summary.json``
to ``--out``; exits 0 when the gate ran (whatever it released), 2 on a refused start.

With ``--await-go`` the production runner starts the gate alongside the job process, so the gate's
Spark and recognizer start-up overlap the job run; the gate then reads staging only after ``go`` on
stdin, which the runner sends once the job process has exited successfully. Anything else (the job
failed, the runner died: end of input) ends the gate with exit code 3, staging unread. While it waits,
it warms its JVM up on synthetic data (``sandbox.gate.warmup``; ``SANDBOX_GATE_WARMUP_ROWS``, 0 for
none): never staging, never ``--out``, no budget, no audit; stopped as soon as ``go`` or end of input
arrives, and a failure is only logged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sandbox.context import PlatformContext
from sandbox.domain.errors import ShuyuError
from sandbox.engines.spark import BATCH_DRIVER_JAVA_OPTIONS, spark_session
from sandbox.gate import dp
from sandbox.gate.entities import EntitySource
from sandbox.gate.errors import GateInputError
from sandbox.gate.identifiers import samples_scanner
from sandbox.gate.ledger import BudgetLedger
from sandbox.gate.pipeline import gate_job
from sandbox.gate.policy import load_policy
from sandbox.gate.register import ReleaseRegister
from sandbox.gate.warmup import BackgroundWarmup
from sandbox.runtime.manifest import load_manifest
from sandbox.settings import get_settings
from sandbox.store import catalog_repo

NOT_TOLD_TO_GO = 3


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.gate", description="Shuyu trusted gate / 数域可信出口网关"
    )
    parser.add_argument("--job-dir", type=Path, required=True, help="the reviewed job snapshot (job.toml)")
    parser.add_argument(
        "--staging", type=Path, required=True, help="the run's staging dir of contribution frames"
    )
    parser.add_argument("--out", type=Path, required=True, help="where released tables and the report go")
    parser.add_argument(
        "--dataset", action="append", default=[], help="an input dataset (pays for DP outputs)"
    )
    parser.add_argument("--entities", action="append", default=[], type=EntitySource.parse, metavar="PATH=COLUMN",
                        help="an input's raw version and subject column: every staged entity must be in one")  # fmt: skip
    parser.add_argument("--run-id", default=None, help="the production run, recorded with budget spends")
    parser.add_argument("--actor", default="system:gate", help="who the audit trail names for budget spends")
    parser.add_argument(
        "--await-go", action="store_true", help="start up, then read staging only after 'go' on stdin"
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    settings = get_settings()
    ctx = PlatformContext(settings, actor=args.actor, schema=os.environ.get("SANDBOX_DB_SCHEMA") or None)
    ctx.require_home()
    if not args.staging.is_dir():
        raise GateInputError(
            f"暂存目录 {args.staging} 不存在", f"staging directory {args.staging} does not exist"
        )
    policy = load_policy(settings.policy_file)
    manifest = load_manifest(args.job_dir)
    with ctx.sessions() as session:
        code_tables = catalog_repo.code_tables(session)
        grades = {d: row.grade for d in args.dataset if (row := catalog_repo.get_dataset(session, d))}
    spark = spark_session(settings.spark_master, app_name=f"shuyu-gate-{manifest.id}",
                          driver_memory=settings.spark_driver_memory, local_dir=settings.work_dir / "spark",
                          java_options=BATCH_DRIVER_JAVA_OPTIONS, driver_host=settings.spark_driver_host,
                          driver_port=settings.spark_driver_port)  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    try:
        scanner = samples_scanner()
        scanner(["0"])  # loads the recognizers now, while a job may still be running
        if args.await_go:
            warmup = None
            # The real code path on synthetic data, while the job runs: it warms this driver's JVM. On a
            # cluster the work happens on executors, which could not read the warm-up's frames anyway.
            if settings.gate_warmup_rows > 0 and settings.spark_master.startswith("local"):
                warmup = BackgroundWarmup.start(spark, manifest, settings.work_dir, policy=policy,
                                                code_tables=code_tables, scanner=scanner,
                                                rows=settings.gate_warmup_rows)  # fmt: skip
            told = sys.stdin.readline().strip()
            if warmup is not None:
                warmup.stop()
            if told != "go":
                return NOT_TOLD_TO_GO
        gate_job(spark, manifest, args.staging, args.out, policy=policy, code_tables=code_tables,
                 ledger=BudgetLedger(ctx, policy.differential_privacy, actor=args.actor),
                 input_datasets=args.dataset, scanner=scanner, run_id=args.run_id,
                 entity_sources=args.entities or None,
                 register=ReleaseRegister(ctx, actor=args.actor) if args.run_id else None,
                 dp_required_by=dp.required_by(policy.differential_privacy, grades))  # fmt: skip
    finally:
        spark.stop()
        ctx.engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except ShuyuError as error:
        print(json.dumps(error.as_dict(), ensure_ascii=False), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
