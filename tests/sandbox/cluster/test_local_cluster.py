"""``deploy/local-cluster`` on this machine: real Spark standalone in its compute segment, PostgreSQL and
the API server; a promotion on it, an executor trying to reach what it must not, and the same product
as the embedded default.

One cluster for the module is enough: starting it is the slow part (three JVMs: Spark's master and
its two workers). It runs on ports moved by ``OFFSET``, in a segment numbered by it, and in a database
of its own, dropped at the end. Its home holds a small synthetic county (``build_platform``), built on
that database before the cluster starts, as a province's operators would have it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, select, text

from sandbox.cluster import supervisor
from sandbox.cluster.topology import PIECES, Cluster, Ports
from sandbox.context import PlatformContext
from sandbox.demo.platform import build_platform
from sandbox.governance import identities
from sandbox.governance.access import principal_for
from sandbox.products import versions
from sandbox.runtime import isolation, production, submissions
from sandbox.settings import Settings
from sandbox.store.models import JobRunRow
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


def listening_in(pid: int) -> dict[str, str]:
    """Socket inode -> local address of every TCP socket listening in ``pid``'s network namespace."""
    return _listening_inodes(f"/proc/{pid}/net")


def _listening_inodes(net: str = "/proc/net") -> dict[str, str]:
    """Socket inode -> local address of every TCP socket listening on this machine (``/proc/net``)."""
    found = {}
    for table in (f"{net}/tcp", f"{net}/tcp6"):
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


PEOPLE, SEED = 1500, 5
JOB = Path(__file__).parents[3] / "jobs" / "elderly_care_hotspots"
PRODUCT, TABLE = "elderly_care_hotspots", "elderly_by_district.parquet"


def _hex(address: str) -> str:
    """An IPv4 address as ``/proc/net/tcp`` writes it."""
    return socket.inet_aton(address)[::-1].hex().upper()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    database = f"shuyu_cluster_{uuid.uuid4().hex[:8]}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    root = tmp_path_factory.mktemp("cluster")
    home = root / "home"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    ctx = PlatformContext(Settings(home=home, database_url=url), actor="admin")
    build_platform(ctx, root / "deliveries", people=PEOPLE, seed=SEED)
    ctx.engine.dispose()
    started = local_cluster("start", "--format", "json", home=home, database_url=url)
    try:
        yield home, url, started
    finally:
        local_cluster("stop", home=home, database_url=url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _running(home: Path, url: str) -> Cluster:
    return Cluster(home, url, Ports().shifted(OFFSET), OFFSET)


@pytest.mark.postgres
@pytest.mark.cluster
def test_every_piece_starts_in_order_healthy_on_loopback_and_a_second_start_changes_nothing(cluster):
    home, url, started = cluster
    assert started.returncode == 0, started.stderr
    rows = json.loads(started.stdout)
    assert [r["piece"] for r in rows] == [p.name for p in PIECES]
    assert all(r["healthy"] for r in rows)
    assert "Traceback" not in started.stderr and "WARN" not in started.stdout
    assert "postgres: 已准备就绪 / set up and ready" in started.stderr
    assert "compute-network: 已准备就绪 / set up and ready" in started.stderr
    assert started.stderr.count("已启动 / started") == sum(p.argv is not None for p in PIECES)

    running = _running(home, url)
    inner = running.segment.inner_address
    with urllib.request.urlopen(
        f"http://{inner}:{running.ports.spark_master_ui}/json/", timeout=10
    ) as answer:
        master = json.load(answer)
    assert sum(w["state"] == "ALIVE" for w in master["workers"]) == 2
    with urllib.request.urlopen(f"{running.api_url}/api/health", timeout=10) as answer:
        assert json.load(answer) == {"ok": True}

    listening = _listening_inodes()
    groups = {r["piece"]: r["pid"] for r in rows if r["pid"]}
    api = set(supervisor._members(groups.pop("api")))
    bound = {listening[i] for pid in api for i in _socket_inodes(pid) if i in listening}
    assert bound and bound <= LOOPBACK, bound  # the API and its worker listen on 127.0.0.1 only
    spark = {pid for group in groups.values() for pid in supervisor._members(group)}
    inside = {listening_in(pid)[i] for pid in spark for i in _socket_inodes(pid) if i in listening_in(pid)}
    segment = {_hex(inner), "0000000000000000FFFF0000" + _hex(inner)}  # as IPv4, and as the JVM's mapped IPv6
    assert inside and inside <= LOOPBACK | segment, inside  # Spark: its segment's address only
    assert not {i for pid in spark for i in _socket_inodes(pid)} & set(listening)  # none on this machine's

    again = local_cluster("start", "--format", "json", home=home, database_url=url)
    assert again.returncode == 0, again.stderr
    assert [r["pid"] for r in json.loads(again.stdout)] == [r["pid"] for r in rows]
    assert again.stderr.count("已在运行 / already running") == len(PIECES) - 1  # all but the store's check
    status = local_cluster("status", "--format", "json", home=home, database_url=url)
    assert status.returncode == 0 and all(r["healthy"] for r in json.loads(status.stdout))
    assert (home / "cluster" / "logs" / "spark-master.log").stat().st_size > 0


#: Run by a driver on this machine against the cluster; each probe runs inside an executor.
PROBE = """
import json, os, socket, sys
from pathlib import Path
from sandbox.engines.spark import spark_from_settings
from sandbox.settings import Settings

home, host, api, store_files = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

def probe(_):
    def connect(address, port):
        try:
            socket.create_connection((address, port), timeout=3).close()
            return "connected"
        except OSError as err:
            return type(err).__name__
    def attempt(action):
        try:
            action()
            return "done"
        except OSError as err:
            return type(err).__name__
    raw = next(p for p in (home / "raw").rglob("*.parquet"))
    yield json.dumps({
        "store": connect("127.0.0.1", 5432), "store_via_machine": connect(host, 5432),
        "api": connect("127.0.0.1", api), "api_via_machine": connect(host, api),
        "off_machine": connect("192.0.2.1", 80),
        "secrets": sorted(os.listdir(home)) if home.is_dir() else None,
        "secret_file": attempt(lambda: [f.read_bytes() for f in (home / "secrets").iterdir()]),
        "store_files": attempt(lambda: os.listdir(store_files)),
        "raw_read": attempt(lambda: raw.read_bytes()), "raw_write": attempt(lambda: (raw.parent / "x").write_text("x")),
        "staging_write": attempt(lambda: (home / "staging" / "probe").write_text("x")),
    })

spark = spark_from_settings(Settings())
spark.sparkContext.setLogLevel("ERROR")
print(spark.sparkContext.parallelize([0], 1).mapPartitions(probe).collect()[0])
spark.stop()
"""


@pytest.mark.postgres
@pytest.mark.cluster
def test_an_executor_reaches_spark_and_its_zones_and_nothing_else(cluster):
    """From inside an executor: no store (on either address), no API, no address off the machine, no
    home but its zones (so no secrets), no store files; raw is read-only, staging writable. The network
    namespace stops the connections (off the machine: no route; this machine's loopback servers: not on
    the namespace's loopback; its other address: the segment's firewall); the mount namespace hides the
    home, and dropped capabilities keep the store's files (mode 700, another owner) closed."""
    home, url, _started = cluster
    running = _running(home, url)
    assert (home / "secrets").is_dir() and any((home / "secrets").iterdir())
    env = {**running.environment(), "PYSPARK_PYTHON": sys.executable}
    server = create_engine(PG_URL)
    with server.connect() as conn:  # the store's own files, which its server's user alone may read
        store_files = conn.execute(text("SHOW data_directory")).scalar_one()
    server.dispose()
    done = subprocess.run([sys.executable, "-c", PROBE, str(home), running.segment.host_address,
                           str(running.ports.api), store_files], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["store"] == seen["api"] == "ConnectionRefusedError"  # the namespace's own loopback: nothing
    assert seen["store_via_machine"] == seen["api_via_machine"] == "TimeoutError"  # dropped by the firewall
    assert seen["off_machine"] == "OSError"  # no route out of the segment (ENETUNREACH)
    assert seen["secrets"] == ["cluster", "raw", "register", "staging", "tickets"]
    assert seen["secret_file"] == "FileNotFoundError" and seen["store_files"] == "PermissionError"
    assert (seen["raw_read"], seen["raw_write"], seen["staging_write"]) == ("done", "OSError", "done")
    assert (home / "staging" / "probe").read_text() == "x"  # what the executor wrote, seen outside
    forward = ["iptables", "-C", "FORWARD", "-i", running.segment.host_link, "-j", "DROP"]
    assert subprocess.run(forward, capture_output=True).returncode == 0  # nothing routed on, whatever route
    (home / "staging" / "probe").unlink()


@dataclass
class Promotion:
    """A promotion queued through the cluster's API by operator-1 (submitted and approved locally)."""

    base: str
    headers: dict[str, str]
    task: str

    @classmethod
    def queue(cls, home: Path, url: str, running: Cluster) -> Promotion:
        with _context(home, url) as ctx:
            submission = submissions.submit(ctx, principal_for(ctx, "developer-1"), JOB)
            submissions.review(
                ctx, principal_for(ctx, "operator-2"), submission.id, approve=True, comment="ok"
            )
            _token_id, token = identities.issue_token(ctx, principal_for(ctx, "operator-1"), "operator-1", days=1,
                                                      label="cluster test")  # fmt: skip
        base, headers = f"{running.api_url}/api/v1", {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(f"{base}/operator/submissions/{submission.id}/promote", method="POST",
                                         headers=headers)  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            return cls(base, headers, json.load(answer)["task"])

    def view(self) -> dict:
        request = urllib.request.Request(f"{self.base}/me/tasks/{self.task}", headers=self.headers)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def wait(self, until: Callable[[dict], bool] = lambda v: v["state"] not in ("queued", "running")) -> dict:
        deadline = time.monotonic() + 900  # a guard against hanging, not a measurement
        while time.monotonic() < deadline:
            try:
                view = self.view()
            except OSError:  # the API restarting
                view = None
            if view is not None and until(view):
                return view
            time.sleep(1)
        pytest.fail(f"the promotion did not get there: {view}")


@contextmanager
def _context(home: Path, url: str) -> Iterator[PlatformContext]:
    ctx = PlatformContext(Settings(home=home, database_url=url), actor="admin")
    try:
        yield ctx
    finally:
        ctx.engine.dispose()


def _run_of(home: Path, url: str, run_id: str) -> JobRunRow:
    with _context(home, url) as ctx, ctx.sessions() as session:
        return session.get(JobRunRow, run_id)


def _running_run(home: Path, url: str) -> str | None:
    """The one run in state running, once its run process has been started (its record written)."""
    with _context(home, url) as ctx, ctx.sessions() as session:
        run = session.scalars(select(JobRunRow).where(JobRunRow.state == "running")).first()
    return run.id if run is not None and (home / "runs" / run.id / production.PROCESSES).exists() else None


def _master(running: Cluster) -> dict:
    address = f"http://{running.segment.inner_address}:{running.ports.spark_master_ui}/json/"
    with urllib.request.urlopen(address, timeout=10) as answer:
        return json.load(answer)


@pytest.mark.postgres
@pytest.mark.cluster
def test_a_promotion_runs_its_plans_on_the_cluster_and_releases_what_the_embedded_default_releases(
    cluster, tmp_path
):
    """The promoted job's run process starts in the cluster's segment and executes its verified plans on
    the standalone cluster; the gate runs on it too; the released cells equal the embedded default's for
    the same county (same seed), promoted with a local Spark on SQLite."""
    home, url, _started = cluster
    running = _running(home, url)
    view = Promotion.queue(home, url, running).wait()
    assert view["state"] == "succeeded", json.dumps(view, ensure_ascii=False)
    isolation = json.loads(_run_of(home, url, view["result"]["run"]).isolation_json)
    assert isolation["network"] == f"netns-cluster:{running.segment.namespace}"
    with _context(home, url) as ctx:
        _row, directory = versions.version_dir(ctx, PRODUCT)
        on_cluster = pd.read_parquet(directory / TABLE)
    apps = {a["name"] for a in _master(running)["completedapps"]}
    assert {f"shuyu-job-{PRODUCT}", f"shuyu-gate-{PRODUCT}"} <= apps  # both ran on the cluster

    embedded = build_platform(PlatformContext(Settings(home=tmp_path / "home"), actor="admin"), tmp_path / "d",
                              people=PEOPLE, seed=SEED)  # fmt: skip
    local = embedded.ctx
    submission = submissions.submit(local, principal_for(local, "developer-1"), JOB)
    submissions.review(local, principal_for(local, "operator-2"), submission.id, approve=True, comment="ok")
    assert production.promote(local, principal_for(local, "operator-1"), submission.id).state == "released"
    _row, directory = versions.version_dir(local, PRODUCT)
    here = pd.read_parquet(directory / TABLE)
    local.engine.dispose()
    key = list(here.columns)
    pd.testing.assert_frame_equal(on_cluster.sort_values(key).reset_index(drop=True),
                                  here.sort_values(key).reset_index(drop=True))  # fmt: skip
    assert len(here) > 0


@pytest.mark.postgres
@pytest.mark.cluster
def test_a_spark_worker_killed_during_a_promotion_ends_in_a_release_or_a_clean_failure(cluster):
    """A worker (and its executor) killed while the job or the gate runs on the cluster: Spark moves the
    lost tasks to the other worker and the run completes with the same cells, or the run fails cleanly;
    never a half-published version, never frames left in staging."""
    home, url, started = cluster
    running = _running(home, url)
    with _context(home, url) as ctx:
        before = versions.versions(ctx, PRODUCT)
    promotion = Promotion.queue(home, url, running)
    deadline = time.monotonic() + 300
    while not [a for a in _master(running)["activeapps"] if a["name"].startswith("shuyu-")]:
        assert time.monotonic() < deadline, "no application reached the cluster"
        time.sleep(0.2)
    worker = next(r["pid"] for r in json.loads(started.stdout) if r["piece"] == "spark-worker-2")
    os.killpg(worker, signal.SIGKILL)
    view = promotion.wait()
    with _context(home, url) as ctx:
        after = versions.versions(ctx, PRODUCT)
        run = _run_of(home, url, view["result"]["run"]) if view["result"] else None
        if view["state"] == "succeeded":
            assert len(after) == len(before) + 1
            _row, first = versions.version_dir(ctx, PRODUCT, before[-1].version)
            _row, second = versions.version_dir(ctx, PRODUCT, after[-1].version)
            pd.testing.assert_frame_equal(pd.read_parquet(first / TABLE), pd.read_parquet(second / TABLE))
        else:
            assert len(after) == len(before) and (run is None or run.state in ("failed", "withheld")), view
    assert not any((home / "staging").rglob("*.parquet"))
    restarted = local_cluster("start", home=home, database_url=url)  # the worker comes back
    assert restarted.returncode == 0 and "spark-worker-2: 已启动 / started" in restarted.stderr, (
        restarted.stderr
    )


@pytest.mark.postgres
@pytest.mark.cluster
def test_the_api_killed_during_a_promotion_leaves_no_run_running_after_a_restart(cluster):
    """The API server and its task worker killed (SIGKILL) while a promotion's run process works: after
    ``start`` brings them back, the new worker finds the task's worker gone from this machine, loses the
    task with a reason, fails the run, ends the run process and gate it left behind and removes their
    frames. The submission can be promoted again at once."""
    home, url, _started = cluster
    running = _running(home, url)
    promotion = Promotion.queue(home, url, running)
    deadline = time.monotonic() + 300
    while (run_id := _running_run(home, url)) is None:
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.2)
    record = (home / "runs" / run_id / production.PROCESSES).read_text().split()
    api = int(
        supervisor._pid_file(running, next(p for p in PIECES if p.name == "api")).read_text().split()[0]
    )
    os.killpg(api, signal.SIGKILL)
    restarted = local_cluster("start", home=home, database_url=url)
    assert restarted.returncode == 0 and "api: 已启动 / started" in restarted.stderr, restarted.stderr
    view = promotion.wait()
    assert view["state"] == "lost" and view["error"]["code"] == "E910", view
    run = _run_of(home, url, run_id)
    assert run.state == "failed" and json.loads(run.failure_json) == {"phase": "interrupted"}
    assert isolation.start_time(int(record[0])) != record[1]  # the run process was ended
    assert not any((home / "staging").rglob("*.parquet"))


@pytest.mark.postgres
@pytest.mark.cluster
def test_stop_ends_every_process_of_the_cluster_and_status_says_so(cluster):
    home, url, _started = cluster
    now = local_cluster(
        "status", "--format", "json", home=home, database_url=url
    )  # after the fault tests' restarts
    groups = [r["pid"] for r in json.loads(now.stdout) if r["pid"]]
    assert len(groups) == sum(p.argv is not None for p in PIECES)
    stopped = local_cluster("stop", home=home, database_url=url)
    assert stopped.returncode == 0, stopped.stderr
    assert not [pid for group in groups for pid in supervisor._members(group)]
    assert not list((home / "cluster" / "pids").iterdir())
    status = local_cluster("status", "--format", "json", home=home, database_url=url)
    assert status.returncode == 1
    rows = {r["piece"]: r for r in json.loads(status.stdout)}
    assert rows["postgres"]["healthy"] and not any(r["healthy"] for n, r in rows.items() if n != "postgres")
    segment = _running(home, url).segment  # the namespace, its link and its firewall chain are gone
    assert (
        segment.namespace
        not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    )
    assert subprocess.run(["iptables", "-L", segment.chain], capture_output=True).returncode != 0
    forward = ["iptables", "-C", "FORWARD", "-i", segment.host_link, "-j", "DROP"]
    assert subprocess.run(forward, capture_output=True).returncode != 0
    assert subprocess.run(["ip", "link", "show", segment.host_link], capture_output=True).returncode != 0


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
    assert (moved.spark_master, moved.spark_worker_ui, moved.api, moved.spark_driver) == (7082, (8086, 8087), 8005,
                                                                                         7105)  # fmt: skip
