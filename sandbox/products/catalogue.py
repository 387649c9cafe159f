"""The product registry as every face reads it (API routers, web pages, CLI): the catalogue, one product,
and a product's released versions with their lineage. Registration facts only; no cells."""

from __future__ import annotations

from sandbox.context import PlatformContext
from sandbox.products import registry, versions


def catalogue(ctx: PlatformContext) -> list[dict]:
    """Every registered product (whatever its state), with the versions released of it."""
    released = versions.released(ctx)
    return [registry.product_view(p, released.get(p.id, [])) for p in registry.list_products(ctx)]


def product(ctx: PlatformContext, product_id: str) -> dict:
    """One product's registration; an unknown product is NotFoundError."""
    row = registry.get(ctx, product_id)
    return registry.product_view(row, versions.released(ctx).get(row.id, []))


def released_versions(ctx: PlatformContext, product_id: str) -> list[dict]:
    """A product's released versions, oldest first; an unknown product is NotFoundError, not an empty list."""
    registry.get(ctx, product_id)
    return [versions.version_view(v) for v in versions.versions(ctx, product_id)]
