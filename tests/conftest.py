"""Shared fixtures: a platform context on a fresh home, on SQLite or on PostgreSQL.

PostgreSQL runs use their own schema (``search_path``), created and dropped per test, so
concurrent runs on one server never collide.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sandbox.context import PlatformContext
from sandbox.governance.identities import bootstrap_admin
from sandbox.settings import Settings

PG_URL = os.environ.get("SANDBOX_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def spark() -> Iterator:
    """The one local Spark session every test shares (loopback only, no UI)."""
    from sandbox.engines.spark import spark_session

    session = spark_session("local[2]", app_name="shuyu-tests", driver_memory="2g")
    yield session
    session.stop()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"shuyu_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_context(
    home: Path, *, database_url: str | None = None, schema: str | None = None
) -> PlatformContext:
    settings = Settings(home=home, database_url=database_url)
    ctx = PlatformContext(settings, actor="tester", schema=schema)
    ctx.init_home()
    bootstrap_admin(ctx)
    return ctx


def cli_env(ctx: PlatformContext, **extra: str) -> dict[str, str]:
    """The environment for a ``python -m sandbox`` process on ``ctx``'s home and database."""
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_DATABASE_URL", "SANDBOX_USER")}
    env["SANDBOX_HOME"] = str(ctx.settings.home_dir)
    if ctx.schema:
        env["SANDBOX_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{ctx.schema}"
    return {**env, **extra}


def run_together(
    argvs: list[list[str]], env: dict[str, str], ctx: PlatformContext
) -> list[subprocess.CompletedProcess]:
    """Run one ``python -m sandbox`` process per argv, all released at the same instant: ``ctx``'s
    database is held until every process is waiting for it (``held_database``)."""
    with held_database(ctx) as wait_until_blocked:
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "sandbox", *argv],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for argv in argvs
        ]
        wait_until_blocked(started)
    done = []
    for argv, process in zip(argvs, started, strict=True):
        out, err = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    return done


@contextmanager
def held_database(
    ctx: PlatformContext, table: str = "users"
) -> Iterator[Callable[[list[subprocess.Popen] | int], None]]:
    """Hold ``ctx``'s database so that nobody else gets past their first use of it; yields a
    function that returns once the given processes (or that many requests) are all waiting, or one
    process has exited.

    SQLite: a BEGIN IMMEDIATE like every session's (``store.db``) — a process is waiting once it
    has the database file open. PostgreSQL: an exclusive lock on ``table`` (by default ``users``,
    which every command reads first to know who acts) — a process or a server's request is waiting
    once its lock request shows in pg_locks.
    """
    if ctx.schema is None:
        database = ctx.settings.home_dir / "shuyu.db"
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def waiting(processes: list[subprocess.Popen]) -> int:
            return sum(_has_open(p.pid, database) for p in processes)
    else:
        engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={ctx.schema}"})
        holder = engine.connect()
        holder.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
        query = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = CAST(:t AS regclass)")

        def waiting(processes: list[subprocess.Popen]) -> int:
            return holder.execute(query, {"t": table}).scalar_one()

    def wait_until_blocked(processes: list[subprocess.Popen] | int) -> None:
        expected = processes if isinstance(processes, int) else len(processes)
        started = [] if isinstance(processes, int) else processes
        deadline = time.monotonic() + 300  # a guard against hanging, not a measurement
        while waiting(started) < expected and time.monotonic() < deadline:
            if any(p.poll() is not None for p in started):
                return
            time.sleep(0.05)

    try:
        yield wait_until_blocked
    finally:
        holder.rollback()
        holder.close()
        if ctx.schema is not None:
            engine.dispose()


def _has_open(pid: int, path: Path) -> bool:
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # the process or one of its descriptors went away meanwhile
        return False
    return str(path) in links


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ctx(request, tmp_path) -> Iterator[PlatformContext]:
    """A freshly initialised platform, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        context = make_context(tmp_path / "home")
    else:
        schema = request.getfixturevalue("pg_schema")
        context = make_context(tmp_path / "home", database_url=PG_URL, schema=schema)
    yield context
    context.engine.dispose()


@pytest.fixture
def sqlite_ctx(tmp_path) -> Iterator[PlatformContext]:
    context = make_context(tmp_path / "home")
    yield context
    context.engine.dispose()


@pytest.fixture(scope="session")
def county(tmp_path_factory) -> Path:
    """A small synthetic county (3,000 people), generated once per test session."""
    from sandbox.synth import generate

    out = tmp_path_factory.mktemp("county")
    generate(out, people=3000, seed=11)
    return out


def ingest_county(county: Path, root: Path) -> dict[str, Path]:
    """Every dataset of a synthetic county ingested to Parquet (Arrow path) under ``root``, keyed by dataset id."""
    from sandbox.catalog.ingest import ingest_files
    from sandbox.catalog.service import read_catalog_file

    catalog_file = read_catalog_file(county / "catalog.yaml")
    paths = {}
    for dataset in catalog_file.catalog.datasets:
        target = root / "raw" / dataset.id
        ingest_files(dataset, [catalog_file.files[dataset.id]], target_dir=target,
                     quarantine_root=root / "quarantine", work_dir=root / "work")  # fmt: skip
        paths[dataset.id] = target
    return paths


@pytest.fixture(scope="session")
def raw_county(county, tmp_path_factory) -> dict[str, Path]:
    """Every dataset of the shared county ingested to Parquet, keyed by dataset id."""
    return ingest_county(county, tmp_path_factory.mktemp("raw"))
