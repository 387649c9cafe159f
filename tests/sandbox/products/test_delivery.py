"""Product delivery without the API: keys, queries on released versions, metering, quota, billing.

A release here is ``versions.release`` of a small gate directory (as in ``conftest``), with a
table of districts × levels that has one suppressed cell. Metering runs on SQLite and PostgreSQL
(the ``ctx`` fixture), concurrent requests included: a key's quota is never overrun.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import uuid
from datetime import datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.errors import InvalidInput, NotFoundError, PermissionDenied
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import disclosure, identities
from sandbox.governance.access import principal_for
from sandbox.products import api_keys, delivery, metering, registry, released_tables, terms, versions
from sandbox.products.delivery import Query, QueryInvalid
from sandbox.products.terms import TermsRequired
from sandbox.store.models import ApiKeyDayRow, ApiKeyRow, AuditEventRow, JobRunRow, ProductUsageRow

from .conftest import activate_fee_bearing, approved_job, live_cast

DISTRICTS = ["429901", "429902", "429903"]
LEVELS = ["一级", "二级", "三级", "四级"]


def cells() -> pa.Table:
    rows = [(d, lv, 10 + 4 * i + j) for i, d in enumerate(DISTRICTS) for j, lv in enumerate(LEVELS)]
    people = [p for *_k, p in rows]
    people[5] = None  # a suppressed cell: its measure is empty, as the gate writes it
    return pa.table({
        "district_code": [d for d, _l, _p in rows], "level": [lv for _d, lv, _p in rows],
        "people": pa.array(people, type=pa.int64()),
        "decision": ["suppressed" if p is None else "released" for p in people],
    })  # fmt: skip


def release(cast, submission, table: pa.Table, name: str = "by_district") -> None:
    """What production does after the gate: the next version of the submission's product, one table."""
    ctx = cast.ctx
    gate_dir = ctx.settings.work_dir / f"gate-{uuid.uuid4().hex[:8]}"
    gate_dir.mkdir(parents=True)
    pq.write_table(table, gate_dir / f"{name}.parquet")
    (gate_dir / "gate_report.json").write_text("{}", encoding="utf-8")
    run_id = uuid.uuid4().hex[:12]
    with ctx.transaction() as session:
        session.add(JobRunRow(id=run_id, submission_id=submission.id, promoted_by="operator-2", state="running",
                              dataset_versions_json="{}", logs_path=f"runs/{run_id}", started_at=utc_now_iso()))  # fmt: skip
        session.flush()
        versions.release(ctx, session, product_id=submission.job_id, run_id=run_id, gate_dir=gate_dir,
                         code_sha256=submission.code_sha256, dataset_versions={"disability": 1}, policy={},
                         outputs={name: {"released": table.num_rows}}, actor="operator-2")  # fmt: skip


def publish(cast, product_id: str = "district_levels", scenario_id: str = "elderly-care", table=None):
    submission = approved_job(cast, product_id, scenario_id)
    registry.register(cast.ctx, cast("operator-1"), product_id=product_id, title="各区残疾等级",
                      scenario_id=scenario_id, description="按区与等级统计")  # fmt: skip
    release(cast, submission, cells() if table is None else table)
    return submission


def key_for(cast, user: str = "consumer-1") -> tuple[api_keys.KeyPrincipal, str]:
    _row, secret = api_keys.create_key(cast.ctx, cast(user), "test")
    return api_keys.authenticate_key(cast.ctx, secret), secret


def rows_of(answer) -> list[dict]:
    return json.loads(answer.body)["rows"]


@pytest.fixture
def cast(sqlite_ctx):
    return live_cast(sqlite_ctx)


@pytest.fixture
def published(cast):
    publish(cast)
    return cast


# -- keys ----------------------------------------------------------------------------------------


def test_a_key_is_shown_once_stored_hashed_and_acts_as_its_consumer_organization(published):
    cast = published
    row, secret = api_keys.create_key(cast.ctx, cast("consumer-1"), "报表系统")
    assert secret.startswith("sk_") and len(secret) > 40
    with cast.ctx.sessions() as session:
        stored = session.get(ApiKeyRow, row.id)
    assert stored.key_hash == api_keys.key_hash(secret) and secret not in stored.key_hash
    assert stored.daily_quota == api_keys.DEFAULT_DAILY_QUOTA
    who = api_keys.authenticate_key(cast.ctx, secret)
    assert (who.org_id, who.roles, who.key_id, who.username) == (
        "bank",
        {Role.CONSUMER},
        row.id,
        f"key:{row.id}",
    )
    (view,) = api_keys.list_keys(cast.ctx, cast("consumer-1"))
    assert (
        view["key"] == row.id
        and view["state"] == "active"
        and "secret" not in view
        and "key_hash" not in view
    )
    for forged in ("sk_" + "A" * 43, secret[:-1], "sy_" + secret[3:], ""):
        with pytest.raises(PermissionDenied):
            api_keys.authenticate_key(cast.ctx, forged)
    for user in ("developer-1", "operator-1", "provider-gongan"):
        with pytest.raises(PermissionDenied):
            api_keys.create_key(cast.ctx, cast(user))


def test_keys_belong_to_one_organization_and_operators_manage_quotas(published):
    cast = published
    admin = cast("admin")
    identities.create_org(cast.ctx, admin, "insurer", "云泽保险", OrgKind.CONSUMER)
    identities.create_user(cast.ctx, admin, "consumer-2", "使用二", "insurer", {Role.CONSUMER})
    bank_key, bank_secret = api_keys.create_key(cast.ctx, cast("consumer-1"))
    api_keys.create_key(cast.ctx, cast("consumer-2"))
    assert [k["org"] for k in api_keys.list_keys(cast.ctx, cast("consumer-2"))] == ["insurer"]
    assert {k["org"] for k in api_keys.list_keys(cast.ctx, cast("operator-1"))} == {"bank", "insurer"}
    with pytest.raises(NotFoundError):  # another organization's key does not exist for a consumer
        api_keys.revoke_key(cast.ctx, cast("consumer-2"), bank_key.id)
    with pytest.raises(PermissionDenied):
        api_keys.set_quota(cast.ctx, cast("consumer-1"), bank_key.id, 5)
    assert api_keys.set_quota(cast.ctx, cast("operator-1"), bank_key.id, 5).daily_quota == 5
    assert api_keys.authenticate_key(cast.ctx, bank_secret).daily_quota == 5
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.set_quota(cast.ctx, cast("operator-1"), bank_key.id, api_keys.MAX_DAILY_QUOTA + 1)
    api_keys.revoke_key(cast.ctx, cast("consumer-1"), bank_key.id, "不再使用")
    with pytest.raises(PermissionDenied):
        api_keys.authenticate_key(cast.ctx, bank_secret)
    assert cast.ctx.verify_audit().ok


# -- queries -------------------------------------------------------------------------------------


def test_filters_sort_and_paging_read_only_the_released_table(published):
    cast = published
    who, _ = key_for(cast)
    everything = delivery.query(cast.ctx, who, "district_levels", Query())
    body = json.loads(everything.body)
    assert (body["version"], body["table"], body["total"], body["next_cursor"]) == (
        1,
        "by_district",
        12,
        None,
    )
    assert [c["name"] for c in body["columns"]] == ["district_code", "level", "people", "decision"]
    assert rows_of(everything) == cells().to_pylist()

    one = rows_of(delivery.query(cast.ctx, who, "district_levels", Query(filters=("district_code=429902",))))
    assert {r["district_code"] for r in one} == {"429902"} and len(one) == 4
    either = Query(filters=("district_code=429901", "district_code=429903", "level=二级"))
    assert [(r["district_code"], r["level"]) for r in rows_of(delivery.query(cast.ctx, who, "district_levels", either))] == [
        ("429901", "二级"), ("429903", "二级")]  # fmt: skip
    typed = rows_of(delivery.query(cast.ctx, who, "district_levels", Query(filters=("people=13",))))
    assert [(r["district_code"], r["level"]) for r in typed] == [("429901", "四级")]

    ordered = rows_of(delivery.query(cast.ctx, who, "district_levels", Query(sort=("-people", "level"))))
    assert [r["people"] for r in ordered[:3]] == [21, 20, 19] and ordered[-1]["people"] is None

    paged, cursor = [], None
    while True:
        answer = delivery.query(
            cast.ctx, who, "district_levels", Query(sort=("-people",), limit=5, cursor=cursor)
        )
        paged += rows_of(answer)
        cursor = answer.next_cursor
        if cursor is None:
            break
    assert paged == ordered_by_people(cast, who) and len(paged) == 12
    window = rows_of(delivery.query(cast.ctx, who, "district_levels", Query(limit=3, offset=10)))
    assert window == cells().to_pylist()[10:]


def ordered_by_people(cast, who) -> list[dict]:
    return rows_of(delivery.query(cast.ctx, who, "district_levels", Query(sort=("-people",))))


def test_bad_queries_are_bilingual_422s_that_never_echo_a_value(published):
    cast = published
    who, _ = key_for(cast)
    cases = [
        Query(filters=("id_number=110101199003074514",)),  # not a column of the released table
        Query(sort=("-name",)),
        Query(filters=("people=110101199003074514x",)),  # not an integer: the value is not repeated
        Query(filters=("people",)),
        Query(table="gate_report"),
        Query(format="xlsx"),
        Query(cursor="not-a-cursor"),
        Query(limit=delivery.MAX_LIMIT + 1),
    ]
    for case in cases:
        with pytest.raises(QueryInvalid) as info:
            delivery.query(cast.ctx, who, "district_levels", case)
        assert info.value.code == "E580" and info.value.zh and info.value.en
        assert "110101199003074514" not in info.value.zh + info.value.en
    with pytest.raises(QueryInvalid) as info:
        delivery.query(
            cast.ctx, who, "district_levels", Query(filters=("level=一级", "110101199003074514=1"))
        )
    assert "filter #2" in info.value.en and "district_code" in info.value.en and "第 2 个" in info.value.zh


def test_a_cursor_pins_its_version_and_belongs_to_its_query(published):
    cast = published
    who, _ = key_for(cast)
    first = delivery.query(cast.ctx, who, "district_levels", Query(limit=4))
    submission = approved_job(cast, "district_levels")
    bigger = cells().to_pylist()
    release(
        cast, submission, pa.Table.from_pylist([{**r, "people": (r["people"] or 0) + 100} for r in bigger])
    )
    latest = rows_of(delivery.query(cast.ctx, who, "district_levels", Query(limit=4)))
    assert latest[0]["people"] == 110
    following = delivery.query(cast.ctx, who, "district_levels", Query(limit=4, cursor=first.next_cursor))
    assert following.version == 1 and rows_of(following) == cells().to_pylist()[4:8]
    assert (
        rows_of(delivery.query(cast.ctx, who, "district_levels", Query(version=1, limit=1)))[0]["people"]
        == 10
    )
    for other in (Query(limit=4, cursor=first.next_cursor, sort=("level",)),
                  Query(limit=4, cursor=first.next_cursor, version=2),
                  Query(limit=4, cursor=first.next_cursor, offset=4)):  # fmt: skip
        with pytest.raises(QueryInvalid):
            delivery.query(cast.ctx, who, "district_levels", other)
    with pytest.raises(NotFoundError):
        delivery.query(cast.ctx, who, "district_levels", Query(version=9))


def test_formats_by_parameter_or_accept_header(published):
    cast = published
    who, _ = key_for(cast)
    as_csv = delivery.query(
        cast.ctx, who, "district_levels", Query(accept="text/csv, application/json;q=0.5")
    )
    assert as_csv.media_type.startswith("text/csv")
    assert pacsv.read_csv(io.BytesIO(as_csv.body)).num_rows == 12
    as_parquet = delivery.query(
        cast.ctx, who, "district_levels", Query(format="parquet", filters=("level=一级",))
    )
    assert pq.read_table(io.BytesIO(as_parquet.body)).to_pylist() == [
        r for r in cells().to_pylist() if r["level"] == "一级"
    ]
    assert as_parquet.headers()["X-Total-Count"] == "3"
    assert delivery.choose_format(None, "*/*") == "json"
    assert delivery.choose_format(None, "application/json;q=0.1, application/vnd.apache.parquet") == "parquet"
    assert delivery.choose_format("csv", "application/json") == "csv"


def test_a_changed_released_file_is_refused(published):
    cast = published
    who, _ = key_for(cast)
    delivery.query(cast.ctx, who, "district_levels", Query())  # parsed and kept: must not hide a change
    _row, directory = versions.version_dir(cast.ctx, "district_levels")
    target = directory / "by_district.parquet"
    target.chmod(0o644)
    tampered = cells().to_pylist()
    tampered[0]["people"] = 3
    pq.write_table(pa.Table.from_pylist(tampered), target)
    with pytest.raises(versions.ProductFilesChanged) as info:
        delivery.query(cast.ctx, who, "district_levels", Query())
    assert info.value.code == "E570"
    target.unlink()
    with pytest.raises(versions.ProductFilesChanged):
        delivery.describe(cast.ctx, who, "district_levels")


def test_a_file_changed_after_its_state_was_trusted_is_hashed_again_and_refused(published, monkeypatch):
    """A released table is hashed once per file state; a change that keeps size and mtime still moves
    the ctime, so the next read hashes the file again and refuses it."""
    cast = published
    monkeypatch.setattr(
        released_tables, "SETTLED_NS", 0
    )  # trust a state at once (normally: once a second old)
    who, _ = key_for(cast)
    _row, directory = versions.version_dir(cast.ctx, "district_levels")
    target = directory / "by_district.parquet"
    first = delivery.query(cast.ctx, who, "district_levels", Query())
    trusted = [
        state for (path, _digest), (state, _table) in released_tables._VERIFIED.items() if path == str(target)
    ]
    assert trusted == [
        released_tables.state_of(os.stat(target))
    ]  # the state is trusted: no hashing on this read
    assert delivery.query(cast.ctx, who, "district_levels", Query()).body == first.body

    before = os.stat(target)
    time.sleep(0.02)  # past the clock tick of the release's own timestamps
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte: the same size
    target.write_bytes(bytes(data))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert (os.stat(target).st_size, os.stat(target).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with pytest.raises(versions.ProductFilesChanged):
        delivery.query(cast.ctx, who, "district_levels", Query())
    with pytest.raises(versions.ProductFilesChanged):
        delivery.describe(cast.ctx, who, "district_levels")


def test_a_file_state_is_trusted_only_once_older_than_the_clock_tick(published, monkeypatch):
    """Until its timestamps are ``SETTLED_NS`` older than the read, a file is hashed on every read (a
    change within the same clock tick would not move them); after, once per state."""
    cast = published
    who, _ = key_for(cast)
    hashed: list[str] = []
    real = released_tables.hashlib.sha256

    def counting(data=b"", **kwargs):
        if bytes(data[:4]) == b"PAR1":  # a Parquet file's bytes, not a key or a cursor
            hashed.append("x")
        return real(data, **kwargs)

    monkeypatch.setattr(released_tables.hashlib, "sha256", counting)
    monkeypatch.setattr(released_tables, "SETTLED_NS", 10**15)  # nothing is old enough
    for _ in range(3):
        delivery.query(cast.ctx, who, "district_levels", Query())
    assert len(hashed) == 3
    monkeypatch.setattr(released_tables, "SETTLED_NS", 0)
    for _ in range(3):
        delivery.query(cast.ctx, who, "district_levels", Query())
    assert len(hashed) == 4


def test_a_page_served_again_is_the_same_answer_and_metered_again(published):
    cast = published
    who, _ = key_for(cast)
    question = Query(sort=("-people",), limit=5)
    first = delivery.query(cast.ctx, who, "district_levels", question)
    again = delivery.query(cast.ctx, who, "district_levels", question)
    assert again.body == first.body and again.next_cursor == first.next_cursor
    with cast.ctx.sessions() as session:
        usage = session.scalars(select(ProductUsageRow)).one()
    assert (usage.requests, usage.rows_served, usage.bytes_served) == (2, 10, 2 * len(first.body))


def test_json_answers_read_the_same_whichever_encoder_wrote_them():
    plain = cells()
    head = {"product": "p", "version": 1}
    assert json.loads(delivery._render(plain, "json", head)) == {
        **head,
        "columns": [{"name": f.name, "type": str(f.type)} for f in plain.schema],
        "rows": plain.to_pylist(),
    }
    when = pa.table({"at": [datetime(2026, 1, 2, 3, 4, 5)], "n": [1]})  # not plain: written as before
    assert json.loads(delivery._render(when, "json", {}))["rows"] == [{"at": "2026-01-02 03:04:05", "n": 1}]


def test_the_query_transaction_checks_the_key_again(published):
    """A principal checked before a revocation is refused by the query's own transaction, and
    nothing is metered; a quota lowered since the key was checked is the one that counts."""
    cast = published
    who, _ = key_for(cast)
    delivery.query(cast.ctx, who, "district_levels", Query(limit=1))
    api_keys.set_quota(cast.ctx, cast("operator-1"), who.key_id, 2)
    assert who.daily_quota == api_keys.DEFAULT_DAILY_QUOTA  # as it was checked
    delivery.query(cast.ctx, who, "district_levels", Query(limit=1))
    with pytest.raises(metering.QuotaExceeded) as info:
        delivery.query(cast.ctx, who, "district_levels", Query(limit=1))
    assert "(2 requests)" in info.value.en

    api_keys.set_quota(cast.ctx, cast("operator-1"), who.key_id, 10)
    api_keys.revoke_key(cast.ctx, cast("consumer-1"), who.key_id, "泄露")
    with pytest.raises(api_keys.KeyRefused):
        delivery.query(cast.ctx, who, "district_levels", Query(limit=1))
    with pytest.raises(api_keys.KeyRefused):
        delivery.describe(cast.ctx, who, "district_levels")
    with cast.ctx.sessions() as session:
        assert session.scalars(select(ProductUsageRow.requests)).one() == 2


def test_terms_revoked_after_a_query_refuse_the_next_one_audited(cast):
    activate_fee_bearing(cast)
    publish(cast, "credit_levels", "credit")
    who, _ = key_for(cast)
    grant = terms.grant_terms(cast.ctx, cast("operator-1"), "credit_levels", "bank")
    assert delivery.query(cast.ctx, who, "credit_levels", Query(limit=1)).rows == 1
    terms.revoke_terms(cast.ctx, cast("operator-1"), grant.id, "合同终止")
    with pytest.raises(TermsRequired):
        delivery.query(cast.ctx, who, "credit_levels", Query(limit=1))
    with pytest.raises(NotFoundError):
        delivery.query(cast.ctx, who, "no_such_product", Query())
    with cast.ctx.sessions() as session:
        refused = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "refused")).all()
    attempts = [(e.actor, e.object_id, json.loads(e.details)["code"]) for e in refused]
    assert (f"key:{who.key_id}", "credit_levels", TermsRequired.code) in attempts
    assert (f"key:{who.key_id}", "no_such_product", NotFoundError.code) in attempts
    assert cast.ctx.verify_audit().ok


def test_fee_bearing_products_need_terms_in_force_and_deregistered_ones_are_gone(cast, monkeypatch):
    monkeypatch.setenv("SANDBOX_PRICE_PER_REQUEST", "0.05")
    monkeypatch.setenv("SANDBOX_PRICE_PER_1000_ROWS", "1.5")
    activate_fee_bearing(cast)
    publish(cast, "credit_levels", "credit")
    who, _ = key_for(cast)
    with pytest.raises(TermsRequired):
        delivery.query(cast.ctx, who, "credit_levels", Query())
    terms.grant_terms(cast.ctx, cast("operator-1"), "credit_levels", "bank")
    assert delivery.query(cast.ctx, who, "credit_levels", Query(limit=10)).rows == 10
    delivery.query(cast.ctx, who, "credit_levels", Query(limit=2))
    with cast.ctx.sessions() as session:
        (usage,) = session.scalars(select(ProductUsageRow)).all()
    # 2 requests at ¥0.05 plus 12 rows at ¥1.5 per 1,000: ¥0.118 exactly
    assert (usage.requests, usage.rows_served, usage.fee_micro_yuan) == (2, 12, 118_000)
    (bill,) = metering.billing(cast.ctx, cast("consumer-1"))
    assert (bill["product"], bill["charging"], bill["requests"], bill["amount_yuan"]) == (
        "credit_levels",
        "有偿",
        2,
        "0.12",
    )
    registry.deregister(cast.ctx, cast("operator-1"), "credit_levels", "停止运营")
    with pytest.raises(PermissionDenied) as info:
        delivery.query(cast.ctx, who, "credit_levels", Query())
    assert "deregistered" in info.value.en


# -- metering (SQLite and PostgreSQL) ------------------------------------------------------------


def test_every_answer_is_metered_and_the_quota_is_never_overrun(ctx):
    cast = live_cast(ctx)
    publish(cast)
    who, secret = key_for(cast)
    answers = [delivery.query(ctx, who, "district_levels", Query(limit=n)) for n in (1, 5, 12)]
    with ctx.sessions() as session:
        (usage,) = session.scalars(select(ProductUsageRow)).all()
        (day,) = session.scalars(select(ApiKeyDayRow)).all()
    assert (usage.org_id, usage.product_id, usage.day) == ("bank", "district_levels", api_keys.today())
    assert (usage.requests, usage.rows_served, usage.bytes_served) == (
        3,
        18,
        sum(len(a.body) for a in answers),
    )
    assert usage.fee_micro_yuan == 0 and day.requests == 3  # a free product

    api_keys.set_quota(ctx, cast("operator-1"), who.key_id, 20)
    who = api_keys.authenticate_key(ctx, secret)
    outcomes: list[str] = []

    def client() -> None:
        for _ in range(5):
            try:
                delivery.query(ctx, who, "district_levels", Query(limit=2))
                outcomes.append("served")
            except metering.QuotaExceeded as err:
                assert err.code == "E582" and "quota" in err.en and "配额" in err.zh
                outcomes.append("refused")

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("served") == 17 and outcomes.count("refused") == 13
    with ctx.sessions() as session:
        usage = session.scalars(select(ProductUsageRow)).one()
        day = session.scalars(select(ApiKeyDayRow)).one()
    assert (usage.requests, usage.rows_served, day.requests) == (20, 18 + 34, 20)


def test_billing_and_usage_show_each_reader_what_is_theirs(ctx):
    cast = live_cast(ctx)
    publish(cast)
    admin = cast("admin")
    identities.create_org(ctx, admin, "insurer", "云泽保险", OrgKind.CONSUMER)
    identities.create_user(ctx, admin, "consumer-2", "使用二", "insurer", {Role.CONSUMER})
    identities.create_org(ctx, admin, "regulator", "网信办", OrgKind.REGULATOR)
    identities.create_user(ctx, admin, "auditor-1", "审计一", "regulator", {Role.AUDITOR})
    identities.create_org(ctx, admin, "op-other", "另一运营机构", OrgKind.OPERATOR)
    identities.create_user(ctx, admin, "operator-x", "他方运营", "op-other", {Role.OPERATOR})
    for user, times in (("consumer-1", 2), ("consumer-2", 1)):
        who, _ = key_for(cast, user)
        for _ in range(times):
            delivery.query(ctx, who, "district_levels", Query(limit=3))
    everyone = metering.billing(ctx, principal_for(ctx, "auditor-1"))
    assert [(b["consumer"], b["requests"], b["rows"], b["amount_yuan"], b["charging"]) for b in everyone] == [
        ("bank", 2, 6, "0.00", "免费"), ("insurer", 1, 3, "0.00", "免费")]  # fmt: skip
    assert metering.billing(ctx, cast("operator-1")) == everyone  # the operator's own product
    assert metering.billing(ctx, principal_for(ctx, "operator-x")) == []
    assert [b["consumer"] for b in metering.billing(ctx, principal_for(ctx, "consumer-2"))] == ["insurer"]
    assert [u["consumer"] for u in metering.usage(ctx, cast("consumer-1"))] == ["bank"]
    assert metering.billing(ctx, cast("admin"), "2001-01") == []
    with pytest.raises(PermissionDenied):
        metering.billing(ctx, cast("developer-1"))
    with pytest.raises(InvalidInput):
        metering.billing(ctx, cast("admin"), "2026-13")

    report = disclosure.build(ctx)
    (usage,) = [u for u in report["product_usage"] if u["product"] == "district_levels"]
    assert (usage["consumers"], usage["requests"], usage["rows"]) == (2, 3, 9)
    markdown = disclosure.to_markdown(report)
    assert (
        "## 四、产品使用情况 / Product usage" in markdown
        and "| 各区残疾等级（district_levels） | 2 | 3 | 9 |" in markdown
    )


def test_sandbox_billing_on_the_command_line(published, monkeypatch):
    cast = published
    who, _ = key_for(cast)
    delivery.query(cast.ctx, who, "district_levels", Query(limit=4))
    monkeypatch.setenv("SANDBOX_HOME", str(cast.ctx.settings.home_dir))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    from sandbox.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["--as", "consumer-1", "billing", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    (bill,) = json.loads(shown.output)
    assert (bill["consumer"], bill["product"], bill["requests"], bill["rows"], bill["amount_yuan"]) == (
        "bank", "district_levels", 1, 4, "0.00")  # fmt: skip
    table = runner.invoke(app, ["--as", "admin", "billing"])
    assert table.exit_code == 0 and "district_levels" in table.output and "应付" in table.output
    bad = runner.invoke(app, ["--as", "admin", "billing", "--month", "2026-1"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    refused = runner.invoke(app, ["--as", "developer-1", "billing"])
    assert refused.exit_code == 2 and "E600" in refused.output
