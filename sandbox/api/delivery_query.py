"""The product query endpoint's parameters, read from the query string in one pass.

FastAPI validates declared parameters one model field at a time, and on the one endpoint under load
that cost a quarter of the server's CPU per request (bench/api.py, py-spy); here they are read and
checked directly, with the same bounds, and ``PARAMETERS`` documents them in the OpenAPI schema as
declared parameters would. A bad value is a 422 naming the parameter, never echoing what was sent.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams

from sandbox.products.delivery import (
    DEFAULT_LIMIT,
    MAX_FILTERS,
    MAX_LIMIT,
    MAX_SORT_KEYS,
    Query,
    QueryInvalid,
)

MAX_INT = 2**63 - 1  # the store's integers (api/params.py)
_TEXT = {"table": 64, "cursor": 512, "format": 16}


def _text(name: str) -> dict:
    return {"type": "string", "maxLength": _TEXT[name]}


def _described(name: str, schema: dict, zh: str, en: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": f"{zh} / {en}"}


PARAMETERS = [
    _described("table", _text("table"), "表（输出）名", "table (output) name"),
    _described("version", {"type": "integer", "minimum": 1, "maximum": MAX_INT}, "版本，缺省为最新",
               "version; latest when omitted"),
    _described("filter", {"type": "array", "items": {"type": "string", "maxLength": 512}, "maxItems": MAX_FILTERS},
               "列=值，同列多次为任一", "column=value; repeat a column for IN"),
    _described("sort", {"type": "array", "items": {"type": "string", "maxLength": 65}, "maxItems": MAX_SORT_KEYS},
               "列 或 -列", "column or -column"),
    _described("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
               "每页行数", "rows per page"),
    _described("offset", {"type": "integer", "minimum": 0, "maximum": MAX_INT, "default": 0}, "跳过的行数",
               "rows to skip"),
    _described("cursor", _text("cursor"), "上一页的 next_cursor", "the last page's next_cursor"),
    _described("format", {"type": "string", "enum": ["json", "csv", "parquet"]}, "格式（否则看 Accept）",
               "json | csv | parquet (else the Accept header)"),
]  # fmt: skip


def _refused(name: str, zh: str, en: str) -> QueryInvalid:
    return QueryInvalid(f"参数 {name} 无效：{zh}", f"invalid parameter {name}: {en}")


def _one(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise _refused(name, "只能给出一次", "give it once")
    return values[0] if values else None


def _integer(params: QueryParams, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = _one(params, name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise _refused(name, f"须为 {low} 到 {high} 之间的整数", f"must be an integer from {low} to {high}")
    return int(raw)


def _bounded(params: QueryParams, name: str) -> str | None:
    raw = _one(params, name)
    if raw is not None and len(raw) > _TEXT[name]:
        raise _refused(name, f"最长 {_TEXT[name]} 个字符", f"at most {_TEXT[name]} characters")
    return raw


def _many(params: QueryParams, name: str, most: int, longest: int) -> tuple[str, ...]:
    values = params.getlist(name)
    if len(values) > most or any(len(v) > longest for v in values):
        raise _refused(name, f"至多 {most} 个，每个最长 {longest} 个字符",
                       f"at most {most}, each at most {longest} characters")  # fmt: skip
    return tuple(values)


def query_from(params: QueryParams, accept: str | None) -> Query:
    """The query a request asks for (other parameters are ignored, as declared ones would leave them);
    QueryInvalid (E580, 422) for a parameter out of bounds."""
    return Query(
        table=_bounded(params, "table"),
        version=_integer(params, "version", None, 1, MAX_INT),
        filters=_many(params, "filter", MAX_FILTERS, 512),
        sort=_many(params, "sort", MAX_SORT_KEYS, 65),
        limit=_integer(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(params, "offset", 0, 0, MAX_INT),
        cursor=_bounded(params, "cursor"),
        format=_bounded(params, "format"),
        accept=accept,
    )
