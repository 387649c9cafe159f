"""The quality loop as a provider lives it: a delivery verifies its open tickets by itself, a run is as
of its version's delivery day, a rule with an open ticket never gets a second one, and fixing data
never lowers the provider's score — on real runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select, update
from typer.testing import CliRunner

from sandbox.catalog.service import current_version, version_path
from sandbox.cli import app
from sandbox.display import shanghai_date
from sandbox.domain.quality import OPEN_STATES, TicketState, ticket_label
from sandbox.governance.access import principal_for
from sandbox.quality import scoring, tickets
from sandbox.quality.failing_keys import KeysRef, read_keys
from sandbox.quality.runner import run_quality
from sandbox.quality.scorecard import build_scorecard
from sandbox.quality.verification import FAILED, VERIFIER, delivery_check
from sandbox.store.models import (
    AuditEventRow,
    DatasetVersionRow,
    QualityRuleResultRow,
    QualityRunRow,
    QualityTicketRow,
)
from tests.quality.conftest import deliver, raw_table, redeliver

DATASET, KEY = "elderly_care_institutions", "institution_uscc"  # 民政局; 31 rows, no references: quick
#: The county's defects in this dataset (ground_truth.csv, seed 11), by the rule that finds each.
DUPLICATE, BAD_COMMUNITY, BAD_USCC = "52429904MA9MUNY223", "52429921MA6LUDU660", "12429923442111074M"
OUT_OF_RANGE, BEDS_ORDER, NO_NAME = "12429904887320805E", "12429903MAEWFDXF1G", "52429902923645421X"
DEFECTIVE = {DUPLICATE, BAD_COMMUNITY, BAD_USCC, OUT_OF_RANGE, BEDS_ORDER, NO_NAME}


def _edited(table: pa.Table, column: str, by_key: dict[str, object]) -> pa.Table:
    """``table`` with ``column`` set to ``by_key[key]`` on the rows of those keys."""
    index = table.schema.get_field_index(column)
    values = [
        by_key.get(key, value)
        for key, value in zip(table.column(KEY).to_pylist(), table.column(column).to_pylist(), strict=True)
    ]
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def _clean_keys(table: pa.Table) -> list[str]:
    return sorted(k for k in set(table.column(KEY).to_pylist()) if k not in DEFECTIVE)


def _open_by_rule(ctx) -> dict[str, QualityTicketRow]:
    with ctx.sessions() as session:
        rows = list(session.scalars(select(QualityTicketRow).where(QualityTicketRow.dataset_id == DATASET)))
    opened = [t for t in rows if TicketState(t.state) in OPEN_STATES]
    assert max(Counter(t.rule_id for t in opened).values(), default=0) <= 1  # one open ticket per rule
    return {t.rule_id: t for t in opened}


def _keys(ctx, ticket: QualityTicketRow) -> set[str]:
    return {row[KEY] for row in read_keys(KeysRef(ctx.settings.home_dir / ticket.keys_path, ticket.rule_id))}


def _version(ctx, number: int) -> DatasetVersionRow:
    return current_version(ctx, DATASET, number)


def test_a_delivery_verifies_follows_up_and_never_raises_a_rule_twice(ctx, county, spark, tmp_path):
    deliver(ctx, county, [DATASET])
    operator, provider = principal_for(ctx, "operator-1"), principal_for(ctx, "provider-minzheng")
    table = raw_table(ctx, DATASET)
    a, b, c, d = _clean_keys(table)[:4]
    v2 = _edited(table, "address", {a: None, b: None})
    assert redeliver(ctx, DATASET, v2, tmp_path) == 2
    with ctx.sessions() as session:
        assert session.scalar(select(QualityRunRow)) is None  # no ticket yet: the delivery ran nothing
    # v2 arrived at 00:30 Shanghai time on 2026-06-30, which is still the 29th in UTC
    with ctx.transaction() as session:
        session.execute(update(DatasetVersionRow).where(DatasetVersionRow.version == 2)
                        .values(created_at="2026-06-29T16:30:00.000000Z"))  # fmt: skip

    first = run_quality(ctx, operator, DATASET)
    assert first.version == 2 and first.as_of == date(2026, 6, 30)  # its delivery day, not today
    opened = _open_by_rule(ctx)
    address, community, name = opened["address_required"], opened["community_code_in_code_table"], opened["name_required"]  # fmt: skip
    assert _keys(ctx, address) == {a, b} and address.key_count == 2
    tickets.dispute(ctx, provider, ticket_label(community.id), "该社区为新设社区，代码表尚未更新")

    # v3: a's address filled but c's lost; one more unknown community code; the name filled in
    v3 = _edited(
        _edited(v2, "address", {a: "云泽市和平路1号", c: None}), "community_code", {d: "429921200999"}
    )
    v3 = _edited(v3, "name", {NO_NAME: "云泽市补录养老院"})
    assert redeliver(ctx, DATASET, v3, tmp_path) == 3
    checked = delivery_check(ctx, provider, DATASET, 3)
    delivered = _version(ctx, 3).created_at

    assert checked.error is None and checked.raised == ()  # nothing raised twice
    assert ticket_label(name.id) in checked.verified and ticket_label(address.id) in checked.followed
    after = _open_by_rule(ctx)
    followed = after["address_required"]
    assert followed.id == address.id and followed.state == TicketState.OPEN and followed.version == 3
    assert _keys(ctx, followed) == {b, c} and followed.remaining_count == 2 and followed.key_count == 3
    disputed = after[
        "community_code_in_code_table"
    ]  # waits for the decision with the keys it was disputed on
    assert disputed.id == community.id and disputed.state == TicketState.DISPUTED
    assert _keys(ctx, disputed) == {BAD_COMMUNITY} and disputed.key_count == 1
    with ctx.sessions() as session:
        verified = session.get(QualityTicketRow, name.id)
        run = session.get(QualityRunRow, checked.run_id)
    assert (
        verified.state == TicketState.VERIFIED and verified.answered_at == delivered
    )  # answered by delivering
    assert (
        run.version == 3 and run.started_by == VERIFIER and run.as_of == shanghai_date(delivered).isoformat()
    )

    tickets.decide(ctx, operator, ticket_label(community.id), uphold=True, comment="新设社区，异议成立")
    again = run_quality(
        ctx, operator, DATASET
    )  # the same version: only what the dispute did not cover is new
    (raised,) = again.raised
    assert _open_by_rule(ctx)["community_code_in_code_table"].id == raised
    with ctx.sessions() as session:
        assert _keys(ctx, session.get(QualityTicketRow, raised)) == {d}
    assert again.followed == [] and again.verified == []
    assert ctx.verify_audit().ok


def test_a_failed_verification_leaves_the_version_published_and_says_so(sqlite_ctx, county, spark, tmp_path, monkeypatch):  # fmt: skip
    ctx = sqlite_ctx
    deliver(ctx, county, [DATASET])
    run_quality(ctx, principal_for(ctx, "operator-1"), DATASET)
    before = {t.rule_id: t.state for t in _open_by_rule(ctx).values()}
    assert before
    suites = ctx.settings.home_dir / "quality" / "suites"  # an operator's local suite, now broken
    suites.mkdir(parents=True)
    (suites / f"{DATASET}.yaml").write_text(
        f"dataset: {DATASET}\nrules:\n- id: x\n  check: nonsense\n", encoding="utf-8"
    )

    monkeypatch.setenv("SANDBOX_HOME", str(ctx.settings.home_dir))
    monkeypatch.delenv("SANDBOX_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    delivery = tmp_path / "v2.parquet"
    pq.write_table(raw_table(ctx, DATASET), delivery)
    result = CliRunner().invoke(app, ["--as", "provider-minzheng", "ingest", DATASET, str(delivery)])

    assert result.exit_code == 0, result.output
    assert version_path(ctx, _version(ctx, 2)).is_dir()  # published
    assert (
        "整改核验未能完成（E1001）" in result.output
        and "verifying the open tickets on v2 failed (E1001)" in result.output
    )
    assert {t.rule_id: t.state for t in _open_by_rule(ctx).values()} == before
    checked = delivery_check(ctx, principal_for(ctx, "provider-minzheng"), DATASET, 2)
    assert checked.error == "E1001" and checked.run_id is None
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == FAILED)).one()
    assert event.object_id == f"{DATASET}@v2" and event.actor == VERIFIER
    log = ctx.settings.home_dir / json.loads(event.details)["log"]  # the traceback, for operators
    assert "SuiteError" in log.read_text(encoding="utf-8")
    assert ctx.verify_audit().ok


def test_fixing_data_never_lowers_the_providers_score(sqlite_ctx, county, spark, tmp_path):
    ctx = sqlite_ctx
    deliver(ctx, county, [DATASET])
    operator, provider = principal_for(ctx, "operator-1"), principal_for(ctx, "provider-minzheng")
    first = run_quality(ctx, operator, DATASET)
    raised = _open_by_rule(ctx)
    later = max(date.fromisoformat(t.due_on) for t in raised.values()) + timedelta(days=30)
    tickets.acknowledge(
        ctx, provider, ticket_label(raised["institution_uscc_valid_uscc"].id)
    )  # answered, not fixed
    card_before = build_scorecard(ctx, "minzheng", today=later)

    table = raw_table(ctx, DATASET)
    keys = table.column(KEY).to_pylist()
    first_duplicate = keys.index(DUPLICATE)
    fixed = table.filter(pa.array([i != first_duplicate for i in range(len(keys))]))  # the extra row removed
    valid_community = table.column("community_code")[keys.index(_clean_keys(table)[0])].as_py()
    fixed = _edited(fixed, "community_code", {BAD_COMMUNITY: valid_community})
    fixed = _edited(fixed, "name", {NO_NAME: "云泽市补录养老院"})
    fixed = _edited(fixed, "occupied_beds", {OUT_OF_RANGE: 0, BEDS_ORDER: 90})
    redeliver(ctx, DATASET, fixed, tmp_path)
    checked = delivery_check(ctx, provider, DATASET, 2)

    with ctx.sessions() as session:
        run = session.get(QualityRunRow, checked.run_id)
        rules = {r.rule_id: r for r in session.scalars(select(QualityRuleResultRow).where(QualityRuleResultRow.run_id == run.id))}  # fmt: skip
    assert run.version == 2 and run.score > first.score  # five defects fewer
    dimensions = json.loads(run.dimension_scores_json)
    assert all(dimensions[d] >= score for d, score in first.dimension_scores.items())
    # every rule: the duplicate's extra row removed must not make the unfixed USCC rule's share worse
    assert all(rules[o.rule.id].score >= scoring.rule_score(o) for o in first.outcomes)
    unfixed = next(o for o in first.outcomes if o.rule.id == "institution_uscc_valid_uscc")
    assert rules[unfixed.rule.id].score == scoring.rule_score(unfixed) < 100
    assert len(checked.verified) == 5 and checked.raised == ()

    card = build_scorecard(ctx, "minzheng", today=later)
    assert card.quality_score >= card_before.quality_score
    # the five fixed by delivering count as answered on time, like the one merely acknowledged
    assert card.answered == len(raised) and card.answered_on_time_share == 1.0 and card.overdue_share == 0.0
    assert card_before.overdue_share > card.overdue_share
    assert card.median_response_hours is not None and card.open_tickets == 1
