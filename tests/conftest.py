"""Shared fixtures: a platform context on a fresh home, on SQLite or on PostgreSQL.

PostgreSQL runs use their own schema (``search_path``), created and dropped per test, so
concurrent runs on one server never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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
