"""The CLI as a client: ``sandbox serve`` on loopback, ``sandbox login`` with a password, commands over
HTTP with the service's own bilingual errors, local-only commands refused with ``--server``, and a
served home where local ``--as`` is for administrators only. Real processes, real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import cli_env
from tests.sandbox.governance.conftest import build_cast

PASSWORD = "long enough password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture
def server(sqlite_ctx, tmp_path):
    build_cast(sqlite_ctx)
    env = cli_env(sqlite_ctx, SANDBOX_CONFIG_DIR=str(tmp_path / "config"), COLUMNS="80")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"sandbox serve did not answer: {process.communicate()[1][-2000:]}")
    workers = children(process.pid)
    assert len(workers) == 1  # serve started its task worker
    try:
        yield url, env, sqlite_ctx
    finally:
        process.terminate()
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")], "the worker outlived serve"


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_login_then_commands_go_through_the_service(server):
    url, env, _ctx = server
    assert sandbox(env, "--as", "admin", "user", "set-password", "operator-1", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0  # fmt: skip
    remote = {**env, "SANDBOX_SERVER": url}
    wrong = sandbox(remote, "login", "--user", "operator-1", "--password-stdin", stdin="not the password\n")
    assert (
        wrong.returncode == 2
        and "用户名或密码错误" in wrong.stderr
        and "wrong user name or password" in wrong.stderr
    )
    signed_in = sandbox(remote, "login", "--user", "operator-1", "--password-stdin", stdin=PASSWORD + "\n")
    assert signed_in.returncode == 0, signed_in.stderr
    stored = os.path.join(env["SANDBOX_CONFIG_DIR"], "credentials.json")
    assert oct(os.stat(stored).st_mode & 0o777) == "0o600"
    me = json.loads(sandbox(remote, "whoami", "--format", "json").stdout)
    assert me["user"] == "operator-1" and me["roles"] == ["operator"]
    assert sandbox(remote, "task", "list", "--format", "json").stdout.strip() == "[]"
    missing = sandbox(remote, "task", "show", "nope")
    assert missing.returncode == 2 and "E201" in missing.stderr
    local_only = sandbox(remote, "catalog", "list")
    assert local_only.returncode == 2 and "runs on the platform host only" in local_only.stderr
    second = sandbox(env, "--as", "admin", "worker", "--until-idle")  # serve's worker holds the home
    assert second.returncode == 2 and "a worker is already running" in second.stderr
    assert sandbox(remote, "logout").returncode == 0
    after = sandbox(remote, "whoami")
    assert after.returncode == 2 and "not signed in" in after.stderr


def test_a_served_home_lets_only_administrators_act_locally(server):
    _url, env, _ctx = server
    assert sandbox(env, "--as", "admin", "init", "--served").returncode == 0
    refused = sandbox(env, "--as", "operator-1", "whoami")
    assert refused.returncode == 2 and "--server" in refused.stderr and "管理员" in refused.stderr
    assert json.loads(sandbox(env, "--as", "admin", "whoami", "--format", "json").stdout)["user"] == "admin"
