"""Engine and session factories for SQLite (embedded default) and PostgreSQL.

Both engines wait at most ``LOCK_WAIT_S`` for a lock another transaction holds, then fail with
:class:`~sandbox.domain.errors.Busy` (bilingual, code E130): SQLite's "database is locked", and
PostgreSQL's lock timeout, deadlock and serialization failures, become the same "busy, retry"
error for every command, instead of a driver traceback.

``direct`` is the other way in, for the few hot paths that must not pay for the ORM (the product
query API): one transaction on a pooled driver connection, statements written once (``Statement``)
and run as they are, with the same busy handling. ``GroupCommit`` lets the concurrent requests of
one process share such a transaction and its commit, each in a savepoint of its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from sandbox.domain.errors import Busy

#: Seconds a statement waits for a lock before the command gives up with ``Busy``.
LOCK_WAIT_S = 60
#: PostgreSQL SQLSTATEs that mean "another transaction was in the way": serialization_failure,
#: deadlock_detected, lock_not_available (lock_timeout).
PG_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})
#: Of those, the ones where PostgreSQL aborted the transaction so that another could go on: run again,
#: it finds the other one done.
PG_ABORTED_STATES = frozenset({"40001", "40P01"})
#: Times ``GroupCommit`` runs a batch the database aborted that way before its callers get ``Busy``.
BATCH_ATTEMPTS = 3


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
    """SQLite: foreign keys on, and BEGIN IMMEDIATE so concurrent appenders queue, never fork.

    ``synchronous=FULL`` (SQLite's own default, stated here because things rest on it): a commit
    returns once the write-ahead log is synced, so what a command reported done — an audit event, a
    revocation, a metered answer already sent — outlives a power cut, not only a crash of the
    process. ``NORMAL`` would sync only at checkpoints and could lose the last commits; the product
    query path keeps ``FULL`` affordable by sharing one commit among concurrent requests
    (``GroupCommit``) instead.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
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


def aborted_for_another(exc: BaseException | None) -> bool:
    """Whether PostgreSQL aborted the transaction behind ``exc`` (or its cause) to let another go on."""
    while exc is not None:
        if getattr(exc, "sqlstate", None) in PG_ABORTED_STATES:
            return True
        exc = exc.__cause__
    return False


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


# -- direct statements on a pooled driver connection ---------------------------------------------

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Statement:
    """One SQL text with ``:name`` parameters, the same for SQLite and PostgreSQL, run without the ORM.

    SQLite's driver takes ``:name`` itself; PostgreSQL's (psycopg) takes ``%(name)s``, written out
    once here. Keep such texts to plain SQL both databases read alike (no ``::`` casts).
    """

    __slots__ = ("pyformat", "sqlite")

    def __init__(self, sql: str) -> None:
        self.sqlite = sql
        self.pyformat = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class Direct:
    """The cursor of one ``direct`` transaction."""

    __slots__ = ("_cursor", "_pyformat")

    def __init__(self, cursor: Any, pyformat: bool) -> None:
        self._cursor, self._pyformat = cursor, pyformat

    def one(self, statement: Statement, params: dict[str, Any]) -> tuple | None:
        """The one row the statement returns, if any (read to the end, so the statement is done)."""
        self._cursor.execute(statement.pyformat if self._pyformat else statement.sqlite, params)
        rows = self._cursor.fetchall()
        return rows[0] if rows else None

    def run(self, statement: Statement, params: dict[str, Any]) -> None:
        """A statement that returns no rows."""
        self._cursor.execute(statement.pyformat if self._pyformat else statement.sqlite, params)

    def savepoint(self) -> None:
        self._cursor.execute("SAVEPOINT grouped")

    def release(self) -> None:
        self._cursor.execute("RELEASE SAVEPOINT grouped")

    def rollback_to_savepoint(self) -> None:
        self._cursor.execute("ROLLBACK TO SAVEPOINT grouped")
        self._cursor.execute("RELEASE SAVEPOINT grouped")


@contextmanager
def direct(engine: Engine, *, write: bool) -> Iterator[Direct]:
    """One transaction on a connection of ``engine``'s pool: committed on success, rolled back on
    any error, with the ORM's ``Busy`` for a lock that did not come in time.

    ``write``: on SQLite the transaction takes the write lock at once (``BEGIN IMMEDIATE``, as every
    session here does), so that what it reads is still so when it writes; without it, each statement
    reads its own snapshot (send one statement). PostgreSQL runs either as one transaction.
    """
    dbapi = engine.dialect.dbapi
    sqlite = engine.dialect.name == "sqlite"
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            if sqlite and write:
                cursor.execute("BEGIN IMMEDIATE")
            yield Direct(cursor, pyformat=not sqlite)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
    except dbapi.Error as err:
        if is_busy(err):
            raise Busy() from err
        raise
    finally:
        connection.close()  # back to the pool


T = TypeVar("T")


class _Call(Generic[T]):
    __slots__ = ("error", "lead", "result", "wake", "work")

    def __init__(self, work: Callable[[Direct], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.wake = threading.Event()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Concurrent write transactions of one process on one database, committed together.

    Every ``run`` waits for a commit that holds its work, so its caller goes on only once its writes
    are as durable as a commit of their own would make them (SQLite ``synchronous=FULL``: synced to
    disk) — but callers that arrive while a commit is under way share the next one, and its sync,
    instead of each waiting for a sync of its own. Inside, works run one after another, each in a
    savepoint: one that fails is rolled back alone and its error raised to its own caller; the others
    are not disturbed. If the transaction itself fails (busy, disk), every caller in it gets that error
    and nothing of it was written — except when PostgreSQL aborted it to break a deadlock or a
    serialization conflict with another process's transaction (two API processes' batches taking the
    same keys' rows in opposite orders): then the whole batch runs again, up to ``BATCH_ATTEMPTS``
    times, so a work must write only through its ``Direct`` and may be run more than once. There is no
    thread of its own: the first caller to find no batch running runs one (what is queued, at most
    ``most``), then hands the next to the first still waiting.
    """

    def __init__(self, *, most: int = 64) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Call] = []
        self._leading = False
        self._most = most

    def run(
        self,
        engine: Engine,
        work: Callable[[Direct], T],
        *,
        turn: Callable[[], AbstractContextManager] | None = None,
    ) -> T:
        """``work`` in a write transaction shared with other callers' (``direct``); ``turn``: a lock the
        batch holds while it runs (the process's turn on the database)."""
        call = _Call(work)
        with self._lock:
            self._queue.append(call)
            lead, self._leading = not self._leading, True
        if not lead:
            call.wake.wait()
            if not call.lead:
                return call.outcome()
        with self._lock:
            batch, self._queue = self._queue[: self._most], self._queue[self._most :]
        try:
            with turn() if turn else nullcontext():
                self._commit(engine, batch)
        except BaseException as err:  # not even begun (the turn), or interrupted
            for waiting in batch:
                waiting.error = waiting.error or err
            raise
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._leading = False
            for other in batch:
                if other is not call:
                    other.wake.set()
        return call.outcome()

    @staticmethod
    def _commit(engine: Engine, batch: list[_Call]) -> None:
        for attempt in range(1, BATCH_ATTEMPTS + 1):
            try:
                outcomes = GroupCommit._attempt(engine, batch)
                break
            except BaseException as err:  # nothing of the batch was written
                if attempt < BATCH_ATTEMPTS and aborted_for_another(err):
                    continue
                for call in batch:
                    call.error = err
                if not isinstance(err, Exception):
                    raise
                return
        for call, (result, error) in zip(batch, outcomes, strict=True):
            call.result, call.error = result, error

    @staticmethod
    def _attempt(engine: Engine, batch: list[_Call]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        with direct(engine, write=True) as tx:
            for call in batch:
                tx.savepoint()
                try:
                    result = call.work(tx)
                except Exception as err:
                    if aborted_for_another(err):
                        raise  # the whole batch: the other transaction waits for what earlier works locked
                    tx.rollback_to_savepoint()
                    outcomes.append((None, err))
                else:
                    tx.release()
                    outcomes.append((result, None))
        return outcomes
