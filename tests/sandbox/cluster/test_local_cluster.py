"""``deploy/local-cluster`` on this machine: real Spark standalone, PostgreSQL and the API server.

One cluster for the module is enough: starting it is the slow part (three JVMs: Spark's master and
its two workers). It runs on ports moved by ``OFFSET`` and in a database of its
own, dropped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sandbox.cluster import supervisor
from sandbox.cluster.topology import PIECES, Cluster, Ports
from tests.conftest import PG_URL

SCRIPT = Path(__file__).parents[3] / "deploy" / "local-cluster"
OFFSET = 300


def local_cluster(*args: str, home: Path, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    argv = [
        str(SCRIPT),
        *args,
        "--home",
        str(home),
        "--database-url",
        database_url,
        "--port-offset",
        str(OFFSET),
    ]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)


def _listening_inodes() -> dict[str, str]:
    """Socket inode -> local address of every TCP socket listening on this machine (``/proc/net``)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[fields[9]] = fields[1].split(":")[0]
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    database = f"shuyu_cluster_{uuid.uuid4().hex[:8]}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    home = tmp_path_factory.mktemp("cluster") / "home"
    started = local_cluster("start", "--format", "json", home=home, database_url=url)
    try:
        yield home, url, started
    finally:
        local_cluster("stop", home=home, database_url=url)
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_every_piece_starts_in_order_healthy_on_loopback_and_a_second_start_changes_nothing(cluster):
    home, url, started = cluster
    assert started.returncode == 0, started.stderr
    rows = json.loads(started.stdout)
    assert [r["piece"] for r in rows] == [p.name for p in PIECES]
    assert all(r["healthy"] for r in rows)
    assert "Traceback" not in started.stderr and "WARN" not in started.stdout
    assert "postgres: 已就绪：数据库、迁移与主目录 / ready: database, migrations and home" in started.stderr
    assert started.stderr.count("已启动 / started") == len(PIECES) - 1

    running = Cluster(home, url, Ports().shifted(OFFSET))
    with urllib.request.urlopen(
        f"http://127.0.0.1:{running.ports.spark_master_ui}/json/", timeout=10
    ) as answer:
        master = json.load(answer)
    assert sum(w["state"] == "ALIVE" for w in master["workers"]) == 2
    with urllib.request.urlopen(f"{running.api_url}/api/health", timeout=10) as answer:
        assert json.load(answer) == {"ok": True}

    listening = _listening_inodes()
    pids = [r["pid"] for r in rows if r["pid"]]
    members = {pid for group in pids for pid in supervisor._members(group)}
    bound = {listening[i] for pid in members for i in _socket_inodes(pid) if i in listening}
    assert bound and bound <= LOOPBACK, bound  # every server of the cluster listens on 127.0.0.1 only

    again = local_cluster("start", "--format", "json", home=home, database_url=url)
    assert again.returncode == 0, again.stderr
    assert [r["pid"] for r in json.loads(again.stdout)] == [r["pid"] for r in rows]
    assert again.stderr.count("已在运行 / already running") == len(PIECES) - 1  # all but the store's check
    status = local_cluster("status", "--format", "json", home=home, database_url=url)
    assert status.returncode == 0 and all(r["healthy"] for r in json.loads(status.stdout))
    assert (home / "cluster" / "logs" / "spark-master.log").stat().st_size > 0


@pytest.mark.postgres
def test_stop_ends_every_process_of_the_cluster_and_status_says_so(cluster):
    home, url, started = cluster
    groups = [r["pid"] for r in json.loads(started.stdout) if r["pid"]]
    stopped = local_cluster("stop", home=home, database_url=url)
    assert stopped.returncode == 0, stopped.stderr
    assert not [pid for group in groups for pid in supervisor._members(group)]
    assert not list((home / "cluster" / "pids").iterdir())
    status = local_cluster("status", "--format", "json", home=home, database_url=url)
    assert status.returncode == 1
    rows = {r["piece"]: r for r in json.loads(status.stdout)}
    assert rows["postgres"]["healthy"] and not any(r["healthy"] for n, r in rows.items() if n != "postgres")


def test_an_unreachable_store_is_a_bilingual_error_and_starts_nothing(tmp_path):
    done = local_cluster(
        "start", home=tmp_path / "home", database_url="postgresql+psycopg://postgres@127.0.0.1:1/x"
    )
    assert done.returncode == 2
    assert "无法连接元数据库" in done.stderr and "cannot reach the metadata store" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "cluster" / "pids").exists()


def test_a_store_that_is_not_postgres_is_refused(tmp_path):
    done = local_cluster("start", home=tmp_path / "home", database_url=f"sqlite:///{tmp_path}/x.db")
    assert done.returncode == 2 and "PostgreSQL" in done.stderr and "Traceback" not in done.stderr


def test_the_store_is_ready_only_for_a_home_initialised_on_it_at_the_migrations_head(tmp_path, pg_schema):
    """A database another home already migrated is not ready for a new home: ``start`` prepares it."""
    from sandbox.context import PlatformContext
    from sandbox.settings import Settings

    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    store = next(p for p in PIECES if p.name == "postgres")
    first, second = Cluster(tmp_path / "one", url), Cluster(tmp_path / "two", url)
    assert not store.healthy(first)
    ctx = PlatformContext(Settings(home=first.home, database_url=url), actor="tester")
    ctx.init_home()
    ctx.engine.dispose()
    assert store.healthy(first) and not store.healthy(second)


def test_a_stale_pid_file_or_a_reused_pid_is_not_a_running_piece(tmp_path):
    nowhere = Cluster(tmp_path / "home", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    master = next(p for p in PIECES if p.name == "spark-master")
    pid_file = supervisor.state_dir(nowhere) / "pids" / "spark-master.pid"
    pid_file.parent.mkdir(parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    for recorded in (
        f"{gone.pid} 1",
        f"{os.getpid()} 1",
    ):  # exited; alive, but another process (started later)
        pid_file.write_text(recorded)
        state = supervisor.state(nowhere, master)
        assert (state.running, state.healthy, state.pid) == (False, False, None)
        assert not pid_file.exists()  # and so ``stop`` will never signal it


def test_ports_move_together():
    moved = Ports().shifted(5)
    assert (moved.spark_master, moved.spark_worker_ui, moved.api) == (7082, (8086, 8087), 8005)
