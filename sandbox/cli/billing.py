"""``sandbox billing``: what each consumer owes per product for a month (the delivery API's metering)."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.common import console, friendly_errors, remote_or_local
from sandbox.cli.output import Col, Format, FormatOption, emit

COLUMNS = [
    Col("consumer", "使用方", "consumer", ident=True),
    Col("consumer_name", "名称", "name"),
    Col("product", "数据产品", "product", ident=True),
    Col("charging", "收费", "charging"),
    Col("days", "天数", "days"),
    Col("requests", "请求数", "requests"),
    Col("rows", "行数", "rows"),
    Col("bytes", "字节", "bytes"),
    Col("amount_yuan", "应付（元）", "owed (yuan)"),
]


def register(app: typer.Typer) -> None:
    app.command()(billing)


@friendly_errors
def billing(
    month: Annotated[
        str | None,
        typer.Option("--month", metavar="YYYY-MM", help="月份，缺省为本月 / month; this month by default"),
    ] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """各使用方按产品的应付费用（使用方只看本机构）/ what each consumer owes per product (a consumer sees its own)."""
    from sandbox.products import metering

    month = metering.check_month(month)
    rows = remote_or_local(
        lambda c: c.get("/delivery/billing", params={"month": month}),
        lambda ctx, who: metering.billing(ctx, who, month),
    )
    emit(console, f"计费 {month} / billing {month}", COLUMNS, rows, fmt)
