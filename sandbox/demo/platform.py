"""Set up a platform the way the demo does: county, catalog, cast, deliveries, authorization, scenarios.

Shared by ``sandbox demo`` and the end-to-end tests, so both exercise the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox.catalog.service import ingest, load_catalog, read_catalog_file
from sandbox.context import PlatformContext
from sandbox.demo.cast import create_cast
from sandbox.demo.scenarios import SCENARIOS, authorize_operator, take_to_active
from sandbox.domain.catalog import Catalog
from sandbox.governance.access import principal_for
from sandbox.governance.identities import bootstrap_admin
from sandbox.store.models import DatasetVersionRow
from sandbox.synth import SynthResult, generate


@dataclass
class Platform:
    ctx: PlatformContext
    synth: SynthResult
    catalog: Catalog
    users: list[str]
    versions: dict[str, DatasetVersionRow]
    authorization: str


def build_platform(ctx: PlatformContext, deliveries: Path, *, people: int, seed: int) -> Platform:
    ctx.init_home(demo=True)
    bootstrap_admin(ctx)
    synth = generate(deliveries, people=people, seed=seed)
    catalog_file = read_catalog_file(synth.catalog)
    load_catalog(ctx, principal_for(ctx, "admin"), catalog_file.catalog)
    users = create_cast(ctx, catalog_file.catalog)
    versions = {
        d.id: ingest(
            ctx, principal_for(ctx, f"provider-{d.provider}"), d.id, [catalog_file.files[d.id]]
        ).version
        for d in catalog_file.catalog.datasets
    }
    authorization = authorize_operator(ctx, catalog_file.catalog)
    for spec in SCENARIOS:
        take_to_active(ctx, catalog_file.catalog, spec)
    return Platform(ctx, synth, catalog_file.catalog, users, versions, authorization)
