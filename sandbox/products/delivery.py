"""Querying a released product version through the delivery API: filter, sort, page, JSON / CSV / Parquet.

Only the released tables of a version are ever read — the top-level ``<output>.parquet`` files its
release manifest lists, and each only if its bytes hash to what the release recorded (the bytes
that are hashed are the bytes that are parsed, so nothing can change between the check and the
read). They hold the gate's released aggregate cells (suppressed cells with their measures empty,
as in an export); nothing else of a run is reachable here.

One request, one transaction (``_granted``): its first statement checks the key again (revoked or
not, its organization, its quota in force), the export rule (a registered product, free or under
terms of use in force for the key's organization: ``versions.check_may_export``, which still names
and audits every refusal) and finds the version; the answer is made inside it, and metered in it
(``metering.charge``); the answer is handed back only once that transaction committed. A query over
the key's quota is refused and not counted. What the check reads is what the metering counts
against: a key revoked, a quota lowered, terms revoked or a product deregistered by a commit before
that first statement are seen; one committed later is the next request's. On SQLite the transaction
holds the write lock from its first statement (nothing can commit in between). On both databases the
requests that arrive while one commit is being synced share the next (``GroupCommit``: each request in
a savepoint of its own, refused ones rolled back alone, all answered once the shared commit is durable).

Two memories keep the work per request small, neither able to serve what the store or the files
would refuse: a released table is hashed and parsed once per file state (``released_tables``), and a
rendered page is kept by the content hash of its table and everything the query names, so it is the
same bytes the table would give again; it is still metered each time it is served.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from weakref import WeakKeyDictionary

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic_core import to_json
from sqlalchemy import Engine

from sandbox.context import PlatformContext
from sandbox.display import SHANGHAI
from sandbox.domain.errors import Busy, InvalidInput, NotFoundError, ShuyuError
from sandbox.domain.product import ProductState
from sandbox.governance.access import audited_refusals
from sandbox.products import api_keys, metering, versions
from sandbox.products.api_keys import KeyPrincipal, KeyRefused, store_turn
from sandbox.products.released_tables import Released, read_checked, tables_of
from sandbox.store.db import Direct, GroupCommit, Statement, direct
from sandbox.store.models import ProductVersionRow
from sandbox.store.zones import Zone, zone_relative

T = TypeVar("T")

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


# -- pages, kept by what makes them --------------------------------------------------------------

#: Rendered pages kept at most (bytes, all pages together), and the largest page kept.
PAGES_MAX_BYTES = 64 * 1024 * 1024
PAGE_MAX_BYTES = 4 * 1024 * 1024
_PAGES: OrderedDict[tuple, Answer] = OrderedDict()
_PAGES_LOCK = threading.Lock()
_pages_bytes = 0


def _page(key: tuple) -> Answer | None:
    with _PAGES_LOCK:
        answer = _PAGES.get(key)
        if answer is not None:
            _PAGES.move_to_end(key)
        return answer


def _keep_page(key: tuple, answer: Answer) -> None:
    global _pages_bytes
    size = len(answer.body)
    if size > PAGE_MAX_BYTES:
        return
    with _PAGES_LOCK:
        if key in _PAGES:
            return
        _PAGES[key] = answer
        _pages_bytes += size
        while _pages_bytes > PAGES_MAX_BYTES:
            _key, dropped = _PAGES.popitem(last=False)
            _pages_bytes -= len(dropped.body)


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


#: Arrow types whose Python values every JSON encoder writes alike (others: dates, decimals… go through ``str``).
_PLAIN = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
          pa.types.is_boolean, pa.types.is_null)  # fmt: skip


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
    if all(any(plain(f.type) for plain in _PLAIN) for f in table.schema):
        return to_json(body)  # the same JSON as below (UTF-8, compact), written faster
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


# -- the request's one transaction ---------------------------------------------------------------

#: The key (revoked? its organization a consumer's? its quota), the product (registered? fee-bearing,
#: and then terms of use in force for the key's organization?) and the version (pinned or latest):
#: one indexed read, the first statement of the request's transaction.
_GRANT = Statement(
    "SELECT k.revoked_at, o.kind, k.daily_quota, p.state, p.fee_bearing, p.title, "
    "EXISTS (SELECT 1 FROM product_terms t WHERE t.product_id = p.id AND t.consumer_org_id = k.org_id "
    "AND t.revoked_at IS NULL AND (t.ends_on IS NULL OR t.ends_on >= :today)), "
    "v.version, v.path, v.files_json, v.released_at "
    "FROM api_keys k JOIN organizations o ON o.id = k.org_id "
    "LEFT JOIN products p ON p.id = :product_id "
    "LEFT JOIN product_versions v ON v.product_id = p.id AND v.version = COALESCE(:version, "
    "(SELECT max(w.version) FROM product_versions w WHERE w.product_id = :product_id)) "
    "WHERE k.id = :key_id"
)
#: Times a request is tried again when the export rule changed between its check and the refusal's
#: own reading of it (a grant or registration committed in between), before it answers busy.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Grant:
    """What the request's transaction found: the key's quota in force, the product and the version."""

    quota: int
    title: str
    fee_bearing: bool
    release: Released


class _Refused(Exception):
    """Inside the transaction: refused. ``error`` to raise (audited) once it is rolled back; ``None``:
    the export rule refused, and ``versions.check_may_export`` says why."""

    def __init__(self, error: ShuyuError | None = None) -> None:
        self.error = error


def _grant(tx: Direct, who: KeyPrincipal, product_id: str, version: int | None, day: date) -> Grant:
    found = tx.one(_GRANT, {"key_id": who.key_id, "product_id": product_id, "version": version,
                            "today": day.isoformat()})  # fmt: skip
    if found is None or not api_keys.usable(found[0], found[1]):
        raise KeyRefused()
    quota, state, fee_bearing, title, terms_in_force, number, path, files_json, released_at = found[2:]
    # versions.check_may_export for a consumer, in SQL; what it refuses, it words (``_granted``)
    if state != ProductState.REGISTERED.value or (fee_bearing and not terms_in_force):
        raise _Refused()
    if number is None:
        raise _Refused(
            NotFoundError(
                f"数据产品 {product_id} 没有可用版本", f"product {product_id} has no such released version"
            )
        )
    return Grant(quota, title, bool(fee_bearing), Released(product_id, number, path, files_json, released_at))


@dataclass
class _Store:
    """What the query path keeps per store (its engine): the shared commits of this process's requests,
    and where the products zone is."""

    group: GroupCommit
    products: str


_STORES: WeakKeyDictionary[Engine, _Store] = WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _store(ctx: PlatformContext) -> _Store:
    with _STORES_LOCK:
        store = _STORES.get(ctx.engine)
        if store is None:
            products = str(ctx.settings.home_dir / Zone.PRODUCTS.value)
            store = _STORES[ctx.engine] = _Store(GroupCommit(), products)
        return store


def _granted(
    ctx: PlatformContext,
    who: KeyPrincipal,
    product_id: str,
    version: int | None,
    today: date | None,
    work: Callable[[Direct, Grant], T],
    *,
    write: bool,
) -> T:
    """``work`` in the request's one transaction, once the key and the export rule admit it (refusals
    audited, as ``product.query``). ``write``: it writes (metering). A writing transaction is shared
    with the requests that come in while the one before commits (``GroupCommit``: each in a savepoint,
    all answered once their commit is durable; on SQLite it holds the write lock from its first read).
    PostgreSQL gains from sharing too: a transaction and a commit less per request (bench/api.py
    ``--postgres``: 608 -> 1,426 req/s, p99 264 -> 59 ms at 64 clients)."""
    day = today or datetime.now(SHANGHAI).date()

    def granted(tx: Direct) -> T:
        return work(tx, _grant(tx, who, product_id, version, day))

    for _attempt in range(_ATTEMPTS):
        try:
            if write:
                return _store(ctx).group.run(ctx.engine, granted, turn=lambda: store_turn(ctx))
            with direct(ctx.engine, write=write) as tx:
                return granted(tx)
        except KeyRefused:
            api_keys.forget_key(ctx, who.key_id)
            raise
        except _Refused as refused:
            with audited_refusals(ctx, who, "product.query", "product", product_id):
                if refused.error is not None:
                    raise refused.error from None
                with store_turn(ctx):
                    versions.check_may_export(ctx, who, product_id, day)
            # the rule admits it now: a grant or registration came in between; ask again
    raise Busy()


def _pick_table(row: ProductVersionRow | Released, wanted: str | None) -> tuple[str, str]:
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


def _table(ctx: PlatformContext, release: Released, name: str) -> tuple[pa.Table, str]:
    """A released table of ``release`` (``_read``); its directory is checked against the products
    zone whenever the file is to be verified again."""
    path = f"{_store(ctx).products}/{release.path}/{name}"
    return read_checked(
        release, name, path, lambda: zone_relative(ctx.settings, Zone.PRODUCTS, release.path) / name
    )


def describe(
    ctx: PlatformContext,
    who: KeyPrincipal,
    product_id: str,
    version: int | None = None,
    *,
    today: date | None = None,
) -> dict:
    """A version's tables and their columns, for a client to build queries on (not metered: no cells)."""
    grant = _granted(ctx, who, product_id, version, today, lambda _tx, grant: grant, write=False)
    row = grant.release
    tables = {
        name: [{"name": f.name, "type": str(f.type)} for f in _table(ctx, row, file)[0].schema]
        for name, file in tables_of(row).items()
    }
    return {"product": product_id, "title": grant.title, "fee_bearing": grant.fee_bearing,
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

    def answer_and_meter(tx: Direct, grant: Grant) -> Answer:
        answer = _answer(ctx, grant.release, q, fmt, pinned, offset)
        metering.charge(tx, key_id=who.key_id, org_id=who.org_id, quota=grant.quota, product_id=product_id,
                        fee_bearing=grant.fee_bearing, rows=answer.rows, nbytes=len(answer.body),
                        day=api_keys.today())  # fmt: skip
        return answer

    return _granted(ctx, who, product_id, version, today, answer_and_meter, write=True)


def _answer(
    ctx: PlatformContext, release: Released, q: Query, fmt: str, pinned: dict | None, offset: int
) -> Answer:
    name, file = _pick_table(release, q.table if pinned is None else q.table or pinned["t"])
    if pinned is not None and (pinned["t"], pinned["q"]) != (name, _fingerprint(name, q)):
        raise QueryInvalid(
            "游标属于另一个查询（表、筛选或排序不同）",
            "the cursor belongs to another query (table, filters or sort)",
        )
    table, digest = _table(ctx, release, file)
    key = (digest, release.product_id, release.version, name, fmt, q.filters, q.sort, offset, q.limit)
    kept = _page(key)
    if kept is not None:
        return kept
    mask = _filter_mask(table, q.filters)
    if mask is not None:
        table = table.filter(mask)
    keys = _sort_keys(table, q.sort)
    if keys:
        table = table.sort_by(keys)
    total = table.num_rows
    page = table.slice(offset, q.limit)
    after = offset + page.num_rows
    next_cursor = (
        _encode_cursor(release.version, name, after, _fingerprint(name, q)) if after < total else None
    )
    head = {"product": release.product_id, "version": release.version, "table": name, "total": total,
            "offset": offset, "limit": q.limit, "next_cursor": next_cursor}  # fmt: skip
    body = _render(page, fmt, head)
    answer = Answer(body, MEDIA_TYPES[fmt], release.product_id, release.version, name, page.num_rows, total,
                    next_cursor)  # fmt: skip
    _keep_page(key, answer)
    return answer
