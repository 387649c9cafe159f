"""Catalog rows: providers, code tables, datasets, columns, raw versions and quarantine."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.store.models.base import Base


class ProviderRow(Base):
    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="government")
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(32))


class CodeTableRow(Base):
    """A code table (administrative divisions, gender, industry…) that column values must belong to."""

    __tablename__ = "code_tables"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    values_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    update_cycle: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(8))
    spec_json: Mapped[str] = mapped_column(Text)  # the registered entry, canonical JSON
    spec_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))

    columns: Mapped[list[DatasetColumnRow]] = relationship(
        back_populates="dataset", order_by="DatasetColumnRow.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[DatasetVersionRow]] = relationship(
        back_populates="dataset", order_by="DatasetVersionRow.version"
    )


class DatasetColumnRow(Base):
    __tablename__ = "dataset_columns"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    pii: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(8))
    personal_info: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=False)

    dataset: Mapped[DatasetRow] = relationship(back_populates="columns")


class DatasetVersionRow(Base):
    """One immutable delivery of a dataset in the raw zone."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to the raw zone
    row_count: Mapped[int] = mapped_column(BigInteger)
    schema_hash: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    duplicate_key_count: Mapped[int] = mapped_column(BigInteger, default=0)
    engine: Mapped[str] = mapped_column(String(16))
    sources_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))

    dataset: Mapped[DatasetRow] = relationship(back_populates="versions")


class QuarantineRow(Base):
    """A rejected upload, kept with its reason."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    path: Mapped[str] = mapped_column(String(500))  # relative to the quarantine zone
    reason: Mapped[str] = mapped_column(String(32))
    detail_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
