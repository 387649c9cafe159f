"""``sandbox org``, ``user``, ``scenario``, ``authorization`` and ``disclose``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import acting, console, context, friendly_errors, parse_date, table
from sandbox.display import shanghai_time
from sandbox.domain.errors import InvalidInput
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.scenario import ScenarioCategory

org_app = typer.Typer(help="机构 / organizations", no_args_is_help=True)
user_app = typer.Typer(help="用户、资质与令牌 / users, clearance and API tokens", no_args_is_help=True)
scenario_app = typer.Typer(help="应用场景（一场景一审核）/ scenarios", no_args_is_help=True)
auth_app = typer.Typer(help="授权 / authorizations", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(scenario_app, name="scenario")
    app.add_typer(auth_app, name="authorization")
    app.command()(disclose)


def _enum(kind, value: str, name: str):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInput(
            f"{name} 的取值 {value!r} 无效（可选：{allowed}）",
            f"invalid {name} {value!r} (allowed: {allowed})",
        ) from None


# -- organizations and users -------------------------------------------------------------


@org_app.command("add")
@friendly_errors
def org_add(
    org_id: str,
    name: Annotated[str, typer.Option(help="机构名称 / name")],
    kind: Annotated[str, typer.Option(help="provider|agency|operator|developer|consumer|regulator")],
    provider: Annotated[str | None, typer.Option(help="目录中的数据提供单位 / catalog provider id")] = None,
) -> None:
    """新增机构 / add an organization."""
    from sandbox.governance.identities import create_org

    ctx = context()
    create_org(ctx, acting(ctx), org_id, name, _enum(OrgKind, kind, "--kind"), provider)
    console.print(f"已创建机构 / organization created: {org_id}")


@org_app.command("list")
@friendly_errors
def org_list() -> None:
    """列出机构 / list organizations."""
    from sandbox.governance.identities import list_orgs

    ctx = context()
    acting(ctx)
    rows = table("机构 / organizations", "id", "名称 / name", "类型 / kind", "数据提供单位 / provider")
    for org in list_orgs(ctx):
        rows.add_row(org.id, org.name, org.kind, org.provider_id or "")
    console.print(rows)


@user_app.command("add")
@friendly_errors
def user_add(
    username: str,
    org: Annotated[str, typer.Option(help="所属机构 / organization id")],
    role: Annotated[list[str], typer.Option(help="角色，可多次 / role, repeatable")],
    name: Annotated[str, typer.Option(help="显示名 / display name")] = "",
) -> None:
    """新增用户 / add a user."""
    from sandbox.governance.identities import create_user

    ctx = context()
    roles = {_enum(Role, r, "--role") for r in role}
    create_user(ctx, acting(ctx), username, name or username, org, roles)
    console.print(f"已创建用户 / user created: {username}")


@user_app.command("list")
@friendly_errors
def user_list() -> None:
    """列出用户及资质 / list users and their clearance."""
    from sandbox.governance.access import developer_cleared
    from sandbox.governance.identities import list_users

    ctx = context()
    acting(ctx)
    rows = table("用户 / users", "用户 / user", "机构 / org", "角色 / roles", "身份核验 / verified", "备案 / filing",
                 "保密协议 / NDA", "可操作 / cleared")  # fmt: skip
    for user, org in list_users(ctx):
        developer = Role.DEVELOPER.value in user.role_set
        rows.add_row(user.username, org.id, user.roles, "✓" if user.identity_verified_at else "", user.filing_no or "",
                     f"{user.nda_version} {user.nda_signed_on}" if user.nda_version else "",
                     ("✓" if developer_cleared(user) else "✗") if developer else "—")  # fmt: skip
    console.print(rows)


@user_app.command("verify-identity")
@friendly_errors
def user_verify(username: str) -> None:
    """登记身份核验 / record identity verification."""
    from sandbox.governance.identities import verify_identity

    ctx = context()
    verify_identity(ctx, acting(ctx), username)
    console.print(f"{username}: 已核验身份 / identity verified")


@user_app.command("file")
@friendly_errors
def user_file(username: str, filing_no: Annotated[str, typer.Option("--filing-no", help="备案号")]) -> None:
    """登记备案 / record the registration (备案) number."""
    from sandbox.governance.identities import record_filing

    ctx = context()
    record_filing(ctx, acting(ctx), username, filing_no)
    console.print(f"{username}: 已备案 / filed {filing_no}")


@user_app.command("sign-nda")
@friendly_errors
def user_nda(
    username: str,
    version: Annotated[str, typer.Option(help="保密协议版本 / agreement version")],
    signed_on: Annotated[str, typer.Option(help="签署日期 / YYYY-MM-DD")],
) -> None:
    """登记保密协议 / record the signed confidentiality agreement."""
    from sandbox.governance.identities import record_nda

    ctx = context()
    record_nda(ctx, acting(ctx), username, version, parse_date(signed_on, "--signed-on"))
    console.print(f"{username}: 保密协议 {version} / confidentiality agreement recorded")


@user_app.command("token-create")
@friendly_errors
def token_create(
    username: str,
    days: Annotated[int, typer.Option(help="有效天数 / lifetime in days")] = 30,
    label: Annotated[str, typer.Option(help="用途 / label")] = "",
) -> None:
    """签发 API 令牌（只显示一次）/ issue an API token (shown once)."""
    from sandbox.governance.identities import issue_token

    ctx = context()
    token_id, secret = issue_token(ctx, acting(ctx), username, days=days, label=label)
    console.print(f"令牌 / token {token_id}: {secret}")
    console.print("请妥善保存，之后无法再次查看 / store it now; it cannot be shown again")


@user_app.command("token-revoke")
@friendly_errors
def token_revoke(
    token_id: str, reason: Annotated[str, typer.Option(help="理由 / reason")] = "revoked"
) -> None:
    """吊销 API 令牌 / revoke an API token."""
    from sandbox.governance.identities import revoke_token

    ctx = context()
    revoke_token(ctx, acting(ctx), token_id, reason)
    console.print(f"已吊销 / revoked: {token_id}")


@user_app.command("token-list")
@friendly_errors
def token_list() -> None:
    """列出令牌（管理员看全部）/ list tokens (admins see all)."""
    from sandbox.governance.identities import list_tokens

    ctx = context()
    rows = table("令牌 / tokens", "id", "用户 / user", "用途 / label", "到期 / expires", "吊销 / revoked")
    for t in list_tokens(ctx, acting(ctx)):
        rows.add_row(
            t.id,
            t.username,
            t.label,
            shanghai_time(t.expires_at),
            shanghai_time(t.revoked_at) if t.revoked_at else "",
        )
    console.print(rows)


# -- scenarios ----------------------------------------------------------------------------


def _column_requests(values: list[str]):
    from sandbox.governance.scenarios import ColumnRequest

    requests = []
    for value in values:
        target, _, justification = value.partition("=")
        dataset, _, column = target.partition(".")
        if not dataset or not column:
            raise InvalidInput(
                f"列申请须写成 数据集.列=必要性说明：{value!r}",
                f"a column request reads dataset.column=justification: {value!r}",
            )
        requests.append(ColumnRequest(dataset.strip(), column.strip(), justification.strip()))
    return requests


@scenario_app.command("propose")
@friendly_errors
def scenario_propose(
    scenario_id: str,
    title: Annotated[str, typer.Option(help="场景名称 / title")],
    category: Annotated[str, typer.Option(help="公共治理|公益事业|产业发展|行业发展")],
    column: Annotated[
        list[str], typer.Option(help="数据集.列=必要性说明 / dataset.column=justification, repeatable")
    ],
    product: Annotated[list[str], typer.Option(help="拟开发产品 / planned product, repeatable")],
    description: Annotated[str, typer.Option(help="场景描述 / description")] = "",
    value: Annotated[str, typer.Option(help="经济和社会价值 / economic and social value")] = "",
) -> None:
    """提出场景建设方案（草稿）/ propose a scenario (draft)."""
    from sandbox.governance.scenarios import propose

    ctx = context()
    propose(ctx, acting(ctx), scenario_id=scenario_id, title=title, category=_enum(ScenarioCategory, category, "--category"),
            description=description, value_statement=value, planned_products=product,
            columns=_column_requests(column))  # fmt: skip
    console.print(f"场景草稿已创建 / draft created: {scenario_id}")


def _scenario_action(name: str, help_text: str, call):
    @scenario_app.command(name, help=help_text)
    @friendly_errors
    def command(scenario_id: str, comment: Annotated[str, typer.Option(help="意见 / comment")] = "") -> None:
        ctx = context()
        call(ctx, acting(ctx), scenario_id, comment)
        console.print(f"{scenario_id}: {name} ✓")

    return command


def _submit(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import submit

    for consent in submit(ctx, actor, scenario_id):
        console.print(f"  → {consent.provider_id}: {consent.dataset_id} 答复期限 / due {consent.due_on}")


def _start_review(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import start_review

    start_review(ctx, actor, scenario_id)


def _approve(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import approve

    approve(ctx, actor, scenario_id, comment)


def _reject(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import reject

    reject(ctx, actor, scenario_id, comment)


def _withdraw(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import withdraw

    withdraw(ctx, actor, scenario_id)


def _activate(ctx, actor, scenario_id, _comment):
    from sandbox.governance.scenarios import activate

    activate(ctx, actor, scenario_id)


def _revoke(ctx, actor, scenario_id, comment):
    from sandbox.governance.scenarios import revoke

    revoke(ctx, actor, scenario_id, comment or "revoked")


_scenario_action("submit", "提交审核并向数据提供单位发出申请 / submit and request provider consent", _submit)
_scenario_action("start-review", "开始审核（非提出人）/ start review (not the proposer)", _start_review)
_scenario_action("approve", "批准（非提出人）/ approve (not the proposer)", _approve)
_scenario_action("reject", "驳回 / reject", _reject)
_scenario_action("withdraw", "撤回（提出人）/ withdraw (proposer)", _withdraw)
_scenario_action("activate", "启用（需有效授权）/ activate (needs a covering authorization)", _activate)
_scenario_action("revoke", "撤销并删除样例数据 / revoke and delete its samples", _revoke)


@scenario_app.command("consent")
@friendly_errors
def scenario_consent(
    scenario_id: str,
    dataset: str,
    grant: Annotated[bool, typer.Option("--grant/--refuse", help="同意或拒绝 / grant or refuse")],
    refuse_column: Annotated[
        list[str] | None, typer.Option(help="拒绝的列 / column to refuse, repeatable")
    ] = None,
    comment: Annotated[str, typer.Option(help="意见 / comment")] = "",
) -> None:
    """数据提供单位答复数据使用申请 / a provider decides on a data-use request."""
    from sandbox.governance.scenarios import decide_consent

    ctx = context()
    consent = decide_consent(ctx, acting(ctx), scenario_id, dataset, grant=grant, refuse_columns=set(refuse_column or []),
                             comment=comment)  # fmt: skip
    console.print(f"{scenario_id}/{dataset}: {consent.state}")


@scenario_app.command("add-developer")
@friendly_errors
def scenario_add_developer(scenario_id: str, username: str) -> None:
    """为场景添加开发人员（须已签保密协议）/ add a cleared developer to the scenario."""
    from sandbox.governance.scenarios import add_member

    ctx = context()
    add_member(ctx, acting(ctx), scenario_id, username)
    console.print(f"{scenario_id}: + {username}")


@scenario_app.command("list")
@friendly_errors
def scenario_list() -> None:
    """列出场景 / list scenarios."""
    from sandbox.governance.scenarios import list_scenarios

    ctx = context()
    acting(ctx)
    rows = table(
        "场景 / scenarios",
        "id",
        "名称 / title",
        "类别 / category",
        "状态 / state",
        "提出人 / proposer",
        "审核人 / reviewer",
    )
    for s in list_scenarios(ctx):
        rows.add_row(s.id, s.title, s.category, s.state, s.proposer, s.reviewer or "")
    console.print(rows)


@scenario_app.command("show")
@friendly_errors
def scenario_show(scenario_id: str) -> None:
    """场景详情：申请的列、说明与答复 / a scenario's columns, justifications and consents."""
    from sandbox.governance.scenarios import get

    ctx = context()
    acting(ctx)
    s = get(ctx, scenario_id)
    console.print(f"[bold]{s.id}[/] {s.title}（{s.category}）— {s.state}；提出人 / proposer {s.proposer}")
    columns = table(
        "申请的列 / requested columns",
        "数据集 / dataset",
        "列 / column",
        "必要性说明 / justification",
        "答复 / status",
    )
    for c in s.columns:
        columns.add_row(c.dataset_id, c.column, c.justification, c.status)
    console.print(columns)
    consents = table("数据使用申请 / data-use requests", "数据集 / dataset", "提供单位 / provider", "状态 / state",
                     "期限 / due", "答复人 / decided by")  # fmt: skip
    for c in s.consents:
        consents.add_row(c.dataset_id, c.provider_id, c.state, c.due_on, c.decided_by or "")
    console.print(consents)
    if s.members:
        console.print("开发人员 / developers: " + ", ".join(m.username for m in s.members))


@scenario_app.command("requests")
@friendly_errors
def scenario_requests(overdue: Annotated[bool, typer.Option(help="只看逾期 / overdue only")] = False) -> None:
    """数据使用申请（数据提供单位只看本单位）/ data-use requests (providers see their own)."""
    from datetime import UTC, datetime

    from sandbox.governance.scenarios import consents_for

    ctx = context()
    today = datetime.now(UTC).date()
    rows = table("数据使用申请 / data-use requests", "场景 / scenario", "数据集 / dataset", "提供单位 / provider",
                 "状态 / state", "期限 / due")  # fmt: skip
    for c in consents_for(ctx, acting(ctx), overdue_on=today if overdue else None):
        late = c.state == "pending" and c.due_on < today.isoformat()
        rows.add_row(
            c.scenario_id,
            c.dataset_id,
            c.provider_id,
            c.state,
            f"[red]{c.due_on} 逾期 / overdue[/]" if late else c.due_on,
        )
    console.print(rows)


# -- authorizations -------------------------------------------------------------------------


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
