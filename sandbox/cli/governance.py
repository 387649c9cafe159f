"""``sandbox authorization`` and ``sandbox disclose``: the operator's authorizations and the disclosure report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import acting, console, context, friendly_errors, parse_date, table

auth_app = typer.Typer(help="授权 / authorizations", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app, name="authorization")
    app.command()(disclose)


@auth_app.command("grant")
@friendly_errors
def auth_grant(
    operator: Annotated[str, typer.Option(help="运营机构 / operator organization")],
    dataset: Annotated[list[str], typer.Option(help="授权范围数据集，可多次 / dataset in scope, repeatable")],
    starts_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    ends_on: Annotated[str, typer.Option(help="YYYY-MM-DD（至多 5 年 / at most 5 years）")],
    content: Annotated[str, typer.Option(help="授权内容 / content")],
) -> None:
    """授予运营机构授权 / grant an operator an authorization."""
    from sandbox.governance.authorizations import grant

    ctx = context()
    row = grant(ctx, acting(ctx), operator_org=operator, datasets=dataset, starts_on=parse_date(starts_on, "--starts-on"),
                ends_on=parse_date(ends_on, "--ends-on"), content=content)  # fmt: skip
    console.print(f"已授权 / granted: {row.id}（{row.starts_on} – {row.ends_on}）")


@auth_app.command("revoke")
@friendly_errors
def auth_revoke(authorization_id: str, reason: Annotated[str, typer.Option(help="理由 / reason")]) -> None:
    """撤销授权：令牌失效、样例删除、暂存清空 / revoke: tokens end, samples deleted, staging cleared."""
    from sandbox.governance.authorizations import revoke

    ctx = context()
    outcome = revoke(ctx, acting(ctx), authorization_id, reason)
    console.print(f"{authorization_id} 已撤销 / revoked: {outcome}")


@auth_app.command("expire")
@friendly_errors
def auth_expire() -> None:
    """处理已到期的授权 / expire authorizations whose period has ended."""
    from sandbox.governance.authorizations import expire_due

    ctx = context()
    ended = expire_due(ctx, acting(ctx))
    console.print(f"已到期 / expired: {', '.join(ended) or '无 / none'}")


@auth_app.command("list")
@friendly_errors
def auth_list() -> None:
    """列出授权 / list authorizations."""
    import json

    from sandbox.governance.authorizations import list_authorizations

    ctx = context()
    acting(ctx)
    rows = table(
        "授权 / authorizations", "id", "运营机构 / operator", "范围 / scope", "期限 / period", "状态 / state"
    )
    for a in list_authorizations(ctx):
        rows.add_row(
            a.id,
            a.operator_org_id,
            ", ".join(json.loads(a.datasets_json)),
            f"{a.starts_on} – {a.ends_on}",
            a.state,
        )
    console.print(rows)


@friendly_errors
def disclose(
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("disclosure"),
) -> None:
    """生成信息披露报告（JSON 与 Markdown）/ write the disclosure report (JSON and Markdown)."""
    from sandbox.governance.disclosure import disclose as write

    ctx = context()
    json_path, md_path = write(ctx, acting(ctx), out)
    console.print(f"已生成 / written: {json_path}, {md_path}")
