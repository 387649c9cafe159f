"""Consumer pages: the product catalogue with its terms (free, or fee-bearing at the guided price and
under terms of use), a product's page with a table and a chart of its released cells, downloads, API
keys and the organization's own usage. Cells are read under the export rule (``check_may_export``:
terms of use for fee-bearing products), from the release's hash-checked files."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from sandbox.api.access import platform
from sandbox.api.routers.consumer import download as api_download
from sandbox.display import SHANGHAI
from sandbox.domain.identity import Role
from sandbox.governance.access import Principal, audited_refusals
from sandbox.products import api_keys, catalogue, metering, released_tables, terms, versions

from . import charts
from .i18n import lang_of, text
from .render import page, redirect
from .rules import Page

router = APIRouter(prefix="/consumer", include_in_schema=False)
consumer = Page(Role.CONSUMER)
#: A page shows this many rows of a table; the download and the query API have them all.
SHOWN_ROWS = 200
CHARTED_CELLS = 40


def _my_terms(ctx, who: Principal) -> dict[str, dict]:
    """The organization's terms in force, by product."""
    return {
        t["product"]: t for t in map(terms.terms_view, terms.list_terms(ctx, who)) if t["state"] == "active"
    }


@router.get("")
def catalogue_page(request: Request, who: Principal = Depends(consumer), ctx=Depends(platform)) -> Response:
    """数据产品目录：免费或有偿（指导价）、本机构的使用条款 / the catalogue: free or priced, and one's terms."""
    rows = catalogue.catalogue(ctx)
    rows = [p for p in rows if p["state"] == "registered"]
    return page(request, who, "consumer/catalogue.html", products=rows, held=_my_terms(ctx, who),
                prices=metering.Prices())  # fmt: skip


def _cells(ctx, who: Principal, product_id: str, version: int | None, table: str | None) -> dict | None:
    """The released table to show (first ``SHOWN_ROWS`` rows) if the consumer may take the product."""
    with audited_refusals(ctx, who, "product.view", "product", product_id):
        versions.check_may_export(ctx, who, product_id, datetime.now(SHANGHAI).date())
    row, directory = versions.version_dir(ctx, product_id, version)
    tables = released_tables.tables_of(row)
    if not tables:
        return None
    name = table if table in tables else next(iter(tables))
    data = released_tables.read_table(row, directory, tables[name])
    columns = data.column_names
    numeric = [
        c
        for c in columns
        if c != "decision" and str(data.schema.field(c).type).startswith(("int", "float", "double", "uint"))
    ]
    measure = (numeric[-1:] if "decision" not in columns else numeric[:1]) or [None]
    dimensions = [c for c in columns if c not in (measure[0], "decision")]
    shown = data.slice(0, SHOWN_ROWS).to_pylist()
    return {"version": row.version, "tables": list(tables), "table": name, "columns": columns, "rows": shown,
            "total": data.num_rows, "measure": measure[0], "dimensions": dimensions}  # fmt: skip


@router.get("/products/{product_id}")
def product(product_id: str, request: Request, version: int | None = Query(None, ge=1),
            table: str | None = Query(None, max_length=64), who: Principal = Depends(consumer),
            ctx=Depends(platform)) -> Response:  # fmt: skip
    """产品页：登记信息、版本、发布的单元格（表与图）、下载 / a product: registration, versions, released cells, downloads."""
    view = catalogue.product(ctx, product_id)
    released = catalogue.released_versions(ctx, product_id)
    cells = _cells(ctx, who, product_id, version, table) if released else None
    chart = None
    if cells and cells["measure"]:
        lang = lang_of(request)
        items = [(" · ".join(str(r[d]) for d in cells["dimensions"]) or "—", r[cells["measure"]])
                 for r in cells["rows"][:CHARTED_CELLS]]  # fmt: skip
        chart = charts.cell_bars(items, text(lang, "product.chart_title", measure=cells["measure"]),
                                 text(lang, "product.suppressed"))  # fmt: skip
    return page(request, who, "consumer/product.html", p=view, versions=list(reversed(released)), cells=cells,
                chart=chart, held=_my_terms(ctx, who).get(product_id), prices=metering.Prices(),
                charted=CHARTED_CELLS)  # fmt: skip


@router.get("/products/{product_id}/download")
def download(product_id: str, fmt: Literal["csv", "parquet", "xlsx"] = Query("csv", alias="format"),
             version: int | None = Query(None, ge=1), who: Principal = Depends(consumer),
             ctx=Depends(platform)) -> Response:  # fmt: skip
    """下载已发布版本（zip：聚合表与公开门控报告）/ download a released version (zip: tables and the public gate report)."""
    return api_download(product_id, fmt, version, who, ctx)


@router.get("/keys")
def keys(request: Request, who: Principal = Depends(consumer), ctx=Depends(platform)) -> Response:
    """本机构的 API 密钥与本月用量 / the organization's API keys and this month's usage."""
    return _keys_page(request, who, ctx)


def _keys_page(
    request: Request, who: Principal, ctx, secret: str | None = None, status: int = 200
) -> Response:
    return page(request, who, "consumer/keys.html", status=status, keys=api_keys.list_keys(ctx, who),
                usage=metering.usage(ctx, who), bill=metering.billing(ctx, who), secret=secret)  # fmt: skip


@router.post("/keys")
def create_key(request: Request, label: str = Form("", max_length=100), who: Principal = Depends(consumer),
               ctx=Depends(platform)) -> Response:  # fmt: skip
    """创建 API 密钥（密钥只显示这一次）/ create an API key (its secret is shown this once)."""
    _row, secret = api_keys.create_key(ctx, who, label)
    return _keys_page(request, who, ctx, secret=secret, status=201)


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: str, request: Request, who: Principal = Depends(consumer),
               ctx=Depends(platform)) -> Response:  # fmt: skip
    """吊销 API 密钥 / revoke an API key."""
    api_keys.revoke_key(ctx, who, key_id, "revoked on the web")
    return redirect(request, "/consumer/keys")
