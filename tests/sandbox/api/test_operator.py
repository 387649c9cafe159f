"""The operator router: scenario review, the job review queue (four eyes), queued promotions, sample
builds and quality runs, production runs and logs, tickets, the product registry, terms of use,
re-development and the release register.

State is seeded through the services (no Spark, no Ray); queued actions are only checked to be
queued — the worker is not run.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import date

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import authorizations, identities, scenarios
from sandbox.governance.access import principal_for
from sandbox.quality import tickets
from sandbox.runtime import submissions
from sandbox.samples import build_samples
from sandbox.store.models import AuditEventRow, ProfileFindingRow, SampleVersionRow
from sandbox.store.zones import Zone, zone_path
from sandbox.tasks import queue

from ..governance.conftest import Cast
from ..governance.test_scenarios import propose, walk_to_active
from ..products.conftest import JOB_PY, JOB_TOML, activate_fee_bearing, release_version
from .conftest import token_for

V1 = "/api/v1/operator"
SCENARIO = "elderly-care"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["zh"] and body["en"], body
    return body


def _user(api, username: str, org: str, roles: set[Role], *, cleared: bool = False) -> None:
    admin, operator = principal_for(api.ctx, "admin"), principal_for(api.ctx, "operator-1")
    identities.create_user(api.ctx, admin, username, username, org, roles)
    if cleared:
        identities.verify_identity(api.ctx, operator, username)
        identities.record_filing(api.ctx, operator, username, f"BA-2026-{uuid.uuid4().hex[:4]}")
        identities.record_nda(api.ctx, operator, username, "v1.0", date(2026, 3, 1))
    api.tokens[username] = token_for(api.ctx, username)


def _submit(api, user: str, job_id: str, scenario: str = SCENARIO, *, extra: str = ""):
    """Job ``job_id`` written here and submitted by ``user`` through the service (snapshot, hash, check)."""
    job = api.ctx.settings.work_dir / "job-sources" / f"{job_id}-{uuid.uuid4().hex[:6]}"
    job.mkdir(parents=True)
    (job / "job.toml").write_text(JOB_TOML.format(job_id=job_id, scenario=scenario), encoding="utf-8")
    (job / "job.py").write_text(JOB_PY + extra, encoding="utf-8")
    return submissions.submit(api.ctx, principal_for(api.ctx, user), job)


def _approve(api, submission_id: str, reviewer: str = "operator-2") -> dict:
    response = api.post(
        reviewer, f"{V1}/submissions/{submission_id}/review", json={"approve": True, "comment": "ok"}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def live(api):
    """elderly-care active (proposed by operator-1, reviewed by operator-2), developer-1 on it."""
    cast = Cast(api.ctx)
    walk_to_active(cast)
    scenarios.add_member(api.ctx, cast("operator-1"), SCENARIO, "developer-1")
    return api


# -- the front door ------------------------------------------------------------------------------


def _operator_routes(api) -> list[tuple[str, str]]:
    return [
        (method, context.path)
        for context in iter_route_contexts(api.client.app.routes)
        if isinstance(context.original_route, APIRoute) and context.path.startswith(V1)
        for method in sorted(context.original_route.methods)
    ]


def test_a_developer_is_refused_every_operator_endpoint_by_the_access_rule(api):
    routes = _operator_routes(api)
    assert len(routes) >= 35
    for method, path in routes:
        url = path.replace("{terms_id}", "1").replace("{application_id}", "1")
        url = url.replace("{", "").replace("}", "")
        response = api.client.request(method, url, json={}, headers=api.headers("developer-1"))
        assert (response.status_code, response.json()["code"]) == (403, "E603"), f"{method} {path}"


def test_consumers_and_providers_are_refused_too_and_admins_where_the_cli_allows(api):
    _error(api.get("consumer-1", f"{V1}/submissions"), 403, "E603")
    _error(api.get("provider-gongan", f"{V1}/register"), 403, "E603")
    assert api.get("admin", f"{V1}/submissions").status_code == 200
    _error(
        api.post("admin", f"{V1}/submissions/x/review", json={"approve": True}), 403, "E603"
    )  # operators review


# -- scenario review ---------------------------------------------------------------------------


def test_scenario_review_four_eyes_approve_activate_add_developer_revoke(api):
    cast, ctx = Cast(api.ctx), api.ctx
    propose(cast)
    scenarios.submit(ctx, cast("operator-1"), SCENARIO, today=date(2026, 11, 2))
    pending = api.get("operator-2", f"{V1}/scenarios/{SCENARIO}").json()["consents"]
    assert {(r["dataset"], r["state"], r["overdue"]) for r in pending} == {
        ("people", "pending", True), ("disability", "pending", True)}  # fmt: skip

    own = _error(api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/start-review"), 403, "E600")
    assert "four eyes" in own["en"] and "四眼" in own["zh"]
    assert api.post("operator-2", f"{V1}/scenarios/{SCENARIO}/start-review").json()["state"] == "under_review"
    waiting = api.post("operator-2", f"{V1}/scenarios/{SCENARIO}/approve", json={"comment": "ok"})
    assert _error(waiting, 400, "E520")["en"].startswith("providers have not yet decided")

    scenarios.decide_consent(
        ctx, cast("provider-gongan"), SCENARIO, "people", grant=True, refuse_columns={"name"}
    )
    scenarios.decide_consent(ctx, cast("provider-canlian"), SCENARIO, "disability", grant=True)
    _error(api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/approve", json={}), 403, "E600")
    approved = api.post(
        "operator-2", f"{V1}/scenarios/{SCENARIO}/approve", json={"comment": "符合最小必要原则"}
    )
    assert approved.json() == {"scenario": SCENARIO, "title": "养老服务需求热点", "category": "公益事业",
                               "state": "approved", "proposer": "operator-1", "reviewer": "operator-2"}  # fmt: skip

    _error(api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/activate"), 400, "E520")  # no authorization yet
    authorizations.grant(ctx, cast("admin"), operator_org="op-org", datasets=["people", "disability"],
                         starts_on=date(2026, 1, 1), ends_on=date(2030, 12, 31), content="养老与残疾人服务")  # fmt: skip
    assert api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/activate").json()["state"] == "active"

    not_cleared = api.post(
        "operator-1", f"{V1}/scenarios/{SCENARIO}/developers", json={"username": "developer-2"}
    )
    assert "confidentiality agreement" in _error(not_cleared, 403, "E600")["en"]
    added = api.post(
        "admin", f"{V1}/scenarios/{SCENARIO}/developers", json={"username": "developer-1"}
    ).json()
    assert added["developers"] == ["developer-1"]

    shown = api.get("operator-2", f"{V1}/scenarios/{SCENARIO}").json()
    assert shown["decision_comment"] == "符合最小必要原则"
    assert {(c["dataset"], c["column"], c["status"]) for c in shown["columns"]} >= {
        ("people", "name", "refused"), ("disability", "level", "granted")}  # fmt: skip
    assert {(c["state"], c["overdue"]) for c in shown["consents"]} == {("partial", False), ("granted", False)}
    assert [s["scenario"] for s in api.get("admin", f"{V1}/scenarios").json()] == [SCENARIO]

    revoked = api.post("admin", f"{V1}/scenarios/{SCENARIO}/revoke", json={"comment": "授权到期前撤销"})
    assert revoked.json()["state"] == "revoked"
    _error(api.post("operator-1", f"{V1}/scenarios/nobody/start-review"), 404, "E201")


def test_scenario_reject(api):
    cast = Cast(api.ctx)
    propose(cast, scenario_id="elderly-two")
    scenarios.submit(api.ctx, cast("operator-1"), "elderly-two")
    api.post("operator-2", f"{V1}/scenarios/elderly-two/start-review")
    rejected = api.post(
        "operator-2", f"{V1}/scenarios/elderly-two/reject", json={"comment": "不符合最小必要原则"}
    )
    assert (rejected.json()["state"], rejected.json()["reviewer"]) == ("rejected", "operator-2")
    _error(api.post("consumer-1", f"{V1}/scenarios/elderly-two/reject", json={}), 403, "E603")


PROPOSAL = {"id": "rental", "title": "真实房源", "category": "产业发展", "planned_products": ["rental_supply"],
            "columns": [{"dataset": "people", "column": "district_code", "justification": "按区县统计"}]}  # fmt: skip


def test_an_operator_proposes_submits_and_withdraws_a_scenario_at_its_own_router(api):
    """``scenarios.propose`` admits operators (and developers of an operator organization): an operator is
    served here, not only at /developer/scenarios. Developers stay at theirs, refused here at the door."""
    proposed = api.post("operator-1", f"{V1}/scenarios", json=PROPOSAL)
    assert proposed.status_code == 201, proposed.text
    assert (proposed.json()["state"], proposed.json()["proposer"]) == ("draft", "operator-1")
    _error(api.post("operator-1", f"{V1}/scenarios", json=PROPOSAL), 400, "E520")  # the service's: it exists
    not_theirs = api.post("operator-2", f"{V1}/scenarios/rental/submit")  # past the door, the service refuses
    assert "only the proposer" in _error(not_theirs, 403, "E600")["en"]
    consents = api.post("operator-1", f"{V1}/scenarios/rental/submit")
    assert consents.status_code == 200, consents.text
    assert [(c["dataset"], c["provider"], c["state"]) for c in consents.json()] == [
        ("people", "gongan", "pending")]  # fmt: skip
    _error(api.post("operator-2", f"{V1}/scenarios/rental/withdraw"), 403, "E600")
    withdrawn = api.post("operator-1", f"{V1}/scenarios/rental/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    # the front door: developers propose at /developer/scenarios; admins and consumers propose nowhere
    for user in ("developer-1", "admin", "consumer-1"):
        _error(api.post(user, f"{V1}/scenarios", json={**PROPOSAL, "id": "other"}), 403, "E603")
    _error(api.post("admin", f"{V1}/scenarios/rental/withdraw"), 403, "E603")
    assert scenarios.get(api.ctx, "rental").proposer == "operator-1"


# -- the job review queue ----------------------------------------------------------------------


def test_the_submitter_cannot_review_their_own_job(live):
    api = live
    _user(api, "dev-op", "op-org", {Role.DEVELOPER, Role.OPERATOR}, cleared=True)
    api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/developers", json={"username": "dev-op"})
    own = _submit(api, "dev-op", "level_counts")

    refused = api.post(
        "dev-op", f"{V1}/submissions/{own.id}/review", json={"approve": True, "comment": "mine"}
    )
    body = _error(refused, 403, "E600")
    assert "four eyes" in body["en"] and "四眼" in body["zh"]
    assert api.get("dev-op", f"{V1}/submissions").json()[0]["state"] == "submitted"  # nothing changed

    no_reason = api.post("operator-2", f"{V1}/submissions/{own.id}/review", json={"approve": False})
    assert "comment" in _error(no_reason, 400, "E811")["en"]
    _error(api.post("operator-2", f"{V1}/submissions/{own.id}/review", json={"approve": True, "max_runs": 0}),
           422, "E110")  # fmt: skip
    approved = api.post("operator-2", f"{V1}/submissions/{own.id}/review",
                        json={"approve": True, "comment": "符合要求", "max_runs": 3, "period_days": 30}).json()  # fmt: skip
    assert (approved["state"], approved["reviewer"], approved["terms"]["max_runs"]) == (
        "approved",
        "operator-2",
        3,
    )
    assert approved["terms"]["dataset_versions"] == {"disability": None}  # no version delivered yet


def test_the_review_packet_has_the_code_its_hash_the_check_and_the_diff_against_the_previous(live):
    api = live
    first = _submit(api, "developer-1", "level_counts")
    _approve(api, first.id)
    second = _submit(api, "developer-1", "level_counts", extra="\n# 按等级统计\n")

    queue_ = api.get("operator-1", f"{V1}/submissions").json()
    assert [(s["submission"], s["state"]) for s in queue_] == [
        (first.id, "approved"),
        (second.id, "submitted"),
    ]
    packet = api.get("operator-1", f"{V1}/submissions/{second.id}").json()
    assert packet["code_sha256"] == second.code_sha256 and len(packet["code_sha256"]) == 64
    assert set(packet["files"]) == {"job.toml", "job.py"} and "# 按等级统计" in packet["files"]["job.py"]
    assert packet["findings"] == []
    assert packet["previous"] == first.id
    assert f"--- {first.id}/job.py" in packet["diff"] and "+# 按等级统计" in packet["diff"]
    assert api.get("operator-1", f"{V1}/submissions/{first.id}").json()["diff"] is None
    _error(api.get("operator-1", f"{V1}/submissions/nothing"), 404, "E201")


def test_promotion_is_queued_not_run(live):
    api = live
    submission = _submit(api, "developer-1", "level_counts")
    _approve(api, submission.id)
    queued = api.post("operator-1", f"{V1}/submissions/{submission.id}/promote")
    assert queued.status_code == 202
    task = queued.json()
    assert (task["kind"], task["state"], task["args"]) == (
        "job.promote",
        "queued",
        {"submission": submission.id},
    )
    assert task["requested_by"] == "operator-1" and task["started_at"] is None
    assert queue.get_task(api.ctx, principal_for(api.ctx, "operator-2"), task["task"]).state == "queued"
    assert api.get("operator-1", f"/api/v1/me/tasks/{task['task']}").json()["state"] == "queued"
    _error(api.post("operator-1", f"{V1}/submissions/nothing/promote"), 404, "E201")
    _error(api.post("admin", f"{V1}/submissions/{submission.id}/promote"), 403, "E603")
    # promote has no check that runs nothing: a submission not yet approved is refused by its task, in the worker
    pending = _submit(api, "developer-1", "other_counts")
    assert api.post("operator-1", f"{V1}/submissions/{pending.id}/promote").status_code == 202


# -- products, runs, logs ----------------------------------------------------------------------


def _registered(api, product_id: str = "level_counts", scenario: str = SCENARIO):
    submission = _submit(api, "developer-1", product_id, scenario)
    _approve(api, submission.id)
    body = {
        "product": product_id,
        "title": "残疾等级分布",
        "scenario": scenario,
        "description": "按残疾等级统计",
    }
    response = api.post("operator-1", f"{V1}/products", json=body)
    assert response.status_code == 201, response.text
    return submission, response.json()


def test_product_registry_versions_and_runs(live):
    api = live
    unapproved = api.post("operator-1", f"{V1}/products", json={"product": "nothing_approved", "title": "t",
                                                                 "scenario": SCENARIO})  # fmt: skip
    assert "approved job" in _error(unapproved, 400, "E540")["en"]
    submission, product = _registered(api)
    assert (product["product"], product["state"], product["released_versions"], product["fee_bearing"]) == (
        "level_counts", "registered", [], False)  # fmt: skip
    assert product["registration_no"].startswith("SYDJ-") and product["operator"] == "op-org"

    version = release_version(Cast(api.ctx), principal_submission(api, submission.id), {"disability": 1})
    assert [p["released_versions"] for p in api.get("admin", f"{V1}/products").json()] == [[1]]
    versions = api.get("operator-2", f"{V1}/products/level_counts/versions").json()
    assert versions == [{"version": 1, "released_at": version.released_at, "run": version.run_id,
                         "code_sha256": submission.code_sha256, "dataset_versions": {"disability": 1},
                         "outputs": {"by_level": {"released": 2, "suppressed": 0}}}]  # fmt: skip
    _error(api.get("operator-2", f"{V1}/products/nothing/versions"), 404, "E201")

    changed = api.post("operator-1", f"{V1}/products/level_counts/change",
                       json={"reason": "产品更名", "title": "残疾等级人数分布"}).json()  # fmt: skip
    assert (changed["title"], changed["revision"]) == ("残疾等级人数分布", 2)
    corrected = api.post("operator-1", f"{V1}/products/level_counts/correct",
                         json={"reason": "形态登记有误", "form": "数据报告"}).json()  # fmt: skip
    assert (corrected["form"], corrected["revision"]) == ("数据报告", 3)
    _error(api.post("operator-1", f"{V1}/products/level_counts/change", json={"reason": "无"}), 400, "E540")
    assert api.get("operator-2", f"{V1}/products/level_counts").json()["title"] == "残疾等级人数分布"

    runs = api.get("operator-1", f"{V1}/runs", params={"submission": submission.id}).json()
    assert len(runs) == 1 and runs[0]["id"] == version.run_id
    assert runs[0]["dataset_versions"] == {"disability": 1} and runs[0]["promoted_by"] == "operator-2"
    assert "logs_path" not in runs[0]
    assert api.get("operator-1", f"{V1}/runs", params={"submission": "other"}).json() == []

    logs = zone_path(api.ctx.settings, Zone.RUNS, version.run_id)
    logs.mkdir(parents=True)
    (logs / "job.stderr").write_text(
        "Traceback (most recent call last):\nZeroDivisionError\n", encoding="utf-8"
    )
    assert api.get("admin", f"{V1}/runs/{version.run_id}/logs").json() == {
        "job.stderr": "Traceback (most recent call last):\nZeroDivisionError\n"}  # fmt: skip
    _error(api.get("operator-1", f"{V1}/runs/nothing/logs"), 404, "E201")

    gone = api.post("operator-1", f"{V1}/products/level_counts/deregister", json={"reason": "停止提供"})
    assert gone.json()["state"] == "deregistered"


def test_operators_and_admins_download_any_released_product_as_the_export_admits_them(live):
    """``versions.export`` admits operators and administrators for any registered product (a consumer only
    within terms of use): ``sandbox product export`` is served for them here."""
    api = live
    submission, _product = _registered(api)
    release_version(Cast(api.ctx), principal_submission(api, submission.id), {"disability": 1})
    for user in ("operator-2", "admin"):
        download = api.get(user, f"{V1}/products/level_counts/download", params={"format": "csv"})
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == "application/zip"
        assert 'filename="level_counts-csv.zip"' in download.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            assert "level_counts-v1-by_level.csv" in archive.namelist()
    _error(api.get("operator-1", f"{V1}/products/level_counts/download", params={"version": 2}), 404, "E201")
    pdf = api.get("operator-1", f"{V1}/products/level_counts/download", params={"format": "pdf"})
    _error(pdf, 422, "E110")
    for user in ("consumer-1", "auditor-1", "developer-1"):  # consumers and auditors at their own routers
        _error(api.get(user, f"{V1}/products/level_counts/download"), 403, "E603")
    assert not any(api.ctx.settings.work_dir.glob(".download-*"))
    with api.ctx.sessions() as session:
        exported = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "product.exported"))
        assert sorted(e.actor for e in exported) == ["admin", "operator-2"]


def principal_submission(api, submission_id: str):
    return submissions.get(api.ctx, principal_for(api.ctx, "operator-1"), submission_id)


def test_terms_of_use_of_a_fee_bearing_product(live):
    api = live
    activate_fee_bearing(Cast(api.ctx))
    _registered(api, "credit_levels", "credit")
    _error(
        api.post("operator-1", f"{V1}/products/level_counts/terms", json={"consumer": "bank"}), 404, "E201"
    )
    granted = api.post(
        "operator-1", f"{V1}/products/credit_levels/terms", json={"consumer": "bank", "ends_on": "2027-12-31"}
    )
    assert granted.status_code == 201
    terms = granted.json()
    assert (terms["product"], terms["consumer"], terms["ends_on"], terms["state"]) == (
        "credit_levels", "bank", "2027-12-31", "active")  # fmt: skip
    _error(
        api.post("operator-1", f"{V1}/products/credit_levels/terms", json={"consumer": "dev-org"}),
        400,
        "E560",
    )
    assert [t["terms"] for t in api.get("operator-2", f"{V1}/terms", params={"product": "credit_levels"}).json()] == [
        terms["terms"]]  # fmt: skip

    identities.create_org(
        api.ctx, principal_for(api.ctx, "admin"), "op-org-2", "另一运营机构", OrgKind.OPERATOR
    )
    _user(api, "operator-3", "op-org-2", {Role.OPERATOR})
    assert (
        api.get("operator-3", f"{V1}/terms").json() == []
    )  # another operator's products' terms are not theirs
    _error(api.post("operator-3", f"{V1}/terms/{terms['terms']}/revoke", json={"reason": "x"}), 403, "E600")
    revoked = api.post("operator-1", f"{V1}/terms/{terms['terms']}/revoke", json={"reason": "合同终止"})
    assert revoked.json()["state"] == "revoked"


def test_redevelopment_applications_are_reviewed_by_another_organization(live):
    api = live
    _registered(api)
    identities.create_org(
        api.ctx, principal_for(api.ctx, "admin"), "op-org-2", "另一运营机构", OrgKind.OPERATOR
    )
    _user(api, "operator-3", "op-org-2", {Role.OPERATOR})
    own = api.post("operator-1", f"{V1}/products/level_counts/redevelop", json={"purpose": "自用"})
    assert "may not be its re-developer" in _error(own, 403, "E600")["en"]
    applied = api.post(
        "operator-3", f"{V1}/products/level_counts/redevelop", json={"purpose": "康复机构选址"}
    )
    assert applied.status_code == 201
    application = applied.json()
    assert (application["applicant"], application["state"]) == ("op-org-2", "submitted")
    _error(api.post("operator-3", f"{V1}/redevelopment/{application['application']}/review", json={"approve": True}),
           403, "E600")  # fmt: skip
    reviewed = api.post("operator-1", f"{V1}/redevelopment/{application['application']}/review",
                        json={"approve": True, "comment": "用途正当"})  # fmt: skip
    assert reviewed.json()["state"] == "approved"
    assert [a["state"] for a in api.get("admin", f"{V1}/redevelopment").json()] == ["approved"]
    _error(api.post("operator-1", f"{V1}/redevelopment/999/review", json={"approve": False}), 404, "E201")


# -- samples and quality runs, queued ----------------------------------------------------------


def test_sample_builds_are_queued_and_the_card_is_readable(live):
    api = live
    queued = api.post("operator-1", f"{V1}/scenarios/{SCENARIO}/samples", json={"seed": 7})
    assert queued.status_code == 202
    assert (queued.json()["kind"], queued.json()["state"], queued.json()["args"]) == (
        "samples.build", "queued", {"scenario": SCENARIO, "seed": 7})  # fmt: skip
    again = api.post("operator-2", f"{V1}/scenarios/{SCENARIO}/samples", json={})  # one build at a time
    assert again.status_code == 409 and again.json()["code"] == "E911"
    assert queued.json()["task"] in again.json()["zh"] and queued.json()["task"] in again.json()["en"]
    _error(api.post("operator-1", f"{V1}/scenarios/nowhere/samples", json={}), 404, "E201")
    _error(
        api.post("admin", f"{V1}/scenarios/{SCENARIO}/samples", json={}), 403, "E603"
    )  # the kind is operators'
    # and so is the service, for ``sandbox --as admin samples build`` on the host
    with pytest.raises(PermissionDenied) as refused:
        build_samples(api.ctx, principal_for(api.ctx, "admin"), SCENARIO)
    assert refused.value.code == "E600" and "requires role: operator" in refused.value.en

    _error(api.get("operator-1", f"{V1}/scenarios/{SCENARIO}/samples"), 400, "E900")  # none built yet
    card = {"scenario": SCENARIO, "version": 1, "seed": 7, "datasets": {"disability": {"rows": 40, "k": 5}},
            "residual_risk": {"zh": "至少 5-匿名。", "en": "at least 5-anonymous."}}  # fmt: skip
    with api.ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id=SCENARIO, version=1, authorization_id="AUTH-2026-0001", seed=7,
                                     state="current", card_json=json.dumps(card), created_by="operator-1",
                                     created_at=utc_now_iso()))  # fmt: skip
        session.flush()
        session.add(ProfileFindingRow(sample_version_id=1, dataset_id="disability", column="level",
                                      provider_id="canlian", declared_kind="none", detected_kind="cn_mobile",
                                      share=0.8, created_at=utc_now_iso()))  # fmt: skip
    assert api.get("admin", f"{V1}/scenarios/{SCENARIO}/samples").json() == card
    findings = api.get("operator-2", f"{V1}/samples/findings").json()
    assert [(f["dataset"], f["column"], f["detected_kind"], f["share"]) for f in findings] == [
        ("disability", "level", "cn_mobile", 0.8)]  # fmt: skip


def test_quality_runs_are_queued_one_task_per_dataset(api):
    queued = api.post("operator-1", f"{V1}/quality/runs",
                      json={"datasets": ["people", "disability"], "as_of": "2026-11-30", "cross_check": True})  # fmt: skip
    assert queued.status_code == 202
    tasks = queued.json()
    assert [(t["kind"], t["state"], t["args"]["dataset"]) for t in tasks] == [
        ("quality.run", "queued", "people"), ("quality.run", "queued", "disability")]  # fmt: skip
    assert tasks[0]["args"] == {
        "dataset": "people",
        "version": None,
        "as_of": "2026-11-30",
        "cross_check": True,
    }
    before = len(queue.list_tasks(api.ctx, principal_for(api.ctx, "admin")))
    _error(api.post("admin", f"{V1}/quality/runs", json={"datasets": ["people", "nowhere"]}), 404, "E201")
    assert len(queue.list_tasks(api.ctx, principal_for(api.ctx, "admin"))) == before  # nothing queued
    _error(api.post("admin", f"{V1}/quality/runs", json={"datasets": []}), 422, "E110")
    assert (
        api.post("admin", f"{V1}/quality/runs", json={"datasets": ["people"], "version": 2}).status_code
        == 202
    )


# -- tickets -----------------------------------------------------------------------------------


def _raise(api, column: str = "name", user: str = "operator-1") -> dict:
    response = api.post(user, f"{V1}/tickets", json={"dataset": "people", "description": "姓名含有乱码",
                                                     "column": column, "severity": "high", "dimension": "规范性"})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def test_tickets_raise_decide_verify_reopen_and_export(api):
    gongan = principal_for(api.ctx, "provider-gongan")
    raised = _raise(api)
    assert (raised["ticket"], raised["dataset"], raised["rule"], raised["severity"], raised["state"]) == (
        "QT-000001", "people", "manual", "high", "open")  # fmt: skip
    bad_column = api.post(
        "operator-1", f"{V1}/tickets", json={"dataset": "people", "description": "x", "column": "nope"}
    )
    _error(bad_column, 400, "E1010")
    _error(api.post("operator-1", f"{V1}/tickets", json={"dataset": "people", "description": "x", "severity": "urgent"}),
           422, "E110")  # fmt: skip

    tickets.dispute(api.ctx, gongan, raised["ticket"], "姓名为少数民族名字，并非乱码")
    _error(
        api.post("operator-2", f"{V1}/tickets/{raised['ticket']}/decide", json={"comment": " "}), 400, "E1010"
    )
    decided = api.post("operator-2", f"{V1}/tickets/{raised['ticket']}/decide", json={"comment": "经核实异议成立",
                                                                                     "uphold": True})  # fmt: skip
    assert decided.json()["state"] == "upheld"

    fixed, reopened = _raise(api, "gender"), _raise(api, "birth_date")
    for ticket in (fixed, reopened):
        tickets.acknowledge(api.ctx, gongan, ticket["ticket"])
        tickets.mark_fixed(api.ctx, gongan, ticket["ticket"], "已更正并重新交付")
    assert api.post("admin", f"{V1}/tickets/{fixed['ticket']}/verify", json={}).json()["state"] == "verified"
    assert api.post("operator-1", f"{V1}/tickets/{reopened['ticket']}/reopen", json={"comment": "仍有乱码"}).json()[
        "state"] == "reopened"  # fmt: skip
    _error(
        api.post("operator-1", f"{V1}/tickets/{raised['ticket']}/verify", json={}), 400, "E1010"
    )  # not fixed
    _error(api.post("operator-1", f"{V1}/tickets/QT-000999/decide", json={"comment": "x"}), 404, "E201")

    listed = api.get("operator-2", f"{V1}/tickets", params={"state": "reopened"}).json()
    assert [t["ticket"] for t in listed] == [reopened["ticket"]]
    assert len(api.get("operator-2", f"{V1}/tickets", params={"provider": "gongan"}).json()) == 3
    _error(api.get("operator-2", f"{V1}/tickets", params={"state": "lost"}), 422, "E110")

    exported = api.get("operator-1", f"{V1}/tickets/export", params={"ticket": [fixed["ticket"]]})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "tickets.csv" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "工单 ticket" and [r[0] for r in rows[1:]] == [fixed["ticket"]]
    workbook = api.get("admin", f"{V1}/tickets/export", params={"format": "xlsx", "state": "upheld"})
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert not any(api.ctx.settings.work_dir.glob(".tickets-*"))  # the scratch file is gone


# -- the release register ----------------------------------------------------------------------


def test_the_release_register_is_listed_for_operators_and_admins(api):
    assert api.get("operator-1", f"{V1}/register").json() == []
    assert api.get("admin", f"{V1}/register", params={"dataset": "people"}).json() == []
    _error(api.get("provider-gongan", f"{V1}/register"), 403, "E603")
