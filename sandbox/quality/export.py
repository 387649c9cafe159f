"""Tickets for providers as XLSX or CSV: one row per failing key, naming the failing column only.

This is where failing keys leave the platform, to the provider who owns the records: only the
tickets the actor may see are exported, and each export is audited.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import Workbook

from sandbox.catalog.service import get_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput
from sandbox.domain.quality import TicketState, ticket_label
from sandbox.governance.access import Principal
from sandbox.quality import zone
from sandbox.quality.failing_keys import KeysRef, read_keys
from sandbox.quality.tickets import get_ticket, list_tickets
from sandbox.store.models import QualityTicketRow

TICKET_HEADER = [
    "工单 ticket",
    "数据集 dataset",
    "规则 rule",
    "不合格列 failing column",
    "维度 dimension",
    "严重度 severity",
    "状态 state",
    "键数 keys",
    "未解决 remaining",
    "截止日 due",
    "问题 issue",
    "建议 suggested fix",
]
KEY_HEADER = [
    "工单 ticket",
    "数据集 dataset",
    "规则 rule",
    "不合格列 failing column",
    "键列 key columns",
    "键 key",
]
FORMATS = ("xlsx", "csv")


def _summary(ticket: QualityTicketRow) -> list:
    state = TicketState(ticket.state)
    return [
        ticket_label(ticket.id),
        ticket.dataset_id,
        ticket.rule_id,
        ticket.column_label,
        ticket.dimension,
        ticket.severity,
        f"{state.zh} {state.value}",
        ticket.key_count,
        ticket.remaining_count,
        ticket.due_on,
        ticket.description,
        ticket.suggested_fix,
    ]


def _key_rows(ctx: PlatformContext, ticket: QualityTicketRow) -> list[list]:
    if not ticket.keys_path:
        return []
    keys = list(get_dataset(ctx, ticket.dataset_id).keys)
    return [
        [
            ticket_label(ticket.id),
            ticket.dataset_id,
            ticket.rule_id,
            ticket.column_label,
            "|".join(keys),
            "|".join("" if row[k] is None else str(row[k]) for k in keys),
        ]
        for row in read_keys(KeysRef(zone.absolute(ctx.settings, ticket.keys_path), ticket.rule_id))
    ]


def export_tickets(
    ctx: PlatformContext,
    actor: Principal,
    out: Path,
    *,
    refs: list[str] | None = None,
    dataset_id: str | None = None,
    state: str | None = None,
) -> Path:
    """Write the tickets ``actor`` may see (all of them, or ``refs``) to ``out``; the suffix picks the format."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInput(
            f"导出文件须以 .xlsx 或 .csv 结尾：{out}", f"the export file must end in .xlsx or .csv: {out}"
        )
    tickets = (
        [get_ticket(ctx, actor, ref) for ref in refs]
        if refs
        else list_tickets(ctx, actor, dataset_id=dataset_id, state=state)
    )
    keys = {ticket.id: _key_rows(ctx, ticket) for ticket in tickets}
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = "工单 tickets"
        sheet.append(TICKET_HEADER)
        for ticket in tickets:
            sheet.append(_summary(ticket))
        key_sheet = book.create_sheet("不合格键 keys")
        key_sheet.append(KEY_HEADER)
        for ticket in tickets:
            for row in keys[ticket.id]:
                key_sheet.append(row)
        book.save(out)
    else:
        with out.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads it as UTF-8
            writer = csv.writer(handle)
            writer.writerow(KEY_HEADER + TICKET_HEADER[4:])
            for ticket in tickets:
                extra = _summary(ticket)[4:]
                rows = keys[ticket.id] or [
                    [ticket_label(ticket.id), ticket.dataset_id, ticket.rule_id, ticket.column_label, "", ""]
                ]
                for row in rows:
                    writer.writerow(row + extra)
    with ctx.transaction() as session:
        ctx.audit(
            session,
            "quality.tickets_exported",
            "quality_ticket",
            "*",
            actor=actor.username,
            format=fmt,
            tickets=json.dumps([ticket_label(t.id) for t in tickets]),
            keys=sum(map(len, keys.values())),
        )
    return out
