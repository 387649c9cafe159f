"""Start, check and stop the topology's pieces: pid files and logs under ``<home>/cluster/``.

Each piece starts in its own session (process group) with its log file as stdout and stderr, and
is healthy once its probe says so (``topology``); ``start`` goes in dependency order, waits for each
before the next, and leaves a piece alone that is already running, so it can be run again. ``stop``
goes in reverse order and ends each piece's whole process group (a JVM's children, the API server's
task worker): SIGTERM, then SIGKILL after a grace period, so no process of
the cluster outlives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.cluster.store import ClusterError
from sandbox.cluster.topology import PIECES, Cluster, Piece
from sandbox.runtime.isolation import process_stat, start_time

#: Seconds a piece gets to become healthy after it started, and to end after SIGTERM.
START_S = 120
STOP_S = 30


@dataclass(frozen=True)
class PieceState:
    name: str
    zh: str
    address: str
    pid: int | None
    running: bool
    healthy: bool
    log: str | None

    def as_row(self) -> dict:
        return {"piece": self.name, "label": self.zh, "address": self.address, "pid": self.pid,
                "running": self.running, "healthy": self.healthy, "log": self.log}  # fmt: skip


def state_dir(cluster: Cluster) -> Path:
    return cluster.home / "cluster"


def _pid_file(cluster: Cluster, piece: Piece) -> Path:
    return state_dir(cluster) / "pids" / f"{piece.name}.pid"


def log_file(cluster: Cluster, piece: Piece) -> Path:
    return state_dir(cluster) / "logs" / f"{piece.name}.log"


def _alive(pid: int) -> bool:
    return start_time(pid) is not None


def _pid(cluster: Cluster, piece: Piece) -> int | None:
    """The piece's process if it is still the one this cluster started (a stale pid file is removed)."""
    path = _pid_file(cluster, piece)
    try:
        pid, started = path.read_text().split()
        pid = int(pid)
    except (OSError, ValueError):
        return None
    if start_time(pid) == started:
        return pid
    path.unlink(missing_ok=True)
    return None


def _healthy(cluster: Cluster, piece: Piece) -> bool:
    try:
        return bool(piece.healthy(cluster))
    except Exception:  # noqa: BLE001 - any failed probe (refused, timed out, not ready) means "not yet"
        return False


def state(cluster: Cluster, piece: Piece) -> PieceState:
    pid = _pid(cluster, piece) if piece.argv is not None else None
    running = pid is not None if piece.argv is not None else True
    healthy = running and _healthy(cluster, piece)
    log = str(log_file(cluster, piece)) if piece.argv is not None else None
    return PieceState(piece.name, piece.zh, piece.address(cluster), pid, running, healthy, log)


#: What ``start`` did with a piece, as ``report`` is told.
STARTED, RUNNING, PREPARED = "started", "running", "prepared"


def start(cluster: Cluster, report: Callable[[PieceState, str], None]) -> list[PieceState]:
    """Every piece in order; ``report(state, done)`` after each, ``done`` one of ``STARTED``, ``RUNNING``
    (left as it was) or ``PREPARED``. A piece the cluster owns is left alone while healthy, like a running
    process; a server this machine runs is readied by its ``prepare`` every time (idempotent: a new home, or
    migrations a newer version brought, are applied before the API starts)."""
    states = []
    for piece in PIECES:
        if piece.argv is None and piece.teardown is not None and _healthy(cluster, piece):
            ready, done = state(cluster, piece), RUNNING
        elif piece.argv is None:
            piece.prepare(cluster)
            ready, done = _wait_healthy(cluster, piece, None), PREPARED
        elif (pid := _pid(cluster, piece)) is not None:
            ready, done = _wait_healthy(cluster, piece, pid), RUNNING
        else:
            ready, done = _wait_healthy(cluster, piece, _launch(cluster, piece)), STARTED
        states.append(ready)
        report(ready, done)
    return states


def _launch(cluster: Cluster, piece: Piece) -> int:
    log = log_file(cluster, piece)
    for directory in (log.parent, _pid_file(cluster, piece).parent):
        directory.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(piece.argv(cluster), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                   env=cluster.environment(), start_new_session=True)  # fmt: skip
    _pid_file(cluster, piece).write_text(f"{process.pid} {start_time(process.pid)}")
    return process.pid


def _wait_healthy(cluster: Cluster, piece: Piece, pid: int | None) -> PieceState:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if pid is not None and not _alive(pid):
            _pid_file(cluster, piece).unlink(missing_ok=True)
            raise ClusterError(*_failed(cluster, piece, "启动后退出", "exited after it started"))
        if _healthy(cluster, piece):
            return state(cluster, piece)
        time.sleep(0.5)
    raise ClusterError(*_failed(cluster, piece, f"{START_S} 秒内未就绪", f"not ready within {START_S} s"))


def _failed(cluster: Cluster, piece: Piece, zh: str, en: str) -> tuple[str, str]:
    where = log_file(cluster, piece) if piece.argv is not None else None
    tail = _tail(where) if where else ""
    see_zh = f"；日志：{where}" if where else ""
    see_en = f"; log: {where}" if where else ""
    return f"{piece.zh}（{piece.name}）{zh}{see_zh}{tail}", f"{piece.name} {en}{see_en}{tail}"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        last = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n" + "\n".join(last) if last else ""


def stop(cluster: Cluster, report: Callable[[str, bool], None]) -> None:
    """Every piece this cluster started or set up, in reverse order; ``report(name, was_running)``."""
    for piece in reversed(PIECES):
        if piece.argv is None:
            if piece.teardown is not None:
                was = _healthy(cluster, piece)
                piece.teardown(cluster)
                report(piece.name, was)
            continue
        pid = _pid(cluster, piece)
        if pid is not None:
            _end_group(pid)
        _pid_file(cluster, piece).unlink(missing_ok=True)
        report(piece.name, pid is not None)


def _end_group(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_S), (signal.SIGKILL, 10)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not any(True for _ in _members(pid)):
                return
            time.sleep(0.2)


def _members(group: int) -> Iterator[int]:
    """Live processes of a process group (Linux ``/proc``)."""
    for entry in Path("/proc").iterdir():
        fields = process_stat(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[2]) == group:
            yield int(entry.name)
