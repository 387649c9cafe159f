"""Isolation really applies: no network but loopback, a hard memory limit, a wall-clock limit.

Needs root and util-linux ``unshare`` (CI and this machine run as root). The network probe
targets a reserved documentation address (192.0.2.1, TEST-NET-1): it must fail before any
packet could leave, because the namespace has no route at all.
"""

from __future__ import annotations

import os
import sys

from sandbox.runtime.isolation import netns_available, run_isolated


def test_this_machine_can_isolate():
    """Production refuses to run without network isolation, so CI must have it: fail, never skip."""
    assert netns_available()


PROBE = """
import errno, socket, sys
s = socket.socket(); s.settimeout(2)
code = s.connect_ex(("192.0.2.1", 80))
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
client = socket.create_connection(server.getsockname(), timeout=2)
print(code, errno.errorcode.get(code), "loopback-ok")
"""


def _run(tmp_path, code: str, **kwargs):
    defaults = dict(timeout_s=60, memory_limit_bytes=512 * 1024**2, stdout=tmp_path / "out", stderr=tmp_path / "err",
                    env={"PATH": os.environ["PATH"]})  # fmt: skip
    defaults.update(kwargs)
    return run_isolated([sys.executable, "-c", code], **defaults)


def test_no_network_but_loopback(tmp_path):
    code, isolation = _run(tmp_path, PROBE)
    assert code == 0, (tmp_path / "err").read_text()
    errno_code, name, loopback = (tmp_path / "out").read_text().split()
    assert name in ("ENETUNREACH", "EHOSTUNREACH") and loopback == "loopback-ok"
    assert isolation.network == "netns-loopback-only"


def test_memory_limit_kills(tmp_path):
    code, isolation = _run(
        tmp_path, "x = bytearray(600 * 1024 * 1024)\nprint('survived')", memory_limit_bytes=200 * 1024**2
    )
    assert code != 0
    assert "survived" not in (tmp_path / "out").read_text()
    assert isolation.memory_limit_bytes == 200 * 1024**2


def test_timeout_kills_the_process_group(tmp_path):
    code, isolation = _run(
        tmp_path, "import subprocess, time\nsubprocess.Popen(['sleep', '30'])\ntime.sleep(30)", timeout_s=2
    )
    assert code == -9 and any("killed after 2s" in n for n in isolation.notes)


def test_peak_memory_is_recorded(tmp_path):
    code, isolation = _run(tmp_path, "x = bytearray(100 * 1024 * 1024)\nx[::4096] = b'1' * len(x[::4096])")
    assert code == 0 and isolation.peak_memory_bytes >= 100 * 1024**2
