"""Confinement with bubblewrap: the job process's jail (``argv``, ``run``) and the dev executor's
mount namespace (``confined``).

The jail runs as an unprivileged user and sees almost nothing. Readable: the Python installation,
the platform's package (the SDK the job imports), the job's own code and the plan endpoint's socket.
Writable: nothing. No network (a new, empty network namespace), no ``/proc``, its own PID, IPC and
UTS namespaces, no capabilities, a new session (no terminal), and limits on address space, processes
and CPU time; it dies with its parent. What the job's code could try — open a file, list the home,
open a socket, start a process — meets an empty filesystem and no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import sandbox
from sandbox.domain.errors import ShuyuError

NOBODY = 65534
#: Address space, processes (threads count: gRPC's), CPU seconds.
LIMITS = {"as_bytes": 3 * 1024**3, "nproc": 256, "cpu_s": 120}
WALL_TIMEOUT_S = 180
JOB_DIR, SOCKET_DIR = "/job", "/plan"


class JailUnavailable(ShuyuError):
    code = "E830"


@dataclass(frozen=True)
class Jailed:
    returncode: int
    stdout: str
    stderr: str


def entry_path(entry: str) -> str:
    """Where the job's entry file is inside the jail (its tracebacks and call sites name this path)."""
    return f"{JOB_DIR}/{entry}"


def _python_roots() -> list[Path]:
    """Directories the interpreter and its packages live in (the venv and the base installation)."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sysconfig.get_paths()["purelib"])}
    roots.add(Path(sys.executable).resolve().parent.parent)
    return sorted(roots)


def _system() -> list[str]:
    """Binds both confinements share: the system read-only, the Python installation, the platform's package."""
    binds = ["--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--symlink", "usr/bin", "/bin", "--dev", "/dev"]  # fmt: skip
    for root in [*_python_roots(), Path(sandbox.__file__).resolve().parent]:
        binds += ["--ro-bind", str(root), str(root)]
    return binds


def argv(job_dir: Path, socket_dir: Path) -> list[str]:
    command = [_bwrap(), "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--uid", str(NOBODY), "--gid", str(NOBODY), *_system(),
               "--ro-bind", str(job_dir), JOB_DIR, "--ro-bind", str(socket_dir), SOCKET_DIR, "--chdir", "/",
               "--clearenv", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
               "--setenv", "HOME", "/nonexistent", "--setenv", "LANG", "C.UTF-8"]  # fmt: skip
    limits = ["prlimit", f"--as={LIMITS['as_bytes']}", f"--nproc={LIMITS['nproc']}", f"--cpu={LIMITS['cpu_s']}",
              "--core=0", "--"]  # fmt: skip
    return [*command, *limits, sys.executable, "-I", "-m", "sandbox.runtime.jobproc"]


#: What a JVM and Hadoop need of /etc: Java's configuration, user and group names, time zone, hosts.
_ETC = ("alternatives", "java-17-openjdk", "java-21-openjdk", "passwd", "group", "nsswitch.conf", "hosts", "localtime",
        "timezone", "ssl/certs")  # fmt: skip


def confined(command: list[str], *, read_only: list[Path], writable: list[Path]) -> list[str]:
    """``command`` in a mount namespace that shows only the system, the Python installation, the
    platform's package and the given paths, with loopback as its only network.

    For the trusted process that executes a dev run's verified plans: it keeps root's capabilities
    (it starts the job's jail inside), but a plan that slipped past the verifier would still find no
    raw zone, no secrets and no other scenario's samples to read. Paths keep their names inside.
    """
    argv = [_bwrap(), "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
            *_system(), "--symlink", "usr/sbin", "/sbin", "--proc", "/proc", "--tmpfs", "/tmp"]  # fmt: skip
    for name in _ETC:
        if (Path("/etc") / name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for path in read_only:
        argv += ["--ro-bind", str(path), str(path)]
    for path in writable:
        argv += ["--bind", str(path), str(path)]
    return [*argv, *command]


def _bwrap() -> str:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise JailUnavailable(
            "未找到 bubblewrap（bwrap），作业进程无法隔离；请安装 bubblewrap",
            "bubblewrap (bwrap) was not found, so the job process cannot be isolated; install bubblewrap",
        )
    return bwrap


def run(job_dir: Path, socket_dir: Path, spec: str, *, timeout_s: int = WALL_TIMEOUT_S) -> Jailed:
    """Run the job process on ``spec`` (JSON, on its stdin) in the jail; killed after ``timeout_s``."""
    try:
        done = subprocess.run(argv(job_dir, socket_dir), input=spec, capture_output=True, text=True,
                              timeout=timeout_s)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        return Jailed(-9, "", f"killed after {timeout_s}s\n{exc.stderr or ''}")
    return Jailed(done.returncode, done.stdout, done.stderr)
