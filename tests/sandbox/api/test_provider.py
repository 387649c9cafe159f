"""The provider router: datasets and their versions, uploads (queued ingest), quality reports and the
scorecard, the ticket inbox, data-use requests, the webhook and the release register — each for the
provider's own data only. State is seeded through the services (no Spark); queued ingests are not run."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from sandbox.api import uploads
from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import ingest
from sandbox.domain.quality import Dimension, Severity, ticket_label
from sandbox.governance import scenarios
from sandbox.governance.access import principal_for
from sandbox.quality import tickets
from sandbox.store.models import (
    AuditEventRow,
    ProfileFindingRow,
    QualityRunRow,
    ReleaseCellRow,
    ReleaseRow,
    SampleVersionRow,
    TaskRow,
)
from sandbox.tasks.kinds import upload_dir
from tests.sandbox.governance.test_scenarios import propose

V1 = "/api/v1/provider"
PEOPLE_CSV = (
    "id_number,name,gender,birth_date,district_code,income,updated_at\n"
    "110101199003074514,张三,1,1990-03-07,429901,3200,2024-01-01 08:00:00\n"
    "110101198506061234,李四,2,1985-06-06,429902,4100,2024-01-02 09:00:00\n"
)


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["zh"] and body["en"]


def _refusals(ctx, attempted: str) -> list[AuditEventRow]:
    with ctx.sessions() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused"))
        return [e for e in events if json.loads(e.details or "{}").get("attempted") == attempted]


def _uploads(ctx) -> list:
    root = upload_dir(ctx, "x").parent
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.fixture
def delivered(api, tmp_path):
    """``people`` (gongan's) has one version, ingested through the real path (Arrow, no Spark)."""
    upload = tmp_path / "people.csv"
    upload.write_text(PEOPLE_CSV, encoding="utf-8")
    ingest(api.ctx, principal_for(api.ctx, "admin"), "people", [upload])
    return api


def _raise(api, dataset: str, description: str = "地址疑似缺少门牌号") -> str:
    row = tickets.raise_request(api.ctx, principal_for(api.ctx, "operator-1"), dataset, description)
    return ticket_label(row.id)


# -- datasets --------------------------------------------------------------------------------


def test_the_catalog_shows_versions_and_quarantine_only_to_the_datasets_own_provider(delivered):
    api = delivered
    mine = {d["dataset"]: d for d in api.get("provider-gongan", f"{V1}/datasets").json()}
    theirs = {d["dataset"]: d for d in api.get("provider-canlian", f"{V1}/datasets").json()}
    assert mine["people"]["latest_version"] == 1 and mine["people"]["rows"] == 2
    assert set(theirs) == {"people", "disability"} and theirs["people"]["latest_version"] is None
    shown = api.get("provider-gongan", f"{V1}/datasets/people").json()
    assert shown["provider"] == "gongan" and shown["keys"] == ["id_number"]
    assert [v["version"] for v in shown["versions"]] == [1] and shown["quarantine"] == []
    assert any(c["column"] == "id_number" and c["pii"] == "cn_resident_id" for c in shown["columns"])
    other = api.get("provider-canlian", f"{V1}/datasets/people").json()
    assert other["columns"] and other["versions"] is None and other["quarantine"] is None
    assert api.get("operator-1", f"{V1}/datasets/people").json()["versions"][0]["rows"] == 2
    _refused(api.get("provider-gongan", f"{V1}/datasets/nothing"), 404, "E201")
    _refused(api.get("consumer-1", f"{V1}/datasets"), 403, "E603")
    # developers read the entry they propose scenarios on, never its deliveries; auditors read those too
    entry = api.get("developer-1", f"{V1}/datasets/people").json()
    assert entry["columns"] and entry["versions"] is None and entry["quarantine"] is None
    listed = api.get("developer-1", f"{V1}/datasets").json()
    assert {d["dataset"] for d in listed} == {"people", "disability"}
    assert all(d["latest_version"] is None and d["rows"] is None for d in listed)
    assert api.get("auditor-1", f"{V1}/datasets/people").json()["versions"][0]["rows"] == 2
    assert "110101199003074514" not in api.get("provider-gongan", f"{V1}/datasets/people").text


def test_an_upload_is_written_under_plain_names_and_its_ingest_queued(api):
    files = [
        ("files", ("../../etc/人口 数据?.csv", PEOPLE_CSV.encode(), "text/csv")),
        ("files", ("C:\\deliveries\\people.csv", b"id_number\n", "text/csv")),
        ("files", ("people.CSV", b"id_number\n", "text/csv")),
        ("files", ("..", b"id_number\n", "text/csv")),
    ]
    response = api.post("provider-gongan", f"{V1}/datasets/people/versions", files=files)
    assert response.status_code == 202, response.text
    task = response.json()
    assert (
        task["state"] == "queued"
        and task["kind"] == "dataset.ingest"
        and task["requested_by"] == "provider-gongan"
    )
    assert task["args"]["dataset"] == "people" and len(task["args"]["upload"]) == 32
    folder = upload_dir(api.ctx, task["args"]["upload"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "people-2.CSV",
        "people.csv",
        "upload-4",
        "人口_数据_.csv",
    ]
    assert (folder / "人口_数据_.csv").read_text(encoding="utf-8") == PEOPLE_CSV
    assert api.get("provider-gongan", f"/api/v1/me/tasks/{task['task']}").json()["state"] == "queued"
    with api.ctx.sessions() as session:
        assert session.get(TaskRow, task["task"]).state == "queued"
    # the host administrator may deliver too, as the CLI's ``sandbox ingest`` lets them
    assert api.post("admin", f"{V1}/datasets/people/versions", files=files[:1]).status_code == 202


def test_an_upload_to_another_providers_dataset_is_refused_before_anything_is_written(api):
    files = [("files", ("people.csv", PEOPLE_CSV.encode(), "text/csv"))]
    refused = api.post("provider-canlian", f"{V1}/datasets/people/versions", files=files)
    _refused(refused, 403, "E600")
    assert "canlian" in refused.json()["en"] and _uploads(api.ctx) == []
    assert [e.actor for e in _refusals(api.ctx, "dataset.ingest")] == ["provider-canlian"]
    _refused(api.post("consumer-1", f"{V1}/datasets/people/versions", files=files), 403, "E603")
    _refused(api.post("provider-gongan", f"{V1}/datasets/nothing/versions", files=files), 404, "E201")
    _refused(api.post("provider-gongan", f"{V1}/datasets/people/versions"), 422, "E110")
    assert _uploads(api.ctx) == []
    with api.ctx.sessions() as session:
        assert session.scalar(select(TaskRow)) is None


def test_an_upload_over_the_limit_is_refused_and_nothing_stays(api, monkeypatch):
    monkeypatch.setattr(uploads, "DELIVERY", uploads.Limits(max_files=20, max_total_bytes=100))
    files = [("files", ("a.csv", b"x" * 60, "text/csv")), ("files", ("b.csv", b"y" * 60, "text/csv"))]
    refused = api.post("provider-gongan", f"{V1}/datasets/people/versions", files=files)
    _refused(refused, 422, "E110")
    assert "too large" in refused.json()["en"]
    assert [p for p in _uploads(api.ctx) if p.is_file()] == []
    too_many = [("files", (f"{i}.csv", b"x", "text/csv")) for i in range(uploads.DELIVERY.max_files + 1)]
    assert api.post("provider-gongan", f"{V1}/datasets/people/versions", files=too_many).status_code == 400
    assert [p for p in _uploads(api.ctx) if p.is_file()] == []


# -- quality ---------------------------------------------------------------------------------


def _quality_run(api) -> None:
    """A finished quality run on people v1, as the runner records it (without running it)."""
    now = utc_now_iso()
    with api.ctx.transaction() as session:
        session.add(QualityRunRow(
            id="run0001", dataset_id="people", provider_id="gongan", version=1, as_of="2026-03-01",
            suite_source="catalog", suite_sha256="0" * 64, row_count=2, score=87.5,
            dimension_scores_json=json.dumps({"完整性": 100.0, "准确性": 75.0}, ensure_ascii=False),
            gx_success=False, gx_result_path="tickets/gongan/people/runs/run0001/docs/index.html",
            keys_path="tickets/gongan/people/runs/run0001/failing", started_by="operator-1", started_at=now,
            finished_at=now,
        ))  # fmt: skip


def test_quality_reports_and_the_scorecard_are_the_providers_own(delivered):
    api = delivered
    _quality_run(api)
    report = api.get("provider-gongan", f"{V1}/datasets/people/quality").json()
    assert report["run"]["score"] == 87.5 and report["dataset"]["provider"] == "gongan"
    page = api.get("provider-gongan", f"{V1}/datasets/people/quality.html")
    assert (
        page.status_code == 200
        and page.headers["content-type"].startswith("text/html")
        and "<svg" in page.text
    )
    _refused(api.get("provider-canlian", f"{V1}/datasets/people/quality"), 403, "E600")
    _refused(api.get("provider-canlian", f"{V1}/datasets/people/quality.html"), 403, "E600")
    _refused(api.get("provider-gongan", f"{V1}/datasets/disability/quality"), 403, "E600")
    summary = api.get("provider-gongan", f"{V1}/quality").json()
    assert summary["provider"] == "gongan" and summary["quality_score"] == 87.5
    assert "<html" in api.get("provider-gongan", f"{V1}/quality.html").text
    _refused(api.get("provider-gongan", f"{V1}/quality", params={"provider": "canlian"}), 403, "E600")
    _refused(api.get("operator-1", f"{V1}/quality"), 422, "E110")  # staff name the provider
    assert api.get("operator-1", f"{V1}/quality", params={"provider": "gongan"}).json()["name"] == "市公安局"
    for unknown in ("nobody", "application/zip", "../raw"):  # Schemathesis found these were a 500 (E701)
        for page in ("quality", "quality.html"):
            _refused(api.get("admin", f"{V1}/{page}", params={"provider": unknown}), 404, "E201")
    card = api.get("provider-gongan", f"{V1}/scorecard").json()
    assert card["provider"] == "gongan" and card["datasets"][0]["trend"] == [{"version": 1, "score": 87.5}]
    _refused(api.get("provider-canlian", f"{V1}/scorecard", params={"provider": "gongan"}), 403, "E600")
    assert api.get("admin", f"{V1}/scorecard", params={"provider": "canlian"}).json()["provider"] == "canlian"
    _refused(api.get("consumer-1", f"{V1}/scorecard"), 403, "E603")
    assert {e.actor for e in _refusals(api.ctx, "quality.scorecard")} == {"provider-canlian"}


def test_the_rule_suite_reads_as_yaml(api):
    suite = api.get("provider-gongan", f"{V1}/datasets/people/suite").json()
    assert suite["dataset"] == "people" and suite["source"] == "catalog" and suite["rules"] > 0
    assert "id_number" in suite["yaml"] and "check:" in suite["yaml"]
    _refused(api.get("developer-1", f"{V1}/datasets/people/suite"), 403, "E603")


def test_a_provider_registers_its_own_webhook_only(api):
    made = api.post("provider-gongan", f"{V1}/webhook", json={"url": "https://gongan.example/shuyu"})
    assert made.status_code == 201 and made.json()["provider"] == "gongan"
    assert len(bytes.fromhex(made.json()["signing_key"])) >= 16
    _refused(api.post("provider-canlian", f"{V1}/webhook", json={"url": "https://x.example", "provider": "gongan"}),
             403, "E600")  # fmt: skip
    _refused(api.post("provider-gongan", f"{V1}/webhook", json={"url": "ftp://gongan.example"}), 400, "E1020")
    _refused(api.post("consumer-1", f"{V1}/webhook", json={"url": "https://x.example"}), 403, "E603")


# -- tickets ---------------------------------------------------------------------------------


def test_the_inbox_holds_the_providers_own_tickets_and_it_answers_them(api):
    mine, second, theirs = (
        _raise(api, "people"),
        _raise(api, "people", "出生日期与身份号码不符"),
        _raise(api, "disability"),
    )
    listed = api.get("provider-gongan", f"{V1}/tickets").json()
    assert [t["ticket"] for t in listed] == [mine, second] and {t["dataset"] for t in listed} == {"people"}
    assert [
        t["ticket"] for t in api.get("operator-1", f"{V1}/tickets", params={"provider": "canlian"}).json()
    ] == [theirs]
    shown = api.get("provider-gongan", f"{V1}/tickets/{mine}").json()
    assert (
        shown["description"] == "地址疑似缺少门牌号" and shown["examples"] == [] and shown["state"] == "open"
    )
    acked = api.post("provider-gongan", f"{V1}/tickets/{mine}/ack", json={"note": "已收到"})
    assert acked.json()["state"] == "acknowledged"
    assert (
        api.post("provider-gongan", f"{V1}/tickets/{mine}/fix", json={"note": "已更正"}).json()["state"]
        == "fixed"
    )
    assert api.get("provider-gongan", f"{V1}/tickets", params={"state": "fixed"}).json()[0]["ticket"] == mine
    disputed = api.post(
        "provider-gongan", f"{V1}/tickets/{second}/dispute", json={"reason": "身份号码核对无误"}
    )
    assert disputed.json()["state"] == "disputed"
    _refused(api.post("provider-gongan", f"{V1}/tickets/{second}/dispute", json={"reason": ""}), 422, "E110")
    _refused(api.post("provider-gongan", f"{V1}/tickets/{mine}/ack", json={}), 409, "E500")
    _refused(api.get("provider-gongan", f"{V1}/tickets", params={"state": "lost"}), 422, "E110")


def test_a_provider_cannot_see_or_answer_another_providers_tickets(api):
    theirs = _raise(api, "people")
    _refused(api.get("provider-canlian", f"{V1}/tickets/{theirs}"), 404, "E201")
    for action, body in (("ack", {}), ("fix", {"note": "x"}), ("dispute", {"reason": "x"})):
        _refused(api.post("provider-canlian", f"{V1}/tickets/{theirs}/{action}", json=body), 404, "E201")
    assert api.get("provider-canlian", f"{V1}/tickets").json() == []
    _refused(api.post("operator-1", f"{V1}/tickets/{theirs}/ack", json={}), 403, "E603")
    _refused(api.get("consumer-1", f"{V1}/tickets"), 403, "E603")
    assert {e.actor for e in _refusals(api.ctx, "quality_ticket.acknowledge")} == {"provider-canlian"}


def _keyed_ticket(api) -> str:
    """A rule's ticket on people carrying two failing keys in its run's Parquet, as a run leaves it."""
    keys = "tickets/gongan/people/runs/run0002/failing"
    folder = api.ctx.settings.home_dir / keys
    folder.mkdir(parents=True)
    table = pa.table({"id_number": ["110101199003074514", "110101198506061234"], "rows": [1, 1],
                      "excepted": [False, False], "on_ticket": [False, False], "rule": ["id_valid", "id_valid"]})  # fmt: skip
    pq.write_table(table, folder / "part-0.parquet")
    with api.ctx.transaction() as session:
        row = tickets.new_ticket(
            api.ctx, session, provider_id="gongan", dataset_id="people", rule=None, actor="system",
            description="身份号码校验位错误", suggested_fix="更正", severity=Severity.HIGH,
            dimension=Dimension.ACCURACY, column_label="id_number", key_count=2,
            examples=("110101199003074514",), keys_path=keys,
        )  # fmt: skip
        row.rule_id = "id_valid"
        return ticket_label(row.id)


def test_the_export_carries_the_failing_keys_of_the_providers_own_tickets_only(api):
    keyed, manual = _keyed_ticket(api), _raise(api, "people")
    theirs = _raise(api, "disability")
    exported = api.get("provider-gongan", f"{V1}/tickets/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r[0] for r in rows[1:]} == {keyed, manual} and {r[5] for r in rows[1:] if r[0] == keyed} == {
        "110101199003074514", "110101198506061234"}  # fmt: skip
    book = api.get("provider-gongan", f"{V1}/tickets/export", params={"ticket": [keyed]})
    assert book.status_code == 200 and book.content[:2] == b"PK"
    assert api.get("provider-gongan", f"{V1}/tickets/{keyed}").json()["examples"] == ["110101199003074514"]
    # canlian: another provider's ticket is not there to export, and its own export holds none of gongan's
    _refused(api.get("provider-canlian", f"{V1}/tickets/export", params={"ticket": [keyed]}), 404, "E201")
    own = api.get("provider-canlian", f"{V1}/tickets/export", params={"format": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert theirs in own and keyed not in own and "110101199003074514" not in own
    _refused(api.get("operator-1", f"{V1}/tickets/export"), 403, "E603")
    _refused(api.get("provider-gongan", f"{V1}/tickets/export", params={"format": "pdf"}), 422, "E110")
    with api.ctx.sessions() as session:
        exports = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "quality.tickets_exported")
        )
        assert [e.actor for e in exports] == ["provider-gongan", "provider-gongan", "provider-canlian"]


# -- profile findings --------------------------------------------------------------------------


def test_a_provider_reads_the_profile_findings_on_its_own_datasets_only(api):
    """``findings_for`` admits a provider for its own datasets (operators for all, at /operator)."""
    propose(_Cast(api.ctx))  # the scenario the samples are of (a draft will do for the store)
    with api.ctx.transaction() as session:
        session.add(SampleVersionRow(scenario_id="elderly-care", version=1, authorization_id="AUTH-2026-0001", seed=7,
                                     state="current", card_json="{}", created_by="operator-1",
                                     created_at=utc_now_iso()))  # fmt: skip
        session.flush()
        for dataset, column, provider in (("disability", "level", "canlian"), ("people", "income", "gongan")):
            session.add(ProfileFindingRow(sample_version_id=1, dataset_id=dataset, column=column, provider_id=provider,
                                          declared_kind="none", detected_kind="cn_mobile", share=0.8,
                                          created_at=utc_now_iso()))  # fmt: skip
    mine = {"provider-canlian": ("disability", "level"), "provider-gongan": ("people", "income")}
    for user, expected in mine.items():
        found = api.get(user, f"{V1}/samples/findings")
        assert found.status_code == 200, found.text
        assert [(f["dataset"], f["column"], f["provider"], f["detected_kind"]) for f in found.json()] == [
            (*expected, user.removeprefix("provider-"), "cn_mobile")]  # fmt: skip
    # staff read every finding at /operator/samples/findings; nobody else reads any
    for user in ("operator-1", "admin", "developer-1", "consumer-1", "auditor-1"):
        _refused(api.get(user, f"{V1}/samples/findings"), 403, "E603")
    assert len(api.get("operator-1", "/api/v1/operator/samples/findings").json()) == 2


# -- data-use requests -----------------------------------------------------------------------


@pytest.fixture
def requested(api):
    """elderly-care submitted (long ago: its requests are overdue): one request to gongan, one to canlian."""
    propose(_Cast(api.ctx))
    scenarios.submit(api.ctx, principal_for(api.ctx, "operator-1"), "elderly-care", today=date(2020, 1, 6))
    return api


class _Cast:
    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def __call__(self, username: str):
        return principal_for(self.ctx, username)


def test_a_provider_sees_and_decides_its_own_data_use_requests(requested):
    api = requested
    listed = api.get("provider-gongan", f"{V1}/requests").json()
    assert [(r["scenario"], r["dataset"], r["state"], r["overdue"]) for r in listed] == [
        ("elderly-care", "people", "pending", True)]  # fmt: skip
    assert len(api.get("provider-gongan", f"{V1}/requests", params={"overdue": True}).json()) == 1
    assert {r["dataset"] for r in api.get("operator-1", f"{V1}/requests").json()} == {"people", "disability"}
    assert len(api.get("auditor-1", f"{V1}/requests").json()) == 2
    detail = api.get("provider-gongan", f"{V1}/requests/elderly-care/people").json()
    assert detail["title"] == "养老服务需求热点" and detail["planned_products"] == ["elderly_care_hotspots"]
    assert [(c["column"], c["status"]) for c in detail["columns"]] == [
        ("birth_date", "requested"), ("district_code", "requested"), ("name", "requested")]  # fmt: skip
    assert detail["columns"][0]["justification"] == "按年龄段统计老年人口"
    decided = api.post("provider-gongan", f"{V1}/requests/elderly-care/people",
                       json={"grant": True, "refuse_columns": ["name"], "comment": "姓名不予提供"})  # fmt: skip
    assert (
        decided.status_code == 200 and decided.json()["state"] == "partial" and not decided.json()["overdue"]
    )
    columns = api.get("provider-gongan", f"{V1}/requests/elderly-care/people").json()["columns"]
    assert {c["column"]: c["status"] for c in columns} == {"birth_date": "granted", "district_code": "granted",
                                                          "name": "refused"}  # fmt: skip


def test_a_provider_cannot_see_or_decide_another_providers_request(requested):
    api = requested
    _refused(api.get("provider-gongan", f"{V1}/requests/elderly-care/disability"), 404, "E201")
    _refused(
        api.post("provider-gongan", f"{V1}/requests/elderly-care/disability", json={"grant": True}),
        403,
        "E600",
    )
    _refused(api.post("operator-1", f"{V1}/requests/elderly-care/people", json={"grant": True}), 403, "E603")
    _refused(api.get("consumer-1", f"{V1}/requests"), 403, "E603")
    _refused(api.post("provider-gongan", f"{V1}/requests/elderly-care/people",
                      json={"grant": True, "refuse_columns": ["income"]}), 400, "E520")  # fmt: skip
    assert api.get("provider-canlian", f"{V1}/requests/elderly-care/disability").json()["state"] == "pending"
    assert {e.actor for e in _refusals(api.ctx, "consent.decide")} == {"provider-gongan"}


# -- release register ------------------------------------------------------------------------


def _release(api, datasets: list[str]) -> None:
    with api.ctx.transaction() as session:
        release = ReleaseRow(run_id="run-1", job_id="census", datasets_json=json.dumps(datasets), members=None,
                             member_bytes=0, released_at=utc_now_iso())  # fmt: skip
        session.add(release)
        session.flush()
        session.add(ReleaseCellRow(release_id=release.id, members_release=release.id, cell=0, output="by_district",
                                   meaning="{}", entities=30, fingerprint="0" * 48, count_shown=True))  # fmt: skip


def test_the_register_lists_and_clears_only_the_providers_own_dataset(api):
    _release(api, ["people"])
    listed = api.get("provider-gongan", f"{V1}/register", params={"dataset": "people"}).json()
    assert [(r["job_id"], r["datasets"], r["cells"], r["cleared_at"]) for r in listed] == [
        ("census", ["people"], 1, None)
    ]
    assert len(api.get("operator-1", f"{V1}/register").json()) == 1
    assert len(api.get("auditor-1", f"{V1}/register").json()) == 1
    _refused(api.get("provider-gongan", f"{V1}/register"), 403, "E600")  # a provider names its dataset
    _refused(api.get("provider-canlian", f"{V1}/register", params={"dataset": "people"}), 403, "E600")
    _refused(api.get("consumer-1", f"{V1}/register"), 403, "E603")
    _refused(api.post("provider-canlian", f"{V1}/register/people/clear", json={"reason": "x"}), 403, "E600")
    _refused(api.post("operator-1", f"{V1}/register/people/clear", json={"reason": "x"}), 403, "E603")
    _refused(api.post("provider-gongan", f"{V1}/register/people/clear", json={"reason": ""}), 422, "E110")
    cleared = api.post("provider-gongan", f"{V1}/register/people/clear", json={"reason": "新年度重新授权"})
    assert cleared.json() == {"dataset": "people", "cleared": 1}
    assert api.get("provider-gongan", f"{V1}/register", params={"dataset": "people"}).json()[0]["cleared_at"]
    assert {e.actor for e in _refusals(api.ctx, "release_register.clear")} == {"provider-canlian"}
