"""Consumers: the product catalogue, downloads of released versions within their terms of use,
their organization's terms, and re-development applications.

A download is ``versions.export`` into a private directory of the work zone, answered as one zip
archive (the released tables and the gate report's public view) and removed at once
(``sandbox.api.downloads``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from sandbox.api import downloads
from sandbox.api.access import Allow, platform
from sandbox.api.params import VersionQuery
from sandbox.domain.identifiers import NAME
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal
from sandbox.products import catalogue, redevelopment, terms

router = APIRouter(prefix="/consumer", tags=["consumer"])
consumer = Allow(Role.CONSUMER)


@router.get("/products")
def products(who: Principal = Depends(consumer), ctx=Depends(platform)) -> list[dict]:
    """数据产品目录（免费或有偿）/ the product catalogue (free or fee-bearing)."""
    return catalogue.catalogue(ctx)


@router.get("/products/{product_id}")
def product(product_id: str, who: Principal = Depends(consumer), ctx=Depends(platform)) -> dict:
    """数据产品登记详情 / a product's registration."""
    return catalogue.product(ctx, product_id)


@router.get("/products/{product_id}/versions")
def product_versions(
    product_id: str, who: Principal = Depends(consumer), ctx=Depends(platform)
) -> list[dict]:
    """已发布的版本及其血缘 / released versions and their lineage."""
    return catalogue.released_versions(ctx, product_id)


@router.get("/products/{product_id}/download", response_class=Response,
            responses=downloads.ARCHIVE_RESPONSES)  # fmt: skip
def download(
    product_id: str,
    fmt: downloads.ArchiveFormat = "csv",
    version: VersionQuery = None,
    who: Principal = Depends(consumer),
    ctx=Depends(platform),
) -> Response:
    """下载已发布版本的聚合表与公开门控报告（有偿产品须有使用条款）/ download a released version (terms of use for fee-bearing ones)."""
    return downloads.product_archive(ctx, who, product_id, fmt, version)


@router.get("/terms")
def my_terms(product: str | None = Query(None, max_length=64), who: Principal = Depends(consumer),
             ctx=Depends(platform)) -> list[dict]:  # fmt: skip
    """本机构的使用条款 / my organization's terms of use."""
    return [terms.terms_view(t) for t in terms.list_terms(ctx, who, product)]


class ApplicationRequest(BaseModel):
    product: str = Field(pattern=f"^{NAME}$")
    purpose: str = Field(min_length=1, max_length=2000)


@router.post("/redevelopments", status_code=201)
def apply(body: ApplicationRequest, who: Principal = Depends(consumer), ctx=Depends(platform)) -> dict:
    """申请再开发 / apply to re-develop a product."""
    return redevelopment.application_view(redevelopment.apply(ctx, who, body.product, body.purpose))


@router.get("/redevelopments")
def my_applications(who: Principal = Depends(consumer), ctx=Depends(platform)) -> list[dict]:
    """本机构的再开发申请 / my organization's re-development applications."""
    return [redevelopment.application_view(r) for r in redevelopment.list_applications(ctx, who)]
