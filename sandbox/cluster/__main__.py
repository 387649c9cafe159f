"""``deploy/local-cluster start|stop|status`` (``python -m sandbox.cluster``): the local production topology;
``prepare`` readies the store and the home alone, the one-shot step of the containers (``deploy/compose.yaml``)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import console, err_console, friendly_errors
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.cluster import store, supervisor
from sandbox.cluster.topology import PIECES, Cluster, Ports
from sandbox.settings import Settings

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/shuyu"

app = typer.Typer(
    help="本机生产拓扑 / the production topology as local processes on 127.0.0.1", no_args_is_help=True
)

Home = Annotated[Path | None, typer.Option(help="平台主目录 / platform home (default: SANDBOX_HOME)")]
Database = Annotated[
    str, typer.Option(envvar="SHUYU_CLUSTER_DATABASE_URL", help="元数据库 / the PostgreSQL store's URL")
]
Offset = Annotated[int, typer.Option(min=0, max=1000, help="所有端口加上此数 / add this to every port")]
COLUMNS = [
    Col("piece", "组件", "piece", ident=True),
    Col("address", "地址", "address", ident=True),
    Col("pid", "进程", "pid", show=str),
    Col("healthy", "就绪", "healthy"),
]


def _cluster(home: Path | None, database_url: str, port_offset: int) -> Cluster:
    root = home.expanduser().resolve() if home else Settings().home_dir
    return Cluster(root, database_url, Ports().shifted(port_offset), port_offset)


@app.command()
@friendly_errors
def start(home: Home = None, database_url: Database = DEFAULT_DATABASE, port_offset: Offset = 0,
          fmt: FormatOption = Format.TABLE) -> None:  # fmt: skip
    """按依赖顺序启动并等待就绪 / start every piece in dependency order, each healthy before the next."""
    cluster = _cluster(home, database_url, port_offset)

    def report(state: supervisor.PieceState, done: str) -> None:
        verb = {supervisor.STARTED: "已启动 / started", supervisor.RUNNING: "已在运行 / already running",
                supervisor.PREPARED: "已准备就绪 / set up and ready"}[done]  # fmt: skip
        err_console.print(f"  {state.name}: {verb} ({state.address})", highlight=False)

    states = supervisor.start(cluster, report)
    emit(console, f"本机集群 / local cluster ({cluster.home})", COLUMNS, [s.as_row() for s in states], fmt)
    if fmt is Format.TABLE:
        settings = {k: v for k, v in cluster.environment().items() if k.startswith("SANDBOX_")}
        console.print("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(settings.items())),
                      highlight=False, soft_wrap=True)  # fmt: skip


@app.command()
@friendly_errors
def stop(home: Home = None, database_url: Database = DEFAULT_DATABASE, port_offset: Offset = 0) -> None:
    """按相反顺序停止本集群启动的进程 / stop what this cluster started, in reverse order (the store stays)."""
    cluster = _cluster(home, database_url, port_offset)

    def report(name: str, was_running: bool) -> None:
        err_console.print(f"  {name}: {'已停止 / stopped' if was_running else '未在运行 / not running'}",
                          highlight=False)  # fmt: skip

    supervisor.stop(cluster, report)


@app.command()
@friendly_errors
def status(home: Home = None, database_url: Database = DEFAULT_DATABASE, port_offset: Offset = 0,
           fmt: FormatOption = Format.TABLE) -> None:  # fmt: skip
    """各组件是否在运行与就绪（退出码 1：有组件未就绪）/ each piece: running and healthy (exit 1 if any is not)."""
    cluster = _cluster(home, database_url, port_offset)
    states = [supervisor.state(cluster, piece) for piece in PIECES]
    emit(console, f"本机集群 / local cluster ({cluster.home})", COLUMNS, [s.as_row() for s in states], fmt)
    if not all(s.healthy for s in states):
        raise typer.Exit(1)


@app.command()
@friendly_errors
def prepare() -> None:
    """只准备元数据库与主目录，不启动进程（容器与 Kubernetes 的一次性步骤；读 SANDBOX_HOME 与 SANDBOX_DATABASE_URL）/
    ready the store and the home and start nothing: the one-shot step of the containers and of Kubernetes,
    configured by SANDBOX_HOME and SANDBOX_DATABASE_URL."""
    settings = Settings()
    if not settings.database_url:
        raise store.ClusterError(
            "请设置 SANDBOX_DATABASE_URL（PostgreSQL）", "set SANDBOX_DATABASE_URL (PostgreSQL)"
        )
    cluster = Cluster(settings.home_dir, settings.database_url)
    store.prepare(cluster)
    err_console.print(f"已就绪：数据库、迁移与主目录 / ready: database, migrations and home ({cluster.home})",
                      highlight=False)  # fmt: skip


if __name__ == "__main__":
    app(prog_name="deploy/local-cluster")
