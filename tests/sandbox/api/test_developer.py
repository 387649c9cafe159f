"""The developer's face: scenarios, sample cards, job upload and submission, queued dev runs, their
own submissions and runs. Seeded through the services and the store (no Spark, no Ray, no worker):
the elderly-care scenario walked to active with developer-1 on it, a sample card recorded as a
build would record it, production runs recorded as production would."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.domain.quality import ticket_label
from sandbox.governance import identities, scenarios
from sandbox.governance.access import principal_for
from sandbox.quality import tickets
from sandbox.runtime import dev
from sandbox.store.models import JobRunRow, SampleVersionRow, TaskRow
from sandbox.tasks import queue
from sandbox.tasks.kinds import kind_named, upload_dir
from tests.sandbox.governance.conftest import Cast
from tests.sandbox.governance.test_scenarios import walk_to_active
from tests.sandbox.products.conftest import JOB_PY, JOB_TOML, released_product

from .conftest import token_for

V1 = "/api/v1/developer"
SCENARIO = "elderly-care"

CARD = {
    "scenario": SCENARIO, "version": 1, "authorization": "AUTH-2026-0001", "seed": 7,
    "created_at": "2026-11-21T02:00:00.000000Z", "created_by": "operator-1",
    "policy": {"fraction": 0.1, "max_entities": 5000, "k": 5}, "entities": {"person": 300},
    "datasets": {"disability": {
        "raw_version": 1, "rows": 120, "entities": 118, "k": 5, "suppressed_entities": 3, "suppressed_rows": 3,
        "dropped_rows": 0, "classes": 9, "l_diversity": {"level": 2}, "quasi_identifiers": [],
        "columns": [{"column": "id_number", "role": "direct_id", "kind": "cn_resident_id",
                     "operator": "pseudonym_resident_id"},
                    {"column": "level", "role": "sensitive", "kind": "none", "operator": "keep"}],
        "profile": [{"dataset": "disability", "column": "level", "declared": "none", "detected": "cn_mobile",
                     "share": 0.8, "embedded": 0.8, "values": 120, "flagged": True}],
    }},
    "residual_risk": {"zh": "每个数据集至少 5-匿名。", "en": "Every dataset is at least 5-anonymous."},
}  # fmt: skip


def _cleared_developer(api, username: str, org: str = "dev-org") -> None:
    admin, operator = principal_for(api.ctx, "admin"), principal_for(api.ctx, "operator-1")
    identities.create_user(api.ctx, admin, username, username, org, {Role.DEVELOPER})
    identities.verify_identity(api.ctx, operator, username)
    identities.record_filing(api.ctx, operator, username, f"BA-2026-{username[-1]}")
    identities.record_nda(api.ctx, operator, username, "v1.0", date(2026, 3, 1))
    api.tokens[username] = token_for(api.ctx, username)


def _seed_card(ctx, scenario_id: str = SCENARIO) -> None:
    with ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id=scenario_id, version=1, authorization_id="AUTH-2026-0001", seed=7,
                                     state="current", card_json=json.dumps({**CARD, "scenario": scenario_id}),
                                     created_by="operator-1", created_at=utc_now_iso()))  # fmt: skip


@pytest.fixture
def live(api):
    """elderly-care active with developer-1 on it, its samples' card recorded; developer-3 is cleared
    but on no scenario (seeded through the services and the store)."""
    cast = Cast(api.ctx)
    walk_to_active(cast)
    scenarios.add_member(api.ctx, cast("operator-1"), SCENARIO, "developer-1")
    _seed_card(api.ctx)
    _cleared_developer(api, "developer-3")
    return api


def _job_files(job_id: str = "disability_levels", scenario: str = SCENARIO) -> list:
    return [
        ("files", ("job.toml", JOB_TOML.format(job_id=job_id, scenario=scenario).encode(), "text/plain")),
        ("files", ("job.py", JOB_PY.encode(), "text/x-python")),
        ("files", ("README.md", "# 残疾等级分布\n".encode(), "text/markdown")),
    ]


def _uploads(ctx) -> list:
    root = upload_dir(ctx, "x").parent
    return sorted(root.iterdir()) if root.is_dir() else []


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["zh"] and response.json()["en"]


# -- scenarios -----------------------------------------------------------------------------


def test_scenarios_are_listed_and_shown_with_their_columns_and_developers(live):
    listed = live.get("developer-1", f"{V1}/scenarios")
    assert listed.status_code == 200
    assert [(s["scenario"], s["state"]) for s in listed.json()] == [(SCENARIO, "active")]
    shown = live.get("developer-1", f"{V1}/scenarios/{SCENARIO}").json()
    assert shown["developers"] == ["developer-1"]
    granted = {(c["dataset"], c["column"]) for c in shown["columns"] if c["status"] == "granted"}
    assert ("disability", "level") in granted and ("people", "name") not in granted
    assert {c["dataset"]: c["state"] for c in shown["consents"]} == {
        "people": "partial",
        "disability": "granted",
    }
    _refused(live.get("developer-1", f"{V1}/scenarios/nowhere"), 404, "E201")
    _refused(live.get("operator-1", f"{V1}/scenarios"), 403, "E603")
    _refused(live.get("developer-2", f"{V1}/scenarios"), 403, "E603")


def test_a_developer_of_an_operator_proposes_submits_and_withdraws_a_scenario(live):
    _cleared_developer(live, "developer-4", org="op-org")
    body = {"id": "rental", "title": "真实房源", "category": "产业发展", "planned_products": ["rental_supply"],
            "columns": [{"dataset": "people", "column": "district_code", "justification": "按区县统计"}]}  # fmt: skip
    proposed = live.post("developer-4", f"{V1}/scenarios", json=body)
    assert proposed.status_code == 201 and proposed.json()["state"] == "draft"
    assert proposed.json()["proposer"] == "developer-4"
    consents = live.post("developer-4", f"{V1}/scenarios/rental/submit").json()
    assert [(c["dataset"], c["provider"], c["state"]) for c in consents] == [("people", "gongan", "pending")]
    _refused(live.post("developer-1", f"{V1}/scenarios/rental/withdraw"), 403, "E600")  # not the proposer
    withdrawn = live.post("developer-4", f"{V1}/scenarios/rental/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    _refused(live.post("developer-4", f"{V1}/scenarios/rental/submit"), 409, "E500")


def test_a_developer_of_a_developer_firm_may_not_propose_and_bodies_are_checked(live):
    body = {"id": "mine", "title": "自拟", "category": "公益事业", "planned_products": ["p"],
            "columns": [{"dataset": "people", "column": "district_code", "justification": "统计"}]}  # fmt: skip
    _refused(live.post("developer-1", f"{V1}/scenarios", json=body), 403, "E600")
    bad = live.post("developer-1", f"{V1}/scenarios", json={**body, "id": "../x"})
    assert bad.status_code == 422 and bad.json()["code"] == "E110" and "../x" not in bad.text


# -- samples -------------------------------------------------------------------------------


def test_a_member_reads_the_card_its_markdown_and_its_profile_findings(live):
    card = live.get("developer-1", f"{V1}/scenarios/{SCENARIO}/samples")
    assert card.status_code == 200
    assert card.json()["datasets"]["disability"]["k"] == 5 and "paths" not in card.json()
    markdown = live.get("developer-1", f"{V1}/scenarios/{SCENARIO}/samples/card.md")
    assert (
        markdown.status_code == 200
        and "剩余风险" in markdown.text
        and "level holds cn_mobile" in markdown.text
    )
    findings = live.get("developer-1", f"{V1}/scenarios/{SCENARIO}/samples/findings").json()
    assert findings == [{"dataset": "disability", "column": "level", "declared_kind": "none",
                         "detected_kind": "cn_mobile", "share": 0.8}]  # fmt: skip


@pytest.mark.parametrize("suffix", ["", "/card.md", "/findings"])
def test_another_scenarios_samples_are_refused_and_the_refusal_audited(live, suffix):
    from sandbox.store.models import AuditEventRow

    path = f"{V1}/scenarios/{SCENARIO}/samples{suffix}"
    _refused(live.get("developer-3", path), 403, "E600")  # cleared, but not on this scenario
    _refused(live.get("developer-2", path), 403, "E603")  # not cleared: the front door
    _refused(live.get("consumer-1", path), 403, "E603")
    with live.ctx.sessions() as session:
        refused = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    assert any(e.actor == "developer-3" and "samples.read" in e.details for e in refused)


# -- job upload, submission ----------------------------------------------------------------


def test_a_member_submits_an_uploaded_job_and_reads_its_packet(live):
    submitted = live.post("developer-1", f"{V1}/submissions", files=_job_files())
    assert submitted.status_code == 201, submitted.text
    view = submitted.json()
    assert (view["job"], view["scenario"], view["state"], len(view["code_sha256"])) == (
        "disability_levels", SCENARIO, "submitted", 64)  # fmt: skip
    assert _uploads(live.ctx) == []  # the upload went once snapshotted
    assert [s["submission"] for s in live.get("developer-1", f"{V1}/submissions").json()] == [
        view["submission"]
    ]
    packet = live.get("developer-1", f"{V1}/submissions/{view['submission']}").json()
    assert set(packet["files"]) == {"job.toml", "job.py", "README.md"} and packet["findings"] == []
    assert live.get("developer-3", f"{V1}/submissions").json() == []
    _refused(live.get("developer-3", f"{V1}/submissions/{view['submission']}"), 403, "E600")
    _refused(live.get("provider-gongan", f"{V1}/submissions/{view['submission']}"), 403, "E603")


def test_a_job_for_another_scenario_is_refused_and_leaves_nothing(live):
    refused = live.post("developer-3", f"{V1}/submissions", files=_job_files())
    _refused(refused, 403, "E600")
    assert _uploads(live.ctx) == []


def test_upload_names_are_reduced_to_plain_names_and_bad_ones_refused(live):
    files = _job_files()
    files[0] = ("files", ("../../job.toml", files[0][1][1], "text/plain"))
    files[1] = ("files", ("myjob\\job.py", files[1][1][1], "text/plain"))
    accepted = live.post("developer-1", f"{V1}/submissions", files=files)
    assert accepted.status_code == 201, accepted.text
    packet = live.get("developer-1", f"{V1}/submissions/{accepted.json()['submission']}").json()
    assert set(packet["files"]) == {"job.toml", "job.py", "README.md"}
    for name in (".job.toml", "..", "", "a/", "job.toml\x00x"):
        bad = [("files", (name, b"x", "text/plain")), *_job_files()[1:]]
        _refused(live.post("developer-1", f"{V1}/submissions", files=bad), 422, "E110")
    twice = [*_job_files(), ("files", ("other/job.py", b"pass\n", "text/plain"))]
    _refused(live.post("developer-1", f"{V1}/submissions", files=twice), 422, "E110")
    assert _uploads(live.ctx) == []


def test_oversized_and_too_many_files_are_refused(live):
    big = [*_job_files()[:2], ("files", ("README.md", b"x" * (300 * 1024), "text/markdown"))]
    _refused(live.post("developer-1", f"{V1}/submissions", files=big), 422, "E110")
    many = [("files", (f"f{i}.py", b"", "text/plain")) for i in range(11)]
    _refused(live.post("developer-1", f"{V1}/submissions", files=many), 422, "E110")
    assert _uploads(live.ctx) == []


def test_a_job_failing_the_policy_check_is_refused_with_its_findings(live):
    files = _job_files()
    files[1] = ("files", ("job.py", b"import os\n\ndef build(ctx):\n    return {}\n", "text/x-python"))
    refused = live.post("developer-1", f"{V1}/submissions", files=files)
    _refused(refused, 400, "E810")
    assert "job.py" in refused.json()["zh"]
    assert _uploads(live.ctx) == []


# -- dev runs (queued) ---------------------------------------------------------------------


def test_a_dev_run_is_queued_with_its_upload_kept_for_the_worker(live):
    queued = live.post("developer-1", f"{V1}/dev-runs", files=_job_files())
    assert queued.status_code == 202, queued.text
    task = queued.json()
    assert (task["kind"], task["state"], task["requested_by"]) == ("dev.run", "queued", "developer-1")
    folder = upload_dir(live.ctx, task["args"]["upload"])
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "job.py", "job.toml"]
    assert live.get("developer-1", f"/api/v1/me/tasks/{task['task']}").json()["state"] == "queued"


def test_a_dev_run_is_refused_to_an_uncleared_developer_and_other_roles(live, tmp_path):
    _refused(live.post("developer-2", f"{V1}/dev-runs", files=_job_files()), 403, "E603")
    _refused(live.post("operator-1", f"{V1}/dev-runs", files=_job_files()), 403, "E603")
    # the service refuses them too (``sandbox --as operator-1 dev run`` on the host): dev runs are developers'
    (tmp_path / "job.toml").write_text(JOB_TOML.format(job_id="disability_levels", scenario=SCENARIO))
    (tmp_path / "job.py").write_text(JOB_PY)
    for user in ("operator-1", "admin"):
        with pytest.raises(PermissionDenied) as info:
            dev.prepare(live.ctx, principal_for(live.ctx, user), tmp_path)
        assert info.value.code == "E600" and "requires role: developer" in info.value.en
    with pytest.raises(PermissionDenied) as info:  # the kind's own check, for a caller past the door
        queue.enqueue(live.ctx, principal_for(live.ctx, "developer-2"), "dev.run", {"upload": "0" * 16})
    assert "保密协议" in info.value.zh
    with live.ctx.sessions() as session:
        assert session.scalars(select(TaskRow)).all() == []
    assert _uploads(live.ctx) == []


def test_the_dev_run_kind_returns_the_narrowed_report_and_removes_the_upload(live, monkeypatch):
    """The kind with Spark's part replaced: prepare and the dev process are stand-ins."""
    queued = live.post("developer-1", f"{V1}/dev-runs", files=_job_files()).json()
    report = {
        "job": {"ok": True, "outputs": {"by_level": ["id_number", "level"]}, "phase": None, "timings": {"build_s": 1.0},
                "traceback": None, "contract": None},
        "frames": {"by_level": {"rows": 120, "columns": ["id_number", "level"], "preview": [["x", "1"]]}},
        "gate": {"ok": True, "job": "disability_levels", "policy": {"threshold": 10}, "report": "/home/work/gate.md",
                 "outputs": {"by_level": {"status": "released", "refusal": None, "released": 2, "suppressed": 1,
                                          "suppressed_by_reason": {"threshold": 1}, "epsilon_spent": None}}},
        "seconds": 3.2,
    }  # fmt: skip
    monkeypatch.setattr(dev, "prepare", lambda ctx, actor, job_dir: job_dir / "spec.json")
    monkeypatch.setattr(dev, "first_report", lambda spec: report)
    stages = []
    ok, result = kind_named("dev.run").run(live.ctx, principal_for(live.ctx, "developer-1"), queued["args"],
                                           lambda zh, en: stages.append(en))  # fmt: skip
    assert ok and len(stages) == 2
    assert result["gate"] == {"outputs": {"by_level": {"refusal": None, "released": 2, "suppressed": 1,
                                                       "suppressed_by_reason": {"threshold": 1}}}}  # fmt: skip
    assert result["frames"] == report["frames"] and result["seconds"] == 3.2
    assert "timings" not in result["job"] and "/home/work" not in json.dumps(result)
    assert not upload_dir(live.ctx, queued["args"]["upload"]).exists()


# -- production runs -------------------------------------------------------------------------


def test_runs_of_ones_own_submissions_are_shown_as_the_developer_view_only(live):
    submission = live.post("developer-1", f"{V1}/submissions", files=_job_files()).json()["submission"]
    with live.ctx.transaction() as session:
        session.add(JobRunRow(id="ab12cd34ef56", submission_id=submission, promoted_by="operator-2", state="failed",
                              dataset_versions_json="{}", timings_json=json.dumps({"execute_s": 12.345}),
                              error_type="Py4JJavaError", failure_json=json.dumps({"phase": "execute"}),
                              logs_path="runs/ab12cd34ef56", started_at=utc_now_iso(), finished_at=utc_now_iso()))  # fmt: skip
    (run,) = live.get("developer-1", f"{V1}/runs").json()
    assert (run["run"], run["state"], run["phase"]) == ("ab12cd34ef56", "failed", "execute")
    assert "logs_path" not in run and "isolation" not in run and "runs/" not in json.dumps(run)
    assert live.get("developer-1", f"{V1}/runs", params={"submission": submission}).json() == [run]
    assert live.get("developer-3", f"{V1}/runs").json() == []
    assert live.get("developer-3", f"{V1}/runs", params={"submission": submission}).json() == []
    _refused(live.get("auditor-1", f"{V1}/runs"), 403, "E603")


def test_report_view_is_what_the_cli_prints_of_a_failed_run():
    failed = {"job": {"ok": False, "outputs": {}, "phase": "build", "error_type": "NameError", "error_line": 4,
                      "message": "name 'x' is not defined", "findings": [], "timings": {"build_s": 0.4},
                      "contract": None, "traceback": "Traceback ...\nNameError"}, "seconds": 0.9}  # fmt: skip
    view = dev.report_view(failed)
    assert view == {"job": {"ok": False, "phase": "build", "error_type": "NameError", "error_line": 4,
                            "message": "name 'x' is not defined", "findings": [], "reason": None,
                            "traceback": "Traceback ...\nNameError"}, "seconds": 0.9}  # fmt: skip


# -- data correction requests ----------------------------------------------------------------


def test_a_developer_raises_lists_shows_and_exports_their_own_correction_requests(live):
    """``check_may_raise`` admits a developer on a dataset of a scenario they work on, and
    ``visible_tickets`` shows them the requests they raised: ``sandbox ticket`` is served for them here."""
    body = {"dataset": "disability", "description": "等级编码需核对", "column": "level", "severity": "low"}
    raised = live.post("developer-1", f"{V1}/tickets", json=body)
    assert raised.status_code == 201, raised.text
    ticket = raised.json()
    assert (ticket["dataset"], ticket["rule"], ticket["severity"], ticket["provider"]) == (
        "disability", "manual", "low", "canlian")  # fmt: skip
    # someone else's ticket on the same dataset is not theirs to see
    other = tickets.raise_request(live.ctx, principal_for(live.ctx, "operator-1"), "disability", "另一需求")
    assert [t["ticket"] for t in live.get("developer-1", f"{V1}/tickets").json()] == [ticket["ticket"]]
    assert live.get("developer-1", f"{V1}/tickets", params={"state": "fixed"}).json() == []
    shown = live.get("developer-1", f"{V1}/tickets/{ticket['ticket']}").json()
    assert (shown["raised_by"], shown["description"]) == ("developer-1", "等级编码需核对")
    assert shown["examples"] == []  # a manual request carries no failing keys
    _refused(live.get("developer-1", f"{V1}/tickets/{ticket_label(other.id)}"), 404, "E201")
    exported = live.get("developer-1", f"{V1}/tickets/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [ticket["ticket"]]
    # the service's own refusals: a dataset of no scenario they work on, or no scenario at all
    people_only = {**body, "dataset": "people", "column": ""}  # people is on elderly-care too: allowed
    assert live.post("developer-1", f"{V1}/tickets", json=people_only).status_code == 201
    _refused(live.post("developer-3", f"{V1}/tickets", json=body), 403, "E600")
    # the front door: operators raise at /operator/tickets, providers answer at /provider/tickets
    for user in ("operator-1", "provider-canlian", "consumer-1", "auditor-1"):
        _refused(live.get(user, f"{V1}/tickets"), 403, "E603")
    _refused(live.post("developer-2", f"{V1}/tickets", json=body), 403, "E603")  # not cleared


# -- products --------------------------------------------------------------------------------


def test_a_developer_reads_the_product_catalogue_they_apply_to_redevelop_from(live):
    released_product(Cast(live.ctx), "level_counts")
    listed = live.get("developer-1", f"{V1}/products")
    assert listed.status_code == 200, listed.text
    assert [(p["product"], p["released_versions"]) for p in listed.json()] == [("level_counts", [1])]
    assert live.get("developer-3", f"{V1}/products/level_counts").json()["product"] == "level_counts"
    (version,) = live.get("developer-1", f"{V1}/products/level_counts/versions").json()
    assert version["version"] == 1 and version["dataset_versions"] == {"disability": 1}
    _refused(live.get("developer-1", f"{V1}/products/nothing-here/versions"), 404, "E201")
    for user in ("consumer-1", "operator-1", "developer-2"):  # at their own routers; developer-2 not cleared
        _refused(live.get(user, f"{V1}/products"), 403, "E603")


# -- re-development --------------------------------------------------------------------------


def test_a_developer_applies_to_redevelop_and_sees_their_organizations_applications(live):
    """``level_counts`` released without Spark (``tests/sandbox/products/conftest.py``)."""
    released_product(Cast(live.ctx), "level_counts")
    applied = live.post(
        "developer-1", f"{V1}/redevelopments", json={"product": "level_counts", "purpose": "区县细化"}
    )
    assert applied.status_code == 201, applied.text
    assert (applied.json()["applicant"], applied.json()["state"]) == ("dev-org", "submitted")
    live.post(
        "consumer-1", "/api/v1/consumer/redevelopments", json={"product": "level_counts", "purpose": "信贷"}
    )
    mine = live.get("developer-3", f"{V1}/redevelopments").json()  # same organization, another developer
    assert [(a["application"], a["applicant"]) for a in mine] == [(applied.json()["application"], "dev-org")]
    _refused(live.get("developer-2", f"{V1}/redevelopments"), 403, "E603")
