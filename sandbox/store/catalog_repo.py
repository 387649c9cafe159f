"""Repository for catalog rows: providers, code tables, datasets, versions, quarantine."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.store.models import (
    CodeTableRow,
    DatasetColumnRow,
    DatasetRow,
    DatasetVersionRow,
    ProviderRow,
    QuarantineRow,
)


def get_provider(session: Session, provider_id: str) -> ProviderRow | None:
    return session.get(ProviderRow, provider_id)


def list_providers(session: Session) -> list[ProviderRow]:
    return list(session.scalars(select(ProviderRow).order_by(ProviderRow.id)))


def get_code_table(session: Session, name: str) -> CodeTableRow | None:
    return session.get(CodeTableRow, name)


def code_tables(session: Session) -> dict[str, tuple[str, ...]]:
    rows = session.scalars(select(CodeTableRow).order_by(CodeTableRow.name))
    return {row.name: tuple(json.loads(row.values_json)) for row in rows}


def get_dataset(session: Session, dataset_id: str) -> DatasetRow | None:
    return session.get(DatasetRow, dataset_id)


def list_datasets(session: Session) -> list[DatasetRow]:
    return list(session.scalars(select(DatasetRow).order_by(DatasetRow.provider_id, DatasetRow.id)))


def add_dataset_columns(session: Session, dataset: DatasetRow, columns: list[DatasetColumnRow]) -> None:
    dataset.columns.extend(columns)


def versions(session: Session, dataset_id: str) -> list[DatasetVersionRow]:
    return list(
        session.scalars(
            select(DatasetVersionRow)
            .where(DatasetVersionRow.dataset_id == dataset_id)
            .order_by(DatasetVersionRow.version)
        )
    )


def latest_version(session: Session, dataset_id: str) -> DatasetVersionRow | None:
    return session.scalars(
        select(DatasetVersionRow)
        .where(DatasetVersionRow.dataset_id == dataset_id)
        .order_by(DatasetVersionRow.version.desc())
        .limit(1)
    ).first()


def quarantined(session: Session, dataset_id: str | None = None) -> list[QuarantineRow]:
    query = select(QuarantineRow).order_by(QuarantineRow.id)
    if dataset_id:
        query = query.where(QuarantineRow.dataset_id == dataset_id)
    return list(session.scalars(query))
