"""``sandbox authorization`` and ``sandbox disclose``: the operator's authorizations and the disclosure report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import (
    AuthorizationArg,
    IdParam,
    console,
    friendly_errors,
    parse_date,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.domain.authorization import AuthorizationState
from sandbox.domain.identifiers import IdKind
from sandbox.domain.labels import label_of

auth_app = typer.Typer(help="授权 / authorizations", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app, name="authorization")
    app.command()(disclose)


@auth_app.command("grant")
@friendly_errors
def auth_grant(
    operator: Annotated[
        str, typer.Option(parser=IdParam(IdKind.ORGANIZATION), help="运营机构 / operator organization")
    ],
    dataset: Annotated[
        list[str],
        typer.Option(
            parser=IdParam(IdKind.DATASET), help="授权范围数据集，可多次 / dataset in scope, repeatable"
        ),
    ],
    starts_on: Annotated[str, typer.Option(help="开始日期 / start date, YYYY-MM-DD")],
    ends_on: Annotated[
        str, typer.Option(help="结束日期 / end date, YYYY-MM-DD（至多 5 年 / at most 5 years）")
    ],
    content: Annotated[str, typer.Option(help="授权内容 / content")],
) -> None:
    """授予运营机构授权 / grant an operator an authorization."""
    from sandbox.governance.authorizations import authorization_view, grant

    starts, ends = parse_date(starts_on, "--starts-on"), parse_date(ends_on, "--ends-on")
    a = remote_or_local(
        lambda c: c.post("/admin/authorizations", json={"operator": operator, "datasets": dataset,
                                                        "starts_on": str(starts), "ends_on": str(ends), "content": content}),
        lambda ctx, who: authorization_view(grant(ctx, who, operator_org=operator, datasets=dataset, starts_on=starts,
                                                  ends_on=ends, content=content)),
    )  # fmt: skip
    period = f"{a['authorization']}（{a['starts_on']} – {a['ends_on']}）"
    if a["state"] == AuthorizationState.EXPIRED.value:
        console.print(f"{period}期限已过，已登记为已到期，不启用任何场景 / its period is over: recorded as expired; "
                      "it enables nothing", highlight=False)  # fmt: skip
        return
    console.print(f"已授权 / granted: {period}", highlight=False)


def _print_ended(authorization_id: str, outcome: dict) -> None:
    console.print(
        f"{authorization_id}: 结束场景 / scenarios ended: {', '.join(outcome['scenarios_ended']) or '无 / none'}；"
        f"仍由其他授权覆盖 / still covered by another authorization: "
        f"{', '.join(outcome['scenarios_still_covered']) or '无 / none'}；"
        f"吊销令牌 / tokens revoked: {outcome['tokens_revoked']}",
        highlight=False,
    )


@auth_app.command("revoke")
@friendly_errors
def auth_revoke(
    authorization_id: AuthorizationArg, reason: Annotated[str, typer.Option(help="理由 / reason")]
) -> None:
    """撤销授权：仅结束无其他有效授权覆盖的场景 / revoke: ends what no other authorization still covers."""
    from sandbox.governance.authorizations import revoke

    outcome = remote_or_local(
        lambda c: c.post(f"/admin/authorizations/{authorization_id}/revoke", json={"reason": reason}),
        lambda ctx, who: revoke(ctx, who, authorization_id, reason),
    )
    _print_ended(authorization_id, outcome)


@auth_app.command("expire")
@friendly_errors
def auth_expire() -> None:
    """处理已到期的授权 / expire authorizations whose period has ended."""
    from sandbox.governance.authorizations import expire_due

    ended = remote_or_local(lambda c: c.post("/admin/authorizations/expire"), expire_due)
    if not ended:
        console.print("没有到期的授权 / no authorization is due")
    for authorization_id, outcome in ended.items():
        _print_ended(authorization_id, outcome)


@auth_app.command("list")
@friendly_errors
def auth_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出授权 / list authorizations."""
    from sandbox.governance.authorizations import authorization_view, list_authorizations

    columns = [
        Col("authorization", "授权", "authorization", ident=True),
        Col("operator", "运营机构", "operator", ident=True),
        Col("datasets", "范围", "scope"),
        Col("starts_on", "开始", "starts"),
        Col("ends_on", "结束", "ends"),
        Col("state", "状态", "state", show=lambda v: label_of(AuthorizationState, v)),
        Col("end_reason", "结束原因", "ended because"),
    ]
    rows = remote_or_local(
        lambda c: c.get("/admin/authorizations"),
        lambda ctx, _who: [authorization_view(a) for a in list_authorizations(ctx)],
    )
    emit(console, "授权 / authorizations", columns, rows, fmt)


@friendly_errors
def disclose(
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("disclosure"),
) -> None:
    """生成信息披露报告（JSON 与 Markdown）/ write the disclosure report (JSON and Markdown)."""
    from sandbox.governance.disclosure import disclose as write
    from sandbox.governance.disclosure import to_markdown, write_files

    def fetch(client):  # one report, so both files carry the same generation time
        report = client.get("/auditor/disclosure")
        return write_files(out, report, to_markdown(report))

    json_path, md_path = remote_or_local(fetch, lambda ctx, who: write(ctx, who, out))
    console.print(f"已生成 / written: {json_path}, {md_path}")
