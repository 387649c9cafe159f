"""A server process on loopback for a benchmark: a free port, start until it answers, stop.

Shared by ``api.py`` and ``pages.py``, which time what a real ``sandbox serve`` answers from another
process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def serve_argv(port: int) -> list[str]:
    """``sandbox serve`` as the benchmarks run it: no task worker, on loopback."""
    return [sys.executable, "-m", "sandbox", "serve", "--no-worker", "--host", HOST, "--port", str(port)]


def start(argv: list[str], env: dict, ready_url: str) -> subprocess.Popen:
    """Start ``argv`` and return once ``ready_url`` answers 200; a server that exits or stays silent
    for 60 s ends the benchmark with its last words."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server did not start: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
