"""A platform on the synthetic county, ready for quality runs: catalog, the demo's cast, raw versions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.catalog.service import current_version, ingest, load_catalog, read_catalog_file, version_path
from sandbox.context import PlatformContext
from sandbox.demo.cast import create_cast
from sandbox.governance.access import principal_for


def county_as_of(county: Path) -> date:
    return date.fromisoformat(json.loads((county / "synth.json").read_text(encoding="utf-8"))["as_of"])


def deliver(ctx: PlatformContext, county: Path, datasets: list[str] | None = None) -> None:
    """Register the county's catalog and cast, then let each provider deliver its datasets."""
    catalog_file = read_catalog_file(county / "catalog.yaml")
    load_catalog(ctx, principal_for(ctx, "admin"), catalog_file.catalog)
    create_cast(ctx, catalog_file.catalog)
    for dataset in catalog_file.catalog.datasets:
        if datasets is None or dataset.id in datasets:
            provider = principal_for(ctx, f"provider-{dataset.provider}")
            ingest(ctx, provider, dataset.id, [catalog_file.files[dataset.id]])


def raw_table(ctx: PlatformContext, dataset_id: str) -> pa.Table:
    return pq.read_table(version_path(ctx, current_version(ctx, dataset_id)))


def redeliver(ctx: PlatformContext, dataset_id: str, table: pa.Table, tmp_path: Path) -> int:
    """The provider delivers ``table`` as the dataset's next version; returns its number."""
    from sandbox.catalog.service import get_dataset

    dataset = get_dataset(ctx, dataset_id)
    path = tmp_path / f"{dataset_id}-{table.num_rows}-{id(table)}.parquet"
    pq.write_table(table, path)
    provider = principal_for(ctx, f"provider-{dataset.provider}")
    return ingest(ctx, provider, dataset_id, [path]).version.version
