"""Querying a released product version through the delivery API: filter, sort, page, JSON / CSV / Parquet.

Only the released tables of a version are ever read — the top-level ``<output>.parquet`` files its
release manifest lists, and each only if its bytes still hash to what the release recorded (the
bytes that are hashed are the bytes that are parsed, so nothing can change between the check and
the read). They hold the gate's released aggregate cells (suppressed cells with their measures
empty, as in an export); nothing else of a run is reachable here. Who may query is decided by the
export rule (``versions.check_may_export``): a registered product, free or under terms of use in
force for the key's organization. Every answer is metered (``metering.meter``) before it is handed
back; a query over the key's quota is refused and not counted.

Paging: ``limit`` (at most ``MAX_LIMIT``) with ``offset``, or the ``next_cursor`` of the previous
page. A cursor pins the version it started on, so paging through "latest" never mixes two versions;
it belongs to one table, filter set and sort, and is refused with any other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import InvalidInput, NotFoundError
from sandbox.governance.access import audited_refusals
from sandbox.products import metering, versions
from sandbox.products.api_keys import KeyPrincipal, store_turn
from sandbox.products.versions import ProductFilesChanged
from sandbox.store.models import ProductRow, ProductVersionRow
from sandbox.store.zones import Zone, zone_relative

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
MAX_FILTERS = 64
MAX_SORT_KEYS = 8
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
#: What an Accept header may name for each format (the last two: Parquet's names before its registration).
_ACCEPTED = {
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


class QueryInvalid(InvalidInput):
    """A query names a column, table, format or cursor the released version does not have (HTTP 422)."""

    code = "E580"


@dataclass(frozen=True)
class Query:
    table: str | None = None
    version: int | None = None
    filters: tuple[str, ...] = ()  # "column=value"; the same column twice or more: any of the values
    sort: tuple[str, ...] = ()  # "column" ascending, "-column" descending
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: str | None = None
    format: str | None = None
    accept: str | None = None


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    product_id: str
    version: int
    table: str
    rows: int
    total: int  # rows matching the filters, over every page
    next_cursor: str | None

    def headers(self) -> dict[str, str]:
        """What a CSV or Parquet body cannot say about itself, for every format alike."""
        headers = {
            "X-Product-Version": str(self.version),
            "X-Table": self.table,
            "X-Total-Count": str(self.total),
        }
        if self.next_cursor:
            headers["X-Next-Cursor"] = self.next_cursor
        return headers


def choose_format(fmt: str | None, accept: str | None) -> str:
    """``format=`` wins; otherwise the Accept header's most preferred format we serve; otherwise JSON."""
    if fmt is not None:
        if fmt not in MEDIA_TYPES:
            raise QueryInvalid(
                f"格式须为 {'、'.join(MEDIA_TYPES)} 之一", f"format must be one of {', '.join(MEDIA_TYPES)}"
            )
        return fmt
    offered = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
        if media.lower() in _ACCEPTED and weight > 0:
            offered.append((-weight, position, _ACCEPTED[media.lower()]))
    return min(offered)[2] if offered else "json"


# -- released tables, verified and parsed once per content ---------------------------------------

_PARSED: OrderedDict[str, pa.Table] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 32


def tables_of(row: ProductVersionRow) -> dict[str, str]:
    """The version's released tables: output name -> manifest entry (top-level Parquet files only)."""
    files = json.loads(row.files_json) if row.files_json else {}
    return {
        name.removesuffix(".parquet"): name
        for name in sorted(files)
        if "/" not in name and name.endswith(".parquet")
    }


def read_table(row: ProductVersionRow, directory: Path, name: str) -> pa.Table:
    """One released table, refused (``ProductFilesChanged``) unless its bytes hash to the release manifest's."""
    if row.files_json is None:
        versions.released_files(row, directory)  # raises: released without a manifest
    digest = json.loads(row.files_json)[name]
    path = directory / name
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        raise ProductFilesChanged(
            f"{row.product_id} v{row.version} 的文件 {name} 缺失或与发布时不同，拒绝提供",
            f"{row.product_id} v{row.version}: file {name} is missing or differs from its release; not served",
        )
    with _PARSED_LOCK:
        table = _PARSED.get(digest)
        if table is not None:
            _PARSED.move_to_end(digest)
            return table
    table = pq.read_table(pa.BufferReader(data))
    with _PARSED_LOCK:
        _PARSED[digest] = table
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return table


# -- the query -----------------------------------------------------------------------------------


def _unknown_column(parameter: str, position: int, table: pa.Table) -> QueryInvalid:
    """Which parameter named no column, never what it said (a query string may hold anything)."""
    names = ", ".join(table.column_names)
    return QueryInvalid(
        f"第 {position} 个 {parameter} 参数所指的列不在发布的表中（可用的列：{names}）",
        f"{parameter} #{position} names no column of the released table (columns: {names})",
    )


def _filter_mask(table: pa.Table, filters: tuple[str, ...]):
    if len(filters) > MAX_FILTERS:
        raise QueryInvalid(f"筛选条件最多 {MAX_FILTERS} 个", f"at most {MAX_FILTERS} filters")
    wanted: dict[str, list[str]] = {}
    for position, item in enumerate(filters, start=1):
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise QueryInvalid(
                f"第 {position} 个筛选条件须写成 列名=值", f"filter #{position} must read column=value"
            )
        if column not in table.column_names:
            raise _unknown_column("filter", position, table)
        wanted.setdefault(column, []).append(value)
    mask = None
    for column, values in wanted.items():
        kind = table.schema.field(column).type
        try:
            typed = pa.array(values, type=pa.string()).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise QueryInvalid(  # the value is not echoed: only the column and its type are named
                f"列 {column} 的筛选值不是 {kind} 类型",
                f"a filter value for column {column} is not of type {kind}",
            ) from None
        hit = pc.is_in(table[column], value_set=typed)
        mask = hit if mask is None else pc.and_(mask, hit)
    return mask


def _sort_keys(table: pa.Table, sort: tuple[str, ...]) -> list[tuple[str, str]]:
    if len(sort) > MAX_SORT_KEYS:
        raise QueryInvalid(f"排序列最多 {MAX_SORT_KEYS} 个", f"at most {MAX_SORT_KEYS} sort columns")
    keys = []
    for position, item in enumerate(sort, start=1):
        column, order = (item[1:], "descending") if item.startswith("-") else (item.lstrip("+"), "ascending")
        if column not in table.column_names:
            raise _unknown_column("sort", position, table)
        keys.append((column, order))
    return keys


def _fingerprint(table: str, query: Query) -> str:
    canonical = json.dumps([table, sorted(query.filters), list(query.sort)], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_cursor(version: int, table: str, offset: int, fingerprint: str) -> str:
    raw = json.dumps({"v": version, "t": table, "o": offset, "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict:
    bad = QueryInvalid("分页游标无效", "the paging cursor is not valid")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise bad from None
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), t) for k, t in (("v", int), ("t", str), ("o", int), ("q", str))
    ):
        raise bad
    if raw["v"] < 1 or raw["o"] < 0:
        raise bad
    return raw


def _render(table: pa.Table, fmt: str, head: dict) -> bytes:
    if fmt == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()
    if fmt == "csv":
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        return sink.getvalue()
    body = {
        **head,
        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "rows": table.to_pylist(),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _released(
    ctx: PlatformContext, who: KeyPrincipal, product_id: str, version: int | None, today: date | None
):
    """The product (checked by the export rule, refusals audited) and the version's row and directory."""
    with audited_refusals(ctx, who, "product.query", "product", product_id), store_turn(ctx):
        versions.check_may_export(ctx, who, product_id, today or datetime.now(SHANGHAI).date())
        query = (
            select(ProductRow, ProductVersionRow)
            .join(ProductVersionRow, ProductVersionRow.product_id == ProductRow.id)
            .where(ProductRow.id == product_id)
        )
        query = query.where(ProductVersionRow.version == version) if version else query
        with ctx.sessions() as session:
            found = session.execute(query.order_by(ProductVersionRow.version.desc()).limit(1)).first()
        if found is None:
            raise NotFoundError(
                f"数据产品 {product_id} 没有可用版本", f"product {product_id} has no such released version"
            )
    product, row = found
    return product, row, zone_relative(ctx.settings, Zone.PRODUCTS, row.path)


def _pick_table(row: ProductVersionRow, wanted: str | None) -> tuple[str, str]:
    tables = tables_of(row)
    if wanted is None:
        if len(tables) != 1:
            raise QueryInvalid(
                f"该版本有 {len(tables)} 张表，请用 table= 指定其一：{', '.join(tables)}",
                f"this version has {len(tables)} tables; name one with table=: {', '.join(tables)}",
            )
        wanted = next(iter(tables))
    if wanted not in tables:
        raise QueryInvalid(
            f"该版本没有所指的表（可用：{', '.join(tables)}）",
            f"this version has no such table (tables: {', '.join(tables)})",
        )
    return wanted, tables[wanted]


def describe(
    ctx: PlatformContext,
    who: KeyPrincipal,
    product_id: str,
    version: int | None = None,
    *,
    today: date | None = None,
) -> dict:
    """A version's tables and their columns, for a client to build queries on (not metered: no cells)."""
    product, row, directory = _released(ctx, who, product_id, version, today)
    tables = {
        name: [{"name": f.name, "type": str(f.type)} for f in read_table(row, directory, file).schema]
        for name, file in tables_of(row).items()
    }
    return {"product": product.id, "title": product.title, "fee_bearing": product.fee_bearing,
            "version": row.version, "released_at": row.released_at,
            "versions": [v.version for v in versions.versions(ctx, product_id)], "tables": tables}  # fmt: skip


def query(
    ctx: PlatformContext, who: KeyPrincipal, product_id: str, q: Query, *, today: date | None = None
) -> Answer:
    """Answer one query on a released version, metered; see the module's docstring."""
    fmt = choose_format(q.format, q.accept)
    offset, version, pinned = q.offset, q.version, None
    if q.cursor is not None:
        if q.offset:
            raise QueryInvalid("游标与 offset 不能同时使用", "use either a cursor or an offset, not both")
        pinned = _decode_cursor(q.cursor)
        if version is not None and version != pinned["v"]:
            raise QueryInvalid("游标属于另一个版本", "the cursor belongs to another version")
        offset, version = pinned["o"], pinned["v"]
    if not 1 <= q.limit <= MAX_LIMIT:
        raise QueryInvalid(f"limit 须在 1 到 {MAX_LIMIT} 之间", f"limit must be 1–{MAX_LIMIT}")
    product, row, directory = _released(ctx, who, product_id, version, today)
    name, file = _pick_table(row, q.table if pinned is None else q.table or pinned["t"])
    fingerprint = _fingerprint(name, q)
    if pinned is not None and (pinned["t"], pinned["q"]) != (name, fingerprint):
        raise QueryInvalid(
            "游标属于另一个查询（表、筛选或排序不同）",
            "the cursor belongs to another query (table, filters or sort)",
        )
    table = read_table(row, directory, file)
    mask = _filter_mask(table, q.filters)
    if mask is not None:
        table = table.filter(mask)
    keys = _sort_keys(table, q.sort)
    if keys:
        table = table.sort_by(keys)
    total = table.num_rows
    page = table.slice(offset, q.limit)
    after = offset + page.num_rows
    next_cursor = _encode_cursor(row.version, name, after, fingerprint) if after < total else None
    head = {"product": product_id, "version": row.version, "table": name, "total": total, "offset": offset,
            "limit": q.limit, "next_cursor": next_cursor}  # fmt: skip
    body = _render(page, fmt, head)
    metering.meter(ctx, who, product, page.num_rows, len(body))
    return Answer(body, MEDIA_TYPES[fmt], product_id, row.version, name, page.num_rows, total, next_cursor)
