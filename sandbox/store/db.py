"""Engine and session factories for SQLite (embedded default) and PostgreSQL.

Both engines wait at most ``LOCK_WAIT_S`` for a lock another transaction holds, then fail with
:class:`~sandbox.domain.errors.Busy` (bilingual, code E130): SQLite's "database is locked", and
PostgreSQL's lock timeout, deadlock and serialization failures, become the same "busy, retry"
error for every command, instead of a driver traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from sandbox.domain.errors import Busy

#: Seconds a statement waits for a lock before the command gives up with ``Busy``.
LOCK_WAIT_S = 60
#: PostgreSQL SQLSTATEs that mean "another transaction was in the way": serialization_failure,
#: deadlock_detected, lock_not_available (lock_timeout).
PG_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Build an engine; ``schema`` pins PostgreSQL's search_path so test runs never collide."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": LOCK_WAIT_S})
        _serialize_sqlite_writes(engine)
    else:
        connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        _bound_postgres_lock_waits(engine)
    event.listen(engine, "handle_error", _busy_is_a_user_error, retval=True)
    return engine


def _serialize_sqlite_writes(engine: Engine) -> None:
    """SQLite: foreign keys on, and BEGIN IMMEDIATE so concurrent appenders queue, never fork."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _bound_postgres_lock_waits(engine: Engine) -> None:
    """PostgreSQL waits for a lock forever by default; wait as long as SQLite does instead."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{LOCK_WAIT_S}s'")
        dbapi_connection.commit()


def is_busy(exc: BaseException) -> bool:
    """Whether a DBAPI error means another transaction held what this one needed."""
    if getattr(exc, "sqlstate", None) in PG_BUSY_STATES:
        return True
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _busy_is_a_user_error(context: ExceptionContext) -> Exception | None:
    """Returned, not raised, so that other ``handle_error`` listeners still see the failure."""
    if context.original_exception is not None and is_busy(context.original_exception):
        busy = Busy()
        busy.__cause__ = context.original_exception
        return busy
    return None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
