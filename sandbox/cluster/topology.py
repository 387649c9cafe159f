"""The pieces of the local production topology, as data: how each starts and how it is known healthy.

In start order: the PostgreSQL metadata store (the machine's own server at 127.0.0.1:5432, not
started here: its database is created and migrated), the compute segment (``network``: a network
namespace with its own firewall), a Spark standalone master and two workers inside it, each also in its
own mount namespace (the pyspark installation's own classes), and the API server with its task worker
(``sandbox serve``), configured for all of them through ``SANDBOX_*`` variables. The API binds to
127.0.0.1; the Spark processes to the segment's inner address, which only this machine reaches.

Not here yet: Ray nodes. Ray 2.60's ``ray start`` binds its GCS and raylet to every interface
whatever ``--node-ip-address`` says, and a second node needs the head's auth token; until both are
handled, sample builds start their own local Ray, as in the embedded default.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.cluster import network, store

HOST = "127.0.0.1"
#: Seconds one health probe may take.
PROBE_S = 10


@dataclass(frozen=True)
class Ports:
    """Every port the topology listens on; ``offset`` moves them all (a second cluster, or tests)."""

    spark_master: int = 7077
    spark_master_ui: int = 8080
    spark_worker_ui: tuple[int, int] = (8081, 8082)
    api: int = 8000
    spark_driver: int = 7100  # the first of the ports drivers outside the segment listen on (network)

    def shifted(self, offset: int) -> Ports:
        def move(value):
            return tuple(v + offset for v in value) if isinstance(value, tuple) else value + offset

        return Ports(**{name: move(getattr(self, name)) for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class Cluster:
    """What the pieces share: the home (pid files and logs under ``cluster/``), the store and the ports."""

    home: Path
    database_url: str
    ports: Ports = field(default_factory=Ports)
    offset: int = 0  # the ports' offset, which also numbers the compute segment

    @property
    def segment(self) -> network.Segment:
        return network.Segment(self.offset, self.ports.spark_driver)

    @property
    def spark_master_url(self) -> str:
        return f"spark://{self.segment.inner_address}:{self.ports.spark_master}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports.api}"

    def environment(self) -> dict[str, str]:
        """The platform's settings for a process of this cluster (the API server and its worker): the
        master inside the segment, where drivers outside it listen for their executors, and the segment's
        namespace, where a promoted job's run process is started."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env.update(SANDBOX_HOME=str(self.home), SANDBOX_DATABASE_URL=self.database_url,
                   SANDBOX_SPARK_MASTER=self.spark_master_url, SANDBOX_SPARK_DRIVER_HOST=self.segment.host_address,
                   SANDBOX_SPARK_DRIVER_PORT=str(self.ports.spark_driver),
                   SANDBOX_SPARK_NETNS=self.segment.namespace, SPARK_LOCAL_IP=HOST)  # fmt: skip
        return env

    def work_dir(self, piece: str) -> Path:
        """A piece's own scratch (Spark's work and local directories), the one place it writes outside the
        cluster's zones."""
        path = self.home / "cluster" / "work" / piece
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Piece:
    """One piece of the topology: a process (``argv``), or something set up rather than run (``argv`` None,
    ``prepare``). With ``teardown``, the piece is the cluster's own (``stop`` removes it, and ``start``
    leaves it alone while healthy); without, it is a server of the machine, readied on every start."""

    name: str
    zh: str
    argv: Callable[[Cluster], list[str]] | None
    healthy: Callable[[Cluster], bool]
    address: Callable[[Cluster], str]
    prepare: Callable[[Cluster], None] | None = None
    teardown: Callable[[Cluster], None] | None = None


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _spark_class(main: str, *args: str) -> list[str]:
    return [str(_spark_home() / "bin" / "spark-class"), main, *args]


def _master_state(cluster: Cluster) -> dict:
    url = f"http://{cluster.segment.inner_address}:{cluster.ports.spark_master_ui}/json/"
    with urllib.request.urlopen(url, timeout=PROBE_S) as answer:  # noqa: S310 - loopback http only
        return json.load(answer)


def _master_alive(cluster: Cluster) -> bool:
    return _master_state(cluster).get("status") == "ALIVE"


def _worker_alive(index: int) -> Callable[[Cluster], bool]:
    def alive(cluster: Cluster) -> bool:
        port = cluster.ports.spark_worker_ui[index]
        return any(
            w.get("state") == "ALIVE" and str(w.get("webuiaddress", "")).endswith(f":{port}")
            for w in _master_state(cluster).get("workers", [])
        )

    return alive


def _api_alive(cluster: Cluster) -> bool:
    with urllib.request.urlopen(f"{cluster.api_url}/api/health", timeout=PROBE_S) as answer:  # noqa: S310
        return answer.status == 200


def _spark_process(name: str, main: str, *args: str) -> Callable[[Cluster], list[str]]:
    """A Spark daemon of the pyspark installation, confined to the compute segment (``network.confined``)."""

    def argv(cluster: Cluster) -> list[str]:
        work = str(cluster.work_dir(name))
        return network.confined(cluster, work, _spark_class(main, "--host", cluster.segment.inner_address,
                                                            *(a.format(c=cluster, work=work) for a in args)))  # fmt: skip

    return argv


PIECES: tuple[Piece, ...] = (
    Piece(
        "postgres",
        "元数据库",
        None,
        store.ready,
        lambda c: c.database_url.rsplit("@", 1)[-1],
        prepare=store.prepare,
    ),
    Piece(
        "compute-network",
        "计算网段",
        None,
        network.ready,
        lambda c: f"{c.segment.namespace} {c.segment.inner_address}",
        prepare=network.prepare,
        teardown=network.remove,
    ),  # fmt: skip
    Piece(
        "spark-master",
        "Spark 主节点",
        _spark_process(
            "spark-master",
            "org.apache.spark.deploy.master.Master",
            "--port",
            "{c.ports.spark_master}",
            "--webui-port",
            "{c.ports.spark_master_ui}",
        ),
        _master_alive,
        lambda c: c.spark_master_url,
    ),  # fmt: skip
    *(
        Piece(
            f"spark-worker-{i + 1}",
            f"Spark 工作节点 {i + 1}",
            _spark_process(
                f"spark-worker-{i + 1}",
                "org.apache.spark.deploy.worker.Worker",
                "--cores",
                "1",
                "--memory",
                "2g",
                "--work-dir",
                "{work}",
                "--webui-port",
                f"{{c.ports.spark_worker_ui[{i}]}}",
                "{c.spark_master_url}",
            ),
            _worker_alive(i),
            lambda c, i=i: f"{c.segment.inner_address}:{c.ports.spark_worker_ui[i]}",
        )  # fmt: skip
        for i in range(2)
    ),
    Piece(
        "api",
        "API 服务与任务进程",
        lambda c: [sys.executable, "-m", "sandbox", "serve", "--host", HOST, "--port", str(c.ports.api)],
        _api_alive,
        lambda c: c.api_url,
    ),  # fmt: skip
)
