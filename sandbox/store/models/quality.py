"""Quality rows: runs, per-rule results, correction tickets, exceptions, webhook endpoints and deliveries.

Failing keys never live here: they stay as Parquet in the tickets zone on disk; rows point at
them by path (relative to the home). A ticket's ``examples_json`` holds at most a few keys.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class QualityRunRow(Base):
    """One run of a dataset's suite on one raw version."""

    __tablename__ = "quality_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[str] = mapped_column(String(10))
    suite_source: Mapped[str] = mapped_column(String(500))
    suite_sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)
    dimension_scores_json: Mapped[str] = mapped_column(Text)
    gx_success: Mapped[bool] = mapped_column(Boolean)
    gx_result_path: Mapped[str] = mapped_column(String(500))  # Data Docs page, relative to the home
    keys_path: Mapped[str] = mapped_column(String(500))  # failing keys of this run, relative to the home
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[str] = mapped_column(String(32))


class QualityRuleResultRow(Base):
    __tablename__ = "quality_rule_results"
    __table_args__ = (UniqueConstraint("run_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("quality_runs.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(32))
    column_label: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(8))
    success: Mapped[bool] = mapped_column(Boolean)
    element_count: Mapped[int] = mapped_column(BigInteger)
    unexpected_rows: Mapped[int] = mapped_column(BigInteger)
    failing_keys: Mapped[int] = mapped_column(BigInteger)
    excepted_keys: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)


class QualityTicketRow(Base):
    """A correction ticket (整改工单) or a manual correction request (数据治理校核需求)."""

    __tablename__ = "quality_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    # the run whose keys it carries: the one that raised it, or the latest that followed it up
    run_id: Mapped[str | None] = mapped_column(ForeignKey("quality_runs.id"), index=True)
    version: Mapped[int | None] = mapped_column(Integer)  # raw version the keys were found in
    column_label: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    suggested_fix: Mapped[str] = mapped_column(Text)
    key_count: Mapped[int] = mapped_column(BigInteger)  # keys it has carried in all
    remaining_count: Mapped[int] = mapped_column(BigInteger)  # keys still failing at the last check
    examples_json: Mapped[str] = mapped_column(Text)
    keys_path: Mapped[str | None] = mapped_column(String(500))  # its run's failing keys, relative to the home
    due_on: Mapped[str] = mapped_column(String(10))
    due_exact: Mapped[bool] = mapped_column(Boolean)
    raised_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[str | None] = mapped_column(
        String(32)
    )  # the provider's first answer (or fixing delivery)
    closed_at: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)  # the latest comment: fix note, dispute reason, decision
    updated_at: Mapped[str] = mapped_column(String(32))


class QualityExceptionRow(Base):
    """Keys an upheld dispute declared correct for one rule: never raised again for it."""

    __tablename__ = "quality_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("quality_tickets.id"), unique=True)
    key_count: Mapped[int] = mapped_column(BigInteger)
    keys_path: Mapped[str] = mapped_column(String(500))  # the ticket's run's failing keys (rule_id's rows)
    decided_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))


class QualityWebhookRow(Base):
    """A provider's endpoint for ticket notifications; its signing key lives in ``secrets/``."""

    __tablename__ = "quality_webhooks"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    key_name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))


class QualityDeliveryRow(Base):
    __tablename__ = "quality_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # delivered / failed
    attempts: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
