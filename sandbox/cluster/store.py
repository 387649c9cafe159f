"""The cluster's metadata store: the machine's PostgreSQL server, which the cluster does not start,
readied for the cluster's home (database, migrations, first administrator, served home)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sandbox.domain.errors import ConfigError, HomeError

if TYPE_CHECKING:
    from sandbox.cluster.topology import Cluster


class ClusterError(ConfigError):
    code = "E150"


def _context(cluster: Cluster):
    from sandbox.context import PlatformContext
    from sandbox.settings import Settings

    return PlatformContext(Settings(home=cluster.home, database_url=cluster.database_url), actor="cluster")


def ready(cluster: Cluster) -> bool:
    """The store's schema at the migrations' head, and the home initialised for it."""
    from sandbox.store.migrate import at_head

    ctx = _context(cluster)
    try:
        ctx.require_home()
        return at_head(ctx.engine)
    except HomeError:
        return False
    finally:
        ctx.engine.dispose()


def prepare(cluster: Cluster) -> None:
    """The store's database, created if missing, migrated, with its first administrator, and the home
    initialised and marked as served (a deployment: local ``--as`` is for administrators only); each
    step does nothing when already done."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from sandbox.governance.identities import bootstrap_admin

    url = make_url(cluster.database_url)
    if url.get_backend_name() != "postgresql" or not re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]{0,62}", url.database or ""
    ):
        raise ClusterError(
            "本机集群的元数据库须为 PostgreSQL，数据库名仅含字母、数字与下划线",
            "the local cluster's store is PostgreSQL, its database named with letters, digits and underscores",
        )
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database})
            if found.first() is None:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    except OperationalError:
        where = url.render_as_string(hide_password=True)
        raise ClusterError(
            f"无法连接元数据库 {where}（PostgreSQL 是否在运行？）",
            f"cannot reach the metadata store {where} (is PostgreSQL running?)",
        ) from None
    finally:
        server.dispose()
    ctx = _context(cluster)
    ctx.init_home()
    bootstrap_admin(ctx)
    ctx.mark_served()
    ctx.engine.dispose()
