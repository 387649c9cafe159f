"""The auditor router beyond the audit trail: what the services let an auditor read of jobs, runs and
products — every submission and its review packet, every production run (never its logs), the product
registry with downloads of any released version, every grant of terms of use and every re-development
application. Each is refused, at the door, to the roles that read them at their own routers.

Seeded through the services without Spark (``tests/sandbox/products/conftest.py``).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from sandbox.governance import scenarios
from sandbox.products import redevelopment, terms
from sandbox.store.models import AuditEventRow
from tests.sandbox.governance.conftest import Cast
from tests.sandbox.governance.test_scenarios import walk_to_active
from tests.sandbox.products.conftest import activate_fee_bearing, released_product, submitted_job

V1 = "/api/v1/auditor"
NOT_AUDITORS = ("admin", "operator-1", "developer-1", "consumer-1", "provider-gongan")


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["zh"] and response.json()["en"]


@pytest.fixture
def audited(api):
    """Two released products (``level_counts`` free, ``credit_levels`` fee-bearing, under terms for the bank),
    a submission waiting for review, and a consumer's re-development application."""
    cast = Cast(api.ctx)
    walk_to_active(cast)
    scenarios.add_member(api.ctx, cast("operator-1"), "elderly-care", "developer-1")
    activate_fee_bearing(cast)
    released_product(cast, "level_counts")
    released_product(cast, "credit_levels", "credit")
    submitted_job(cast, "waiting_job", "elderly-care")
    terms.grant_terms(api.ctx, cast("operator-1"), "credit_levels", "bank")
    redevelopment.apply(api.ctx, cast("consumer-1"), "level_counts", "信贷模型")
    return api


def test_an_auditor_reads_every_submission_its_packet_and_every_run_but_no_logs(audited):
    api = audited
    listed = api.get("auditor-1", f"{V1}/submissions")
    assert listed.status_code == 200, listed.text
    assert sorted((s["job"], s["state"]) for s in listed.json()) == [
        ("credit_levels", "approved"), ("level_counts", "approved"), ("waiting_job", "submitted")]  # fmt: skip
    waiting = next(s for s in listed.json() if s["job"] == "waiting_job")
    packet = api.get("auditor-1", f"{V1}/submissions/{waiting['submission']}").json()
    assert packet["submitter"] == "developer-1" and "job.py" in packet["files"] and packet["findings"] == []
    _refused(api.get("auditor-1", f"{V1}/submissions/nothing"), 404, "E201")

    runs = api.get("auditor-1", f"{V1}/runs").json()
    assert len(runs) == 2 and all(r["promoted_by"] == "operator-2" for r in runs)
    assert all("logs_path" not in r and r["developer_view"]["run"] == r["id"] for r in runs)
    approved = next(s for s in listed.json() if s["job"] == "level_counts")
    (mine,) = api.get("auditor-1", f"{V1}/runs", params={"submission": approved["submission"]}).json()
    assert mine["dataset_versions"] == {"disability": 1}
    # logs stay with operators: the service refuses an auditor past the door, and the door refuses first
    _refused(api.get("auditor-1", f"/api/v1/operator/runs/{mine['id']}/logs"), 403, "E603")

    for user in NOT_AUDITORS:  # developers, staff and the rest read these at their own routers, or not at all
        for path in ("/submissions", f"/submissions/{waiting['submission']}", "/runs"):
            _refused(api.get(user, V1 + path), 403, "E603")


def test_an_auditor_reads_the_registry_and_downloads_any_released_product(audited):
    api = audited
    listed = api.get("auditor-1", f"{V1}/products").json()
    assert {(p["product"], p["fee_bearing"], tuple(p["released_versions"])) for p in listed} == {
        ("level_counts", False, (1,)), ("credit_levels", True, (1,))}  # fmt: skip
    assert api.get("auditor-1", f"{V1}/products/credit_levels").json()["scenario"] == "credit"
    assert [v["version"] for v in api.get("auditor-1", f"{V1}/products/credit_levels/versions").json()] == [1]
    _refused(api.get("auditor-1", f"{V1}/products/nothing-here"), 404, "E201")

    # a fee-bearing product too: the export admits auditors for any product, without terms of use
    download = api.get("auditor-1", f"{V1}/products/credit_levels/download", params={"format": "parquet"})
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert "credit_levels-v1-by_level.parquet" in archive.namelist()
    _refused(
        api.get("auditor-1", f"{V1}/products/credit_levels/download", params={"version": 9}), 404, "E201"
    )
    with api.ctx.sessions() as session:
        exported = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "product.exported")
        ).all()
    assert [(e.actor, e.object_id) for e in exported] == [("auditor-1", "credit_levels@v1")]
    assert not any(api.ctx.settings.work_dir.glob(".download-*"))

    for user in NOT_AUDITORS:
        for path in ("/products", "/products/level_counts", "/products/level_counts/versions",
                     "/products/level_counts/download"):  # fmt: skip
            _refused(api.get(user, V1 + path), 403, "E603")


def test_an_auditor_reads_every_grant_of_terms_and_every_redevelopment_application(audited):
    api = audited
    granted = api.get("auditor-1", f"{V1}/terms").json()
    assert [(t["product"], t["consumer"], t["state"]) for t in granted] == [
        ("credit_levels", "bank", "active")
    ]
    assert api.get("auditor-1", f"{V1}/terms", params={"product": "level_counts"}).json() == []
    applications = api.get("auditor-1", f"{V1}/redevelopments").json()
    assert [(a["product"], a["applicant"], a["state"]) for a in applications] == [
        ("level_counts", "bank", "submitted")]  # fmt: skip
    for user in NOT_AUDITORS:
        _refused(api.get(user, f"{V1}/terms"), 403, "E603")
        _refused(api.get(user, f"{V1}/redevelopments"), 403, "E603")
