"""The product query's parameters, read from the query string by hand (``api/delivery_query.py``): the
bounds the declared parameters had, a 422 that names the parameter and never echoes the value, and the
OpenAPI schema still documenting every parameter and the key it takes."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from sandbox.api.app import create_app
from sandbox.api.delivery_query import MAX_INT, PARAMETERS, query_from
from sandbox.products.delivery import DEFAULT_LIMIT, MAX_LIMIT, Query, QueryInvalid


def test_a_plain_query_string_becomes_the_query_it_names():
    params = QueryParams(
        "table=t&version=3&filter=level%3D1&filter=level%3D2&sort=-n&limit=5&offset=10&lang=zh"
    )
    assert query_from(params, "text/csv") == Query(table="t", version=3, filters=("level=1", "level=2"),
                                                   sort=("-n",), limit=5, offset=10, accept="text/csv")  # fmt: skip
    assert query_from(QueryParams(""), None) == Query(limit=DEFAULT_LIMIT)  # other parameters are ignored


SECRET = "110101199003074514"


@pytest.mark.parametrize("bad", [
    f"limit=0&x={SECRET}", f"limit={MAX_LIMIT + 1}", "limit=1&limit=2", f"limit={SECRET}x", "limit=-1", "limit=１",
    "version=0", f"version={MAX_INT + 1}", "offset=-1", f"offset={MAX_INT + 1}", "table=" + "t" * 65,
    "cursor=" + "c" * 513, "&".join(["filter=a%3D1"] * 65), "&".join(["sort=a"] * 9), "sort=" + "s" * 66,
    f"filter=id%3D{SECRET}" + "0" * 500,
])  # fmt: skip
def test_out_of_bounds_is_refused_naming_the_parameter_never_the_value(bad):
    with pytest.raises(QueryInvalid) as refused:
        query_from(QueryParams(bad), None)
    name = bad.split("=", 1)[0]
    assert refused.value.code == "E580" and name in refused.value.en and name in refused.value.zh
    assert SECRET not in refused.value.en + refused.value.zh


def test_the_schema_documents_every_parameter_the_endpoint_reads(sqlite_ctx):
    schema = create_app(sqlite_ctx).openapi()
    operation = schema["paths"]["/api/v1/delivery/products/{product_id}/query"]["get"]
    documented = {p["name"] for p in operation["parameters"]}
    assert documented == {"product_id", *(p["name"] for p in PARAMETERS)}
    assert {"table", "version", "filter", "sort", "limit", "offset", "cursor", "format"} <= documented
    # the key header is read by the rule itself (HeaderKey); the operation still names the key's scheme
    assert operation["security"] == [{"APIKeyHeader": []}]
    assert schema["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "POST /api/v1/delivery/keys"
    }  # fmt: skip
