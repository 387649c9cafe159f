"""The consumer's face: the product catalogue, downloads within terms of use, their terms, and
re-development applications.

Seeded without Spark: the scenarios walked through the services, jobs approved through the services,
and each release made by ``versions.release`` on a gate directory holding one small Parquet table,
in the transaction of a recorded run (``tests/sandbox/products/conftest.py``), which is what
production does after the gate.
"""

from __future__ import annotations

import io
import json
import zipfile

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import identities, scenarios
from sandbox.governance.access import principal_for
from sandbox.products import terms
from sandbox.store.models import AuditEventRow
from tests.sandbox.governance.conftest import Cast
from tests.sandbox.governance.test_scenarios import walk_to_active
from tests.sandbox.products.conftest import activate_fee_bearing, released_product

from .conftest import token_for

V1 = "/api/v1/consumer"


@pytest.fixture
def shop(api):
    """``level_counts`` (free, 公益事业) and ``credit_levels`` (fee-bearing, 产业发展), one released
    version each (seeded; see the module docstring); consumer-2 of another bank holds no terms."""
    cast = Cast(api.ctx)
    walk_to_active(cast)
    scenarios.add_member(api.ctx, cast("operator-1"), "elderly-care", "developer-1")
    activate_fee_bearing(cast)
    released_product(cast, "level_counts")
    released_product(cast, "credit_levels", "credit")
    admin = cast("admin")
    identities.create_org(api.ctx, admin, "bank-b", "另一家银行", OrgKind.CONSUMER)
    identities.create_user(api.ctx, admin, "consumer-2", "使用二", "bank-b", {Role.CONSUMER})
    api.tokens["consumer-2"] = token_for(api.ctx, "consumer-2")
    return api


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["zh"] and response.json()["en"]


def _zip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _leftovers(ctx) -> list:
    return [p.name for p in ctx.settings.work_dir.iterdir() if p.name.startswith(".download-")]


def test_the_catalogue_shows_products_their_charging_and_released_versions(shop):
    listed = shop.get("consumer-1", f"{V1}/products")
    assert listed.status_code == 200
    charging = {p["product"]: (p["fee_bearing"], p["released_versions"], p["state"]) for p in listed.json()}
    assert charging == {
        "level_counts": (False, [1], "registered"),
        "credit_levels": (True, [1], "registered"),
    }
    shown = shop.get("consumer-1", f"{V1}/products/credit_levels").json()
    assert shown["category"] == "产业发展" and shown["description"] and shown["registration_no"]
    (version,) = shop.get("consumer-1", f"{V1}/products/level_counts/versions").json()
    assert version["version"] == 1 and version["dataset_versions"] == {"disability": 1}
    assert version["outputs"] == {"by_level": {"released": 2, "suppressed": 0}}
    _refused(shop.get("consumer-1", f"{V1}/products/nothing-here"), 404, "E201")
    _refused(shop.get("consumer-1", f"{V1}/products/nothing-here/versions"), 404, "E201")
    for user in ("developer-1", "operator-1", "provider-gongan"):
        _refused(shop.get(user, f"{V1}/products"), 403, "E603")


def test_a_free_product_downloads_in_each_format_as_one_archive(shop):
    files = _zip(shop.get("consumer-1", f"{V1}/products/level_counts/download"))
    assert list(files) == ["level_counts-v1-by_level.csv"]
    assert files["level_counts-v1-by_level.csv"].decode("utf-8-sig").splitlines() == [
        "level,people",
        "1,12",
        "2,15",
    ]
    parquet = _zip(shop.get("consumer-1", f"{V1}/products/level_counts/download",
                            params={"format": "parquet", "version": 1}))  # fmt: skip
    table = pq.read_table(io.BytesIO(parquet["level_counts-v1-by_level.parquet"]))
    assert table.to_pydict() == {"level": [1, 2], "people": [12, 15]}
    _refused(
        shop.get("consumer-1", f"{V1}/products/level_counts/download", params={"version": 2}), 404, "E201"
    )
    _refused(
        shop.get("consumer-1", f"{V1}/products/level_counts/download", params={"format": "pdf"}), 422, "E110"
    )
    _refused(shop.get("consumer-1", f"{V1}/products/nothing-here/download"), 404, "E201")
    _refused(shop.get("developer-1", f"{V1}/products/level_counts/download"), 403, "E603")
    assert _leftovers(shop.ctx) == []
    with shop.ctx.sessions() as session:
        exported = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "product.exported")
        ).all()
    assert {(e.actor, e.object_id) for e in exported} == {("consumer-1", "level_counts@v1")}


def test_a_fee_bearing_product_needs_terms_of_the_consumers_own_organization(shop):
    url = f"{V1}/products/credit_levels/download"
    refused = shop.get("consumer-1", url)
    _refused(refused, 403, "E561")
    assert "有偿" in refused.json()["zh"] and "fee-bearing" in refused.json()["en"]
    with shop.ctx.sessions() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    assert any(e.actor == "consumer-1" and json.loads(e.details)["code"] == "E561" for e in events)
    terms.grant_terms(shop.ctx, principal_for(shop.ctx, "operator-1"), "credit_levels", "bank")
    assert list(_zip(shop.get("consumer-1", url))) == ["credit_levels-v1-by_level.csv"]
    _refused(shop.get("consumer-2", url), 403, "E561")  # the grant is bank's, not bank-b's
    assert _leftovers(shop.ctx) == []


def test_terms_are_listed_for_the_consumers_own_organization_only(shop):
    operator = principal_for(shop.ctx, "operator-1")
    mine = terms.grant_terms(shop.ctx, operator, "credit_levels", "bank")
    terms.grant_terms(shop.ctx, operator, "credit_levels", "bank-b")
    listed = shop.get("consumer-1", f"{V1}/terms")
    assert listed.status_code == 200
    assert [(t["terms"], t["consumer"], t["state"]) for t in listed.json()] == [(mine.id, "bank", "active")]
    assert shop.get("consumer-1", f"{V1}/terms", params={"product": "level_counts"}).json() == []
    assert [t["consumer"] for t in shop.get("consumer-2", f"{V1}/terms").json()] == ["bank-b"]
    _refused(shop.get("auditor-1", f"{V1}/terms"), 403, "E603")


def test_redevelopment_applications_are_made_and_listed_per_organization(shop):
    applied = shop.post(
        "consumer-1", f"{V1}/redevelopments", json={"product": "level_counts", "purpose": "信贷模型"}
    )
    assert applied.status_code == 201, applied.text
    assert (applied.json()["applicant"], applied.json()["state"]) == ("bank", "submitted")
    shop.post("consumer-2", f"{V1}/redevelopments", json={"product": "credit_levels", "purpose": "风控"})
    assert [a["application"] for a in shop.get("consumer-1", f"{V1}/redevelopments").json()] == [
        applied.json()["application"]
    ]
    assert [a["applicant"] for a in shop.get("consumer-2", f"{V1}/redevelopments").json()] == ["bank-b"]
    _refused(shop.post("consumer-1", f"{V1}/redevelopments", json={"product": "nothing-here", "purpose": "x"}),
             404, "E201")  # fmt: skip
    _refused(shop.post("consumer-1", f"{V1}/redevelopments", json={"product": "level_counts", "purpose": "  "}),
             400, "E550")  # fmt: skip
    _refused(shop.post("consumer-1", f"{V1}/redevelopments", json={"product": "level_counts", "purpose": ""}),
             422, "E110")  # fmt: skip
    _refused(shop.post("provider-canlian", f"{V1}/redevelopments", json={"product": "level_counts", "purpose": "x"}),
             403, "E603")  # fmt: skip
