"""The privacy-budget ledger: per dataset, a total that never grows and every spend against it."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
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
