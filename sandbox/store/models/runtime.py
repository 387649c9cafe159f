"""Job submissions, production runs and product versions."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class JobSubmissionRow(Base):
    """A snapshot of a job's files as submitted; what was reviewed is what runs."""

    __tablename__ = "job_submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"))
    submitter: Mapped[str] = mapped_column(ForeignKey("users.username"))
    snapshot_path: Mapped[str] = mapped_column(String(500))  # relative to the home
    code_sha256: Mapped[str] = mapped_column(String(64))
    check_json: Mapped[str] = mapped_column(Text)  # static check findings at submission
    state: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str | None] = mapped_column(String(64))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[str] = mapped_column(String(32))
    terms_json: Mapped[str | None] = mapped_column(Text)  # an approval's terms (runtime.approval)


class JobRunRow(Base):
    """One production run: isolation applied, inputs used, outcome. Logs stay with operators."""

    __tablename__ = "job_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("job_submissions.id"), index=True)
    promoted_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    dataset_versions_json: Mapped[str] = mapped_column(Text)
    isolation_json: Mapped[str] = mapped_column(Text, default="{}")
    timings_json: Mapped[str] = mapped_column(Text, default="{}")
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_line: Mapped[int | None] = mapped_column(Integer)
    contract_json: Mapped[str | None] = mapped_column(Text)  # FrameContract, checked against the manifest
    failure_json: Mapped[str | None] = mapped_column(
        Text
    )  # phase, build message, plan findings (developer_view)
    logs_path: Mapped[str] = mapped_column(String(500))  # relative to the home; operators only
    gate_summary_json: Mapped[str | None] = mapped_column(Text)
    product_version_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))


class ProductVersionRow(Base):
    """A released product version with its lineage: job hash, dataset versions, policy, gate report."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(ForeignKey("job_runs.id"))
    path: Mapped[str] = mapped_column(String(500))  # relative to the products zone
    code_sha256: Mapped[str] = mapped_column(String(64))
    dataset_versions_json: Mapped[str] = mapped_column(Text)
    policy_json: Mapped[str] = mapped_column(Text)
    outputs_json: Mapped[str] = mapped_column(Text)  # output -> released / suppressed counts
    files_json: Mapped[str | None] = mapped_column(Text)  # file -> SHA-256: all a reader may open
    released_at: Mapped[str] = mapped_column(String(32))
