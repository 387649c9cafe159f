"""The pieces of the local production topology, as data: how each starts and how it is known healthy.

In start order: the PostgreSQL metadata store (the machine's own server at 127.0.0.1:5432, not
started here: its database is created and migrated), a Spark standalone master and two workers (the
pyspark installation's own classes), and the API server with its task worker (``sandbox serve``),
configured for all of them through ``SANDBOX_*`` variables. Every server binds to 127.0.0.1 only.

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

from sandbox.cluster import store

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

    @property
    def spark_master_url(self) -> str:
        return f"spark://{HOST}:{self.ports.spark_master}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports.api}"

    def environment(self) -> dict[str, str]:
        """The platform's settings for a process of this cluster (the API server and its worker)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env.update(SANDBOX_HOME=str(self.home), SANDBOX_DATABASE_URL=self.database_url,
                   SANDBOX_SPARK_MASTER=self.spark_master_url, SPARK_LOCAL_IP=HOST)  # fmt: skip
        return env


@dataclass(frozen=True)
class Piece:
    """One process of the topology. ``argv`` None: a server this machine runs already (checked only)."""

    name: str
    zh: str
    argv: Callable[[Cluster], list[str]] | None
    healthy: Callable[[Cluster], bool]
    address: Callable[[Cluster], str]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _spark_class(main: str, *args: str) -> list[str]:
    return [str(_spark_home() / "bin" / "spark-class"), main, *args]


def _master_state(cluster: Cluster) -> dict:
    url = f"http://{HOST}:{cluster.ports.spark_master_ui}/json/"
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


PIECES: tuple[Piece, ...] = (
    Piece("postgres", "元数据库", None, store.ready, lambda c: c.database_url.rsplit("@", 1)[-1]),
    Piece(
        "spark-master",
        "Spark 主节点",
        lambda c: _spark_class(
            "org.apache.spark.deploy.master.Master",
            "--host",
            HOST,
            "--port",
            str(c.ports.spark_master),
            "--webui-port",
            str(c.ports.spark_master_ui),
        ),
        _master_alive,
        lambda c: c.spark_master_url,
    ),  # fmt: skip
    *(
        Piece(
            f"spark-worker-{i + 1}",
            f"Spark 工作节点 {i + 1}",
            lambda c, i=i: _spark_class(
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                HOST,
                "--cores",
                "1",
                "--memory",
                "2g",
                "--webui-port",
                str(c.ports.spark_worker_ui[i]),
                c.spark_master_url,
            ),
            _worker_alive(i),
            lambda c, i=i: f"{HOST}:{c.ports.spark_worker_ui[i]}",
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
