"""``sandbox register list|clear``: the release register the gate checks new releases against."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.common import DatasetArg, console, friendly_errors, id_option, remote_or_local
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.domain.identifiers import IdKind

register_app = typer.Typer(
    help="发布登记（防差分）/ release register (against differencing)", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")


@register_app.command("list")
@friendly_errors
def list_(
    dataset: Annotated[
        str | None, id_option(IdKind.DATASET, "--dataset", help="只看该数据集 / only this dataset")
    ] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """登记的发布及其大小 / releases in the register and what they keep."""
    from dataclasses import asdict

    from sandbox.governance.release_register import releases

    columns = [
        Col("release", "发布", "release", ident=True, show=str),
        Col("run_id", "运行", "run", ident=True),
        Col("job_id", "作业", "job", ident=True),
        Col("datasets", "数据集", "datasets", show=", ".join),
        Col("cells", "单元格", "cells"),
        Col("member_bytes", "主体字节", "bytes"),
        Col("released_at", "发布时间", "released", time=True),
        Col("cleared_at", "清除时间", "cleared", time=True),
    ]
    rows = remote_or_local(
        lambda c: c.get("/provider/register", params={"dataset": dataset}),
        lambda ctx, who: [asdict(r) for r in releases(ctx, who, dataset)],
    )
    emit(console, "发布登记 / release register", columns, rows, fmt)


@register_app.command("clear")
@friendly_errors
def clear(
    dataset: DatasetArg,
    reason: Annotated[str, typer.Option("--reason", help="清除理由（记入审计）/ why (audited)")],
) -> None:
    """清除某数据集的发布登记（仅限该数据集的提供单位）/ clear a dataset's releases (its provider only)."""
    from sandbox.governance.release_register import clear as clear_releases

    cleared = remote_or_local(
        lambda c: c.post(f"/provider/register/{dataset}/clear", json={"reason": reason})["cleared"],
        lambda ctx, who: clear_releases(ctx, who, dataset, reason=reason),
    )
    console.print(f"已清除发布 / releases cleared: {cleared}")
