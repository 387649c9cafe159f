"""Process isolation for production job runs.

On Linux as root: a new network namespace holding only loopback (``unshare --net``), a memory
cgroup (v2 or v1) with a hard limit, and a wall-clock timeout that kills the whole process group.
What was actually applied is returned and recorded with the run — never assumed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Isolation:
    network: str = "none"  # "netns-loopback-only" when applied
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


def _memory_cgroup(limit: int) -> tuple[Path | None, str]:
    """Create a memory cgroup with ``limit`` bytes; returns (dir to join, description)."""
    name = f"shuyu-{uuid.uuid4().hex[:12]}"
    v2 = CGROUP_ROOT / "cgroup.controllers"
    try:
        if v2.exists() and "memory" in v2.read_text():
            path = CGROUP_ROOT / name
            path.mkdir()
            (path / "memory.max").write_text(str(limit))
            (path / "memory.swap.max").write_text("0")
            return path, "cgroup v2"
        v1 = CGROUP_ROOT / "memory"
        if v1.is_dir():
            path = v1 / name
            path.mkdir()
            (path / "memory.limit_in_bytes").write_text(str(limit))
            return path, "cgroup v1"
    except OSError as exc:
        return None, f"memory cgroup unavailable: {type(exc).__name__}"
    return None, "memory cgroup unavailable"


def run_isolated(
    argv: list[str],
    *,
    timeout_s: int,
    memory_limit_bytes: int,
    stdout: Path,
    stderr: Path,
    env: dict[str, str],
    require_network_isolation: bool = True,
) -> tuple[int, Isolation]:
    """Run ``argv`` isolated; returns (exit code, what isolation was applied). Exit −9 means killed."""
    isolation = Isolation(timeout_s=timeout_s)
    command = list(argv)
    if netns_available():
        command = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "job", *argv]
        isolation.network = "netns-loopback-only"
    elif require_network_isolation:
        raise RuntimeError("network isolation (unshare --net, as root) is not available on this machine")
    else:
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
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, preexec_fn=join_cgroup)  # noqa: PLW1509
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = -9
            isolation.notes.append(f"killed after {timeout_s}s")
    if cgroup is not None:
        _remove_cgroup(cgroup, isolation)
    return code, isolation


def _remove_cgroup(cgroup: Path, isolation: Isolation) -> None:
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
