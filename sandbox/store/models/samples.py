"""Sample versions of a scenario, the datasets each holds, and the profiler's findings."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.store.models.base import Base


class SampleVersionRow(Base):
    """One build of a scenario's samples; the card (JSON) says how it was made and what risk remains."""

    __tablename__ = "sample_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    authorization_id: Mapped[str] = mapped_column(String(32))  # whose pseudonym key was used
    seed: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # current / superseded / deleted
    card_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[str | None] = mapped_column(String(32))

    datasets: Mapped[list[SampleDatasetRow]] = relationship(
        order_by="SampleDatasetRow.dataset_id", cascade="all, delete-orphan"
    )


class SampleDatasetRow(Base):
    __tablename__ = "sample_datasets"
    __table_args__ = (UniqueConstraint("sample_version_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sample_version_id: Mapped[int] = mapped_column(ForeignKey("sample_versions.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    raw_version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to the samples zone
    rows: Mapped[int] = mapped_column(Integer)
    k_achieved: Mapped[int] = mapped_column(Integer)


class ProfileFindingRow(Base):
    """A column declared harmless that holds personal identifiers, for the operator and the provider."""

    __tablename__ = "sample_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sample_version_id: Mapped[int] = mapped_column(ForeignKey("sample_versions.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    column: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    declared_kind: Mapped[str] = mapped_column(String(32))
    detected_kind: Mapped[str] = mapped_column(String(32))
    share: Mapped[float] = mapped_column(Float)
    created_at: Mapped[str] = mapped_column(String(32))
