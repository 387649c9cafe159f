"""The ticket lifecycle on real runs: fixed data is verified by the next version as it is delivered,
an upheld dispute is never raised again, a fix that fixed nothing is reopened — on SQLite and on
PostgreSQL."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from sandbox.domain.errors import IllegalTransition, NotFoundError, PermissionDenied
from sandbox.domain.quality import MANUAL_RULE, TicketState, ticket_label
from sandbox.governance.access import principal_for
from sandbox.governance.workdays import add_working_days
from sandbox.quality import tickets
from sandbox.quality.runner import run_quality
from sandbox.quality.tickets import shanghai_today
from sandbox.quality.verification import delivery_check
from sandbox.store.models import AuditEventRow
from tests.quality.conftest import county_as_of, deliver, raw_table, redeliver

DATASET = "elderly_care_institutions"  # 民政局; 31 rows, no references: quick to re-run


def _by_rule(ctx) -> dict[str, object]:
    return {
        t.rule_id: t for t in tickets.list_tickets(ctx, principal_for(ctx, "operator-1"), dataset_id=DATASET)
    }


def test_fix_verify_reopen_and_upheld_dispute(ctx, county, spark, tmp_path):
    deliver(ctx, county, [DATASET])
    operator, provider = principal_for(ctx, "operator-1"), principal_for(ctx, "provider-minzheng")
    as_of = county_as_of(county)
    first = run_quality(ctx, operator, DATASET, as_of=as_of)
    assert first.raised and not first.verified
    opened = _by_rule(ctx)
    missing, disputed, ordered = (
        opened["name_required"],
        opened["occupied_beds_in_range"],
        opened["occupied_beds_not_after_beds"],
    )
    assert missing.due_on == add_working_days(shanghai_today(), 5).due_on.isoformat()
    assert missing.column_label == "name" and missing.key_count == 1 and missing.keys_path

    with pytest.raises(IllegalTransition):  # fixed before acknowledged
        tickets.mark_fixed(ctx, provider, ticket_label(missing.id), "补录")
    with pytest.raises(NotFoundError):  # another provider does not even see it
        tickets.acknowledge(ctx, principal_for(ctx, "provider-gongan"), ticket_label(missing.id))
    tickets.acknowledge(ctx, provider, ticket_label(missing.id))
    tickets.mark_fixed(ctx, provider, ticket_label(missing.id), "已补录机构名称")
    tickets.acknowledge(ctx, provider, ticket_label(ordered.id))
    tickets.mark_fixed(ctx, provider, ticket_label(ordered.id), "说是改了，其实没改")
    tickets.dispute(ctx, provider, ticket_label(disputed.id), "该机构为新建机构，在住人数登记口径不同")
    with pytest.raises(PermissionDenied):  # providers do not decide their own disputes
        tickets.decide(ctx, provider, ticket_label(disputed.id), uphold=True, comment="自己裁决")
    tickets.decide(ctx, operator, ticket_label(disputed.id), uphold=True, comment="核实口径，异议成立")

    table = raw_table(ctx, DATASET)
    names = table.column("name")
    fixed = table.set_column(
        table.schema.get_field_index("name"), "name", pc.fill_null(names, "云泽市补录养老院")
    )
    assert redeliver(ctx, DATASET, fixed, tmp_path) == 2  # the delivery's own run re-checks the tickets
    checked = delivery_check(ctx, provider, DATASET, 2)

    after = _by_rule(ctx)
    assert (
        after["name_required"].state == TicketState.VERIFIED and after["name_required"].remaining_count == 0
    )
    assert after["occupied_beds_not_after_beds"].state == TicketState.REOPENED
    assert after["occupied_beds_in_range"].state == TicketState.UPHELD
    assert checked.verified == (ticket_label(missing.id),) and checked.reopened == (ticket_label(ordered.id),)
    assert checked.raised == ()  # nothing new: the excepted key is not raised again, the rest are on tickets

    again = run_quality(ctx, operator, DATASET, as_of=as_of)  # the same version again: nothing moves
    assert again.raised == again.verified == again.reopened == again.followed == []
    in_range = next(o for o in again.outcomes if o.rule.id == "occupied_beds_in_range")
    assert in_range.unexpected_rows == 1 and in_range.excepted_keys == 1 and in_range.new_keys == 0
    with ctx.sessions() as session:
        actions = [
            e.action
            for e in session.query(AuditEventRow).filter(AuditEventRow.object_type == "quality_ticket")
        ]
    assert {
        "quality_ticket.raise",
        "quality_ticket.verify",
        "quality_ticket.reopen",
        "quality_ticket.uphold",
    } <= set(actions)
    assert ctx.verify_audit().ok


def test_manual_request_by_operator_checked_by_operator(sqlite_ctx, county):
    ctx = sqlite_ctx
    deliver(ctx, county, [])
    operator, provider = principal_for(ctx, "operator-1"), principal_for(ctx, "provider-minzheng")
    with pytest.raises(PermissionDenied):  # a developer outside any scenario using the dataset
        tickets.raise_request(ctx, principal_for(ctx, "developer-1"), DATASET, "床位数疑似偏大")
    request = tickets.raise_request(ctx, operator, DATASET, "开发中发现床位数疑似偏大，请核实", column="beds")
    assert request.rule_id == MANUAL_RULE and request.provider_id == "minzheng" and request.keys_path is None
    ref = ticket_label(request.id)
    tickets.acknowledge(ctx, provider, ref)
    tickets.mark_fixed(ctx, provider, ref, "已核实并更正")
    with pytest.raises(PermissionDenied):
        tickets.confirm_request(ctx, provider, ref, verified=True, comment="")
    assert (
        tickets.confirm_request(ctx, operator, ref, verified=True, comment="抽查无误").state
        == TicketState.VERIFIED
    )
    with pytest.raises(NotFoundError):  # invisible to another provider, as if it did not exist
        tickets.get_ticket(ctx, principal_for(ctx, "provider-gongan"), ref)
