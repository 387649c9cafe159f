"""The privacy-budget ledger (per dataset, a total that never grows and every spend against it) and the
release register (every released cell, for differencing across runs)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class PrivacyBudgetRow(Base):
    """One dataset's differential-privacy budget. ``*_total`` may only go down; ``*_spent`` only up."""

    __tablename__ = "privacy_budgets"

    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epsilon_total: Mapped[float] = mapped_column(Float)
    delta_total: Mapped[float] = mapped_column(Float)
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    delta_spent: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))


class PrivacySpendRow(Base):
    """One differentially private output paid for by one of its input datasets."""

    __tablename__ = "privacy_spends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("privacy_budgets.dataset_id"), index=True)
    job_id: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(32))
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(64))
    spent_at: Mapped[str] = mapped_column(String(32))


class ReleaseRow(Base):
    """One production run's released cells in the release register; their members live in the register
    zone (``members``, a Parquet directory of (release, cell, entity hash)), never in this table."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    job_id: Mapped[str] = mapped_column(String(64))
    datasets_json: Mapped[str] = mapped_column(Text)  # the input datasets whose subjects the cells count
    members: Mapped[str | None] = mapped_column(
        String(64)
    )  # its directory in the register zone, if it stored any
    member_bytes: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[str] = mapped_column(String(32))
    cleared_at: Mapped[str | None] = mapped_column(String(32))  # set when a dataset's provider cleared it
    cleared_by: Mapped[str | None] = mapped_column(String(64))


class ReleaseCellRow(Base):
    """One released cell: what its dimensions mean and its key (``meaning``), how many entities, and where
    its members are (its own release's, or an earlier release's identical population)."""

    __tablename__ = "release_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    members_release: Mapped[int] = mapped_column(ForeignKey("releases.id"))  # whose members hold it
    cell: Mapped[int] = mapped_column(Integer)  # the cell's number in those members
    output: Mapped[str] = mapped_column(String(64))
    meaning: Mapped[str] = mapped_column(Text)
    entities: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(48))  # exact sum of the members' keyed hashes
    count_shown: Mapped[bool] = mapped_column(Boolean)  # the release showed the exact entity count
