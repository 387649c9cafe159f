"""Migrations, key material and home initialisation on SQLite and PostgreSQL."""

from __future__ import annotations

import stat

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from sandbox.context import PlatformContext
from sandbox.store import migrate
from sandbox.store.keys import PLATFORM_KEY
from sandbox.store.models import Base


def test_migrations_create_every_model_table(ctx):
    tables = set(inspect(ctx.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_are_idempotent(ctx):
    migrate.upgrade(ctx.engine)
    with ctx.engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert current == ScriptDirectory.from_config(migrate.alembic_config(ctx.engine)).get_current_head()


def test_migrations_match_models(ctx):
    """Autogenerate against the migrated schema finds nothing to do: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with ctx.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_secret_key_is_private_and_not_in_database(ctx):
    key_file = ctx.settings.secrets_dir / f"{PLATFORM_KEY}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(ctx.settings.secrets_dir.stat().st_mode) == 0o700
    key_hex = key_file.read_text().strip()
    with ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                assert key_hex not in " ".join(str(v) for v in row)


def test_second_init_keeps_key_and_reports_existing(ctx):
    key = ctx.keys.get(PLATFORM_KEY)
    again = PlatformContext(ctx.settings, schema=ctx.schema)
    assert again.init_home() is False
    assert again.keys.get(PLATFORM_KEY) == key
    again.engine.dispose()
