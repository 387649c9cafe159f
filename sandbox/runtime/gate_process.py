"""The production gate's process, as the runner drives it: started beside the job, told to go, or cancelled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.context import PlatformContext
from sandbox.runtime.isolation import PROCESSES, IsolatedProcess, start_isolated

#: How long a gate that was not told to go gets to stop its Spark session before it is killed.
_GATE_STOP_S = 30


class GateProcess:
    """The trusted gate in its own process, started before the job and waiting for ``go``.

    It holds the platform's settings (database, home, policy) and runs outside the job's network
    namespace and memory cgroup; the job process cannot reach it (no shared pipe, its own loopback).
    """

    def __init__(self, process: IsolatedProcess, out_dir: Path) -> None:
        self._process, self._out_dir = process, out_dir
        self.peak_memory_bytes: int | None = None

    @classmethod
    def start(cls, ctx: PlatformContext, snapshot: Path, staging: Path, out_dir: Path, datasets: list[str],
              subjects: list[str], run_dir: Path, run_id: str, actor: str) -> GateProcess:  # fmt: skip
        """``subjects``: each input's raw version and subject column (``PATH=COLUMN``), for the entity check."""
        env = {**os.environ, "SANDBOX_HOME": str(ctx.settings.home_dir), "SPARK_LOCAL_IP": "127.0.0.1"}
        if ctx.schema:
            env["SANDBOX_DB_SCHEMA"] = ctx.schema
        argv = [sys.executable, "-m", "sandbox.gate", "--await-go", "--job-dir", str(snapshot),
                "--staging", str(staging), "--out", str(out_dir), "--run-id", run_id, "--actor", actor,
                *[arg for d in datasets for arg in ("--dataset", d)],
                *[arg for subject in subjects for arg in ("--entities", subject)]]  # fmt: skip
        process = start_isolated(argv, memory_limit_bytes=None, stdout=run_dir / "gate.stdout",
                                 stderr=run_dir / "gate.stderr", env=env, network_isolation=False,
                                 stdin=subprocess.PIPE, record=run_dir / PROCESSES)  # fmt: skip
        return cls(process, out_dir)

    def go(self) -> dict:
        """Let the gate read staging (the job process has exited successfully); its summary when done."""
        self._process.process.communicate(b"go\n")  # a gate that refused to start just exits non-zero
        code = self._wait(None)
        summary_path = self._out_dir / "gate_summary.json"
        if code != 0 or not summary_path.exists():
            return {"ok": False, "released_cells": 0}
        return json.loads(summary_path.read_text(encoding="utf-8"))

    def cancel(self) -> None:
        """End a gate that was not told to go (end of input); a no-op once it has finished."""
        if self._process.process.returncode is None:
            self._process.process.stdin.close()
            self._wait(_GATE_STOP_S)

    def _wait(self, timeout_s: float | None) -> int:
        code, isolation = self._process.wait(timeout_s)
        self.peak_memory_bytes = isolation.peak_memory_bytes
        return code
