"""Process isolation for production job runs.

On Linux as root: a new network namespace holding only loopback (``unshare --net``), or, for a run on
a local cluster, the cluster's own compute segment (``ip netns exec``; ``sandbox.cluster.network``), a
memory cgroup (v2 or v1) with a hard limit, and a wall-clock timeout that kills the whole process group.
What was actually applied is returned and recorded with the run — never assumed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: In a run's directory: the processes it started (run process, gate), for recovery to end them.
PROCESSES = "processes"
#: How long processes may outlive the main one in its cgroup before they are killed.
_STRAGGLER_GRACE_S = 5


@dataclass
class Isolation:
    network: str = "none"  # "netns-loopback-only", or "netns-cluster:<namespace>", when applied
    memory_limit_bytes: int | None = None
    memory_cgroup: str | None = None
    peak_memory_bytes: int | None = None  # the job process tree's high-water mark, from the cgroup
    timeout_s: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def netns_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


def _memory_cgroup(limit: int | None) -> tuple[Path | None, str]:
    """Create a memory cgroup with ``limit`` bytes (``None``: no limit); returns (dir to join, description)."""
    name = f"shuyu-{uuid.uuid4().hex[:12]}"
    v2 = CGROUP_ROOT / "cgroup.controllers"
    try:
        if v2.exists() and "memory" in v2.read_text():
            path = CGROUP_ROOT / name
            path.mkdir()
            if limit is not None:
                (path / "memory.max").write_text(str(limit))
                (path / "memory.swap.max").write_text("0")
            return path, "cgroup v2"
        v1 = CGROUP_ROOT / "memory"
        if v1.is_dir():
            path = v1 / name
            path.mkdir()
            if limit is not None:
                (path / "memory.limit_in_bytes").write_text(str(limit))
            return path, "cgroup v1"
    except OSError as exc:
        return None, f"memory cgroup unavailable: {type(exc).__name__}"
    return None, "memory cgroup unavailable"


def start_isolated(
    argv: list[str],
    *,
    memory_limit_bytes: int | None,
    stdout: Path,
    stderr: Path,
    env: dict[str, str],
    network_isolation: bool = True,
    require_network_isolation: bool = True,
    stdin: int | None = None,
    namespace: str | None = None,
    record: Path | None = None,
) -> IsolatedProcess:
    """Start ``argv`` in its own process group and memory cgroup, optionally in a loopback-only netns, or
    in the named network namespace ``namespace`` (a local cluster's compute segment). ``record``: a file
    the process is appended to (pid, start time, cgroup), so that whoever finds its starter gone can end
    it and all it started (``end_recorded``).

    ``memory_limit_bytes=None`` keeps the cgroup for accounting only (peak memory, no limit): the gate
    process is trusted, but its high-water mark is still worth recording.
    """
    isolation = Isolation()
    command = list(argv)
    if network_isolation and namespace is not None:
        if not netns_available():
            raise RuntimeError(f"joining the network namespace {namespace} needs root and ip")
        command = ["ip", "netns", "exec", namespace, *argv]
        isolation.network = f"netns-cluster:{namespace}"
    elif network_isolation and netns_available():
        command = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "job", *argv]
        isolation.network = "netns-loopback-only"
    elif network_isolation and require_network_isolation:
        raise RuntimeError("network isolation (unshare --net, as root) is not available on this machine")
    elif network_isolation:
        isolation.notes.append("network NOT isolated (dev fallback)")
    cgroup, how = _memory_cgroup(memory_limit_bytes)
    if cgroup is not None:
        isolation.memory_limit_bytes, isolation.memory_cgroup = memory_limit_bytes, how
    else:
        isolation.notes.append(how)

    def join_cgroup() -> None:  # runs in the child between fork and exec
        os.setsid()
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(  # noqa: PLW1509
            command, stdin=stdin, stdout=out, stderr=err, env=env, preexec_fn=join_cgroup
        )
    if record is not None:
        with record.open("a", encoding="utf-8") as processes:
            processes.write(f"{process.pid} {start_time(process.pid)} {cgroup or '-'}\n")
    return IsolatedProcess(process, isolation, cgroup)


def process_stat(pid: int) -> list[str] | None:
    """A live process's ``/proc/PID/stat`` fields after its name (state, ppid, pgrp, …), or None when it
    is gone or a zombie (ended, not yet reaped: an orphan waits for whoever reaps orphans here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields


def start_time(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot): with the pid, it names one process, never a later one
    that reuses the number. None when it is not running."""
    fields = process_stat(pid)
    return fields[19] if fields else None


def end_recorded(record: Path) -> list[int]:
    """SIGKILL every process ``record`` lists that is still the one recorded, with everything in its cgroup
    and process group, and remove the cgroups; returns the pids that were still running."""
    ended = []
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ended
    for line in lines:
        pid, started, cgroup = line.split()
        if start_time(int(pid)) == started:
            ended.append(int(pid))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid), signal.SIGKILL)
        if cgroup != "-" and Path(cgroup).is_dir():
            _remove_cgroup(Path(cgroup), Isolation())
    return ended


@dataclass
class IsolatedProcess:
    """A started isolated process; :meth:`wait` reaps it and reports the isolation applied."""

    process: subprocess.Popen
    isolation: Isolation
    cgroup: Path | None

    def wait(self, timeout_s: float | None) -> tuple[int, Isolation]:
        """Wait up to ``timeout_s`` (from now), then kill the whole process group; −9 means killed."""
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            code = -9
            self.isolation.notes.append(f"killed after {timeout_s}s")
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup, self.isolation)
            self.cgroup = None
        return code, self.isolation


def run_isolated(argv: list[str], *, timeout_s: int, memory_limit_bytes: int, stdout: Path, stderr: Path,
                 env: dict[str, str], require_network_isolation: bool = True, namespace: str | None = None,
                 record: Path | None = None) -> tuple[int, Isolation]:  # fmt: skip
    """Run ``argv`` isolated to the end; returns (exit code, what isolation was applied). −9 means killed."""
    started = start_isolated(argv, memory_limit_bytes=memory_limit_bytes, stdout=stdout, stderr=stderr, env=env,
                             require_network_isolation=require_network_isolation, namespace=namespace,
                             record=record)  # fmt: skip
    started.isolation.timeout_s = timeout_s
    return started.wait(timeout_s)


def _empty_cgroup(cgroup: Path) -> None:
    """Give what the main process left behind (Spark's JVM exits just after it) a moment, then kill it."""
    procs = cgroup / "cgroup.procs"
    deadline = time.monotonic() + _STRAGGLER_GRACE_S
    while procs.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in procs.read_text().split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    while procs.read_text().split() and time.monotonic() < deadline + _STRAGGLER_GRACE_S:
        time.sleep(0.05)


def _remove_cgroup(cgroup: Path, isolation: Isolation) -> None:
    _empty_cgroup(cgroup)
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        if (cgroup / name).exists():
            isolation.peak_memory_bytes = int((cgroup / name).read_text().split()[0])
            break
    for name in ("memory.events", "memory.failcnt"):
        counter = cgroup / name
        if counter.exists():
            text = counter.read_text()
            if ("oom_kill " in text and "oom_kill 0" not in text) or (
                name == "memory.failcnt" and text.strip() != "0"
            ):
                isolation.notes.append(f"memory limit reached ({name})")
    try:
        cgroup.rmdir()
    except OSError:
        isolation.notes.append(f"cgroup {cgroup.name} left for cleanup")
