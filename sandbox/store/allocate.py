"""Consecutive numbers: dataset, product and sample versions, product registration and
authorization serials — every number the platform hands out by counting.

A number is taken inside the transaction that records the row it numbers, after a lock that
only allocators of the same sequence (and scope) contend for, and it is max + 1 (or count + 1)
of what is committed. Two allocators therefore never read the same number, and a transaction
that rolls back gives its number back: the numbers stay 1, 2, 3, … without gaps.

- SQLite: every transaction begins IMMEDIATE (``db.py``) and holds the database's write lock
  until it ends, so allocators already queue; no further lock is taken.
- PostgreSQL: at READ COMMITTED two transactions can read the same max. ``pg_advisory_xact_lock``
  on a key made of the schema and the sequence makes the second wait until the first has
  committed or rolled back; its max() is a new statement with a new snapshot, so it sees the
  first one's row. The lock ends with the transaction.

Take the number before the transaction's first audit event: ``audit.record`` locks the chain
head, and always taking the allocation lock first keeps the two locks in one order.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from sandbox.store.models import (
    AuthorizationRow,
    DatasetVersionRow,
    ProductRow,
    ProductVersionRow,
    SampleVersionRow,
)

_PG_LOCK = text(
    "SELECT pg_advisory_xact_lock(('x' || substr(md5(current_schema() || ':' || :name), 1, 16))::bit(64)::bigint)"
)


def dataset_version(session: Session, dataset_id: str) -> int:
    return _next_version(session, DatasetVersionRow.version, DatasetVersionRow.dataset_id, dataset_id)


def product_version(session: Session, product_id: str) -> int:
    return _next_version(session, ProductVersionRow.version, ProductVersionRow.product_id, product_id)


def sample_version(session: Session, scenario_id: str) -> int:
    return _next_version(session, SampleVersionRow.version, SampleVersionRow.scenario_id, scenario_id)


def registration_serial(session: Session) -> int:
    """The serial of ``SYDJ-<year>-<serial>``: products are never deleted, so count + 1 is max + 1."""
    return _next(session, "products", select(func.count()).select_from(ProductRow))


def authorization_serial(session: Session) -> int:
    """The serial of ``AUTH-<year>-<serial>``: authorizations are never deleted either."""
    return _next(session, "authorizations", select(func.count()).select_from(AuthorizationRow))


def lock(session: Session, name: str) -> None:
    """Serialize this transaction with every other that takes ``name``, until it ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_LOCK, {"name": name})


def _next_version(
    session: Session, number: InstrumentedAttribute, owner: InstrumentedAttribute, owner_id: str
) -> int:
    """Versions count per owner (dataset, product, scenario): one sequence, and one lock, each."""
    sequence = f"{number.class_.__tablename__}:{owner_id}"
    return _next(session, sequence, select(func.max(number)).where(owner == owner_id))


def _next(session: Session, sequence: str, highest: Select) -> int:
    lock(session, sequence)
    return (session.scalar(highest) or 0) + 1
