"""Warming the gate's JVM while the job runs: the real gate code path on a small synthetic frame.

A gate started with ``--await-go`` waits for the job process, on a fresh JVM: a cold JVM runs the
gate's aggregation at about half the speed of a warm one (bytecode interpreted until the JIT has
compiled the hot loops, every generated class compiled by Janino on first use). So while it waits,
the gate runs :func:`~sandbox.gate.pipeline.gate_job` — same manifest, policy and code tables — on
synthetic contributions shaped like the manifest's outputs: dimension values from the declared
domains, measure inputs within their bounds, entity ids of the catalog's type. The query plans are
the real run's, so the generated classes are the same and already compiled when staging arrives.

What the warm-up may touch: only a temporary directory under the gate's scratch space (frames,
tables and report, deleted when it ends). Never staging, never the gate's ``--out``, no budget
ledger (DP outputs run advisory: noise, no spend), no products, no audit events. It stops as soon
as ``go`` (or end of input) arrives: its Spark jobs are cancelled and it is joined. Any failure is
logged to the gate's operator log (stderr) and otherwise ignored; the real run does not depend on it.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from sandbox.domain.gate import GatePolicy
from sandbox.domain.job import JobManifest, OutputSpec
from sandbox.gate.domains import resolve_domains
from sandbox.gate.errors import OutputRefused
from sandbox.gate.identifiers import IdentifierScanner

#: Contribution rows per output; measured on 2 cores against a 5M-row run (see bench/gate.py).
DEFAULT_ROWS = 200_000
#: Same codec as the job's staging (``sandbox.runtime.execute.STAGING_CODEC``): same reader path.
_CODEC = "lz4"  # pyarrow's "lz4" is Parquet LZ4_RAW
_JOB_GROUP = "shuyu-gate-warmup"


def synthetic_frame(
    output: OutputSpec, domains: dict[str, tuple[str, ...]], rows: int, *, seed: int = 0
) -> pa.Table:
    """``rows`` contribution rows over about 0.9·rows entities (some in two cells); every cell well populated.

    Entities are 64-bit integers, as in a production run's staging (the job runner hashes text ones).
    """
    rng = np.random.default_rng(seed)
    entities = np.arange(rows, dtype=np.int64) % max(1, int(rows * 0.9))
    columns: dict[str, pa.Array] = {output.entity: pa.array(entities)}
    for dim in output.dimensions:
        values = np.array(domains[dim], dtype=object)
        columns[dim] = pa.array(values[rng.integers(0, len(values), rows)])
    for measure in output.measures:
        if measure.column and measure.column not in columns:
            low, high = measure.bounds
            columns[measure.column] = pa.array(rng.uniform(low, high, rows))
    return pa.table(columns)


def warm_up(
    spark: SparkSession, manifest: JobManifest, work_root: Path, *, policy: GatePolicy,
    code_tables: dict[str, tuple[str, ...]], scanner: IdentifierScanner, rows: int = DEFAULT_ROWS,
    stop: threading.Event | None = None,
) -> dict[str, float]:  # fmt: skip
    """Gate synthetic frames for each of ``manifest``'s outputs in a temporary directory, then delete it.

    Returns per output the seconds it took. Outputs whose domains cannot be resolved are skipped (the
    real run refuses them anyway). Stops between outputs once ``stop`` is set.
    """
    from sandbox.gate.pipeline import gate_job  # the real code path

    work_root.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="gate-warmup-", dir=work_root))
    took: dict[str, float] = {}
    try:
        for index, output in enumerate(manifest.outputs):
            if stop is not None and stop.is_set():
                break
            try:
                domains = resolve_domains(output, code_tables)
            except OutputRefused:
                continue
            started = time.perf_counter()
            staging, out = root / f"staging-{index}", root / f"out-{index}"
            staging.mkdir()
            (staging / output.name).mkdir()
            frame = synthetic_frame(output, domains, rows)
            pq.write_table(frame, staging / output.name / "part-00000.parquet", compression=_CODEC)
            one = dataclasses.replace(manifest, outputs=(output,))
            gate_job(spark, one, staging, out, policy=policy, code_tables=code_tables, ledger=None,
                     input_datasets=[], scanner=scanner, run_id=None, advisory=True)  # fmt: skip
            took[output.name] = round(time.perf_counter() - started, 3)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return took


class BackgroundWarmup:
    """:func:`warm_up` in a thread of the gate process, under a Spark job group so it can be cancelled."""

    def __init__(self, spark: SparkSession, manifest: JobManifest, work_root: Path, **kwargs) -> None:
        self._spark = spark
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(manifest, work_root), kwargs=kwargs, name="gate-warmup", daemon=True
        )
        self._started = time.perf_counter()

    @classmethod
    def start(cls, spark: SparkSession, manifest: JobManifest, work_root: Path, **kwargs) -> BackgroundWarmup:
        warmup = cls(spark, manifest, work_root, **kwargs)
        warmup._thread.start()
        return warmup

    def _run(self, manifest: JobManifest, work_root: Path, **kwargs) -> None:
        _log(f"gate warm-up: started ({kwargs.get('rows', DEFAULT_ROWS)} synthetic rows per output)")
        try:
            self._spark.sparkContext.setJobGroup(
                _JOB_GROUP, "gate warm-up (synthetic data)", interruptOnCancel=True
            )
            took = warm_up(self._spark, manifest, work_root, stop=self._stop, **kwargs)
            state = "stopped" if self._stop.is_set() else "done"  # stopped: cut short by go / end of input
            _log(f"gate warm-up: {state} in {time.perf_counter() - self._started:.1f}s {took}")
        except BaseException as error:  # never fails the run: the warm-up is only a speed-up
            state = "stopped" if self._stop.is_set() else "failed"
            _log(
                f"gate warm-up: {state} after {time.perf_counter() - self._started:.1f}s ({type(error).__name__})"
            )

    def stop(self, timeout_s: float = 30.0) -> None:
        """Cancel the warm-up's Spark jobs until its thread has ended (or ``timeout_s`` has passed)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        while self._thread.is_alive() and time.monotonic() < deadline:
            self._spark.sparkContext.cancelJobGroup(_JOB_GROUP)
            self._thread.join(0.2)
        if self._thread.is_alive():
            _log("gate warm-up: still running after stop; gating anyway")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
