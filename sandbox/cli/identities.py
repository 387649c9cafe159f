"""``sandbox org`` and ``sandbox user``: organizations, users, their clearance and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from sandbox.cli.common import (
    IdParam,
    UserArg,
    acting,
    console,
    context,
    friendly_errors,
    id_argument,
    parse_date,
    parse_enum,
)
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.domain.identifiers import IdKind
from sandbox.domain.identity import OrgKind, Role
from sandbox.domain.labels import label_of

org_app = typer.Typer(help="机构 / organizations", no_args_is_help=True)
user_app = typer.Typer(help="用户、资质与令牌 / users, clearance and API tokens", no_args_is_help=True)

TokenArg = Annotated[str, id_argument(IdKind.TOKEN, metavar="TOKEN_ID")]


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")


@org_app.command("add")
@friendly_errors
def org_add(
    org_id: Annotated[str, id_argument(IdKind.ORGANIZATION, metavar="ORG")],
    name: Annotated[str, typer.Option(help="机构名称 / name")],
    kind: Annotated[
        str, typer.Option(help="机构类型 / kind: provider|agency|operator|developer|consumer|regulator")
    ],
    provider: Annotated[
        str | None,
        typer.Option(parser=IdParam(IdKind.PROVIDER), help="目录中的数据提供单位 / catalog provider id"),
    ] = None,
) -> None:
    """新增机构 / add an organization."""
    from sandbox.governance.identities import create_org

    ctx = context()
    create_org(ctx, acting(ctx), org_id, name, parse_enum(OrgKind, kind, "--kind"), provider)
    console.print(f"已创建机构 / organization created: {org_id}")


@org_app.command("list")
@friendly_errors
def org_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出机构 / list organizations."""
    from sandbox.governance.identities import list_orgs

    ctx = context()
    acting(ctx)
    columns = [
        Col("org", "机构", "org", ident=True),
        Col("name", "名称", "name"),
        Col("kind", "类型", "kind", show=lambda v: label_of(OrgKind, v)),
        Col("provider", "数据提供单位", "provider", ident=True),
    ]
    rows = [{"org": o.id, "name": o.name, "kind": o.kind, "provider": o.provider_id} for o in list_orgs(ctx)]
    emit(console, "机构 / organizations", columns, rows, fmt)


@user_app.command("add")
@friendly_errors
def user_add(
    username: UserArg,
    org: Annotated[str, typer.Option(parser=IdParam(IdKind.ORGANIZATION), help="所属机构 / organization id")],
    role: Annotated[list[str], typer.Option(help="角色，可多次 / role, repeatable: " + "|".join(Role))],
    name: Annotated[str, typer.Option(help="显示名 / display name")] = "",
) -> None:
    """新增用户 / add a user."""
    from sandbox.governance.identities import create_user

    ctx = context()
    roles = {parse_enum(Role, r, "--role") for r in role}
    create_user(ctx, acting(ctx), username, name or username, org, roles)
    console.print(f"已创建用户 / user created: {username}")


@user_app.command("list")
@friendly_errors
def user_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出用户及资质 / list users and their clearance."""
    from sandbox.governance.access import developer_cleared
    from sandbox.governance.identities import list_users

    ctx = context()
    acting(ctx)
    columns = [
        Col("user", "用户", "user", ident=True),
        Col("org", "机构", "org", ident=True),
        Col("roles", "角色", "roles", show=lambda roles: ", ".join(label_of(Role, r) for r in roles)),
        Col("identity_verified", "身份核验", "verified"),
        Col("filing_no", "备案", "filing"),
        Col("nda", "保密协议", "NDA"),
        Col("cleared", "可开发", "cleared"),
    ]
    rows = []
    for user, org in list_users(ctx):
        developer = Role.DEVELOPER.value in user.role_set
        rows.append({
            "user": user.username, "org": org.id, "roles": sorted(user.role_set),
            "identity_verified": bool(user.identity_verified_at), "filing_no": user.filing_no,
            "nda": f"{user.nda_version} {user.nda_signed_on}" if user.nda_version else None,
            "cleared": developer_cleared(user) if developer else None,
        })  # fmt: skip
    emit(console, "用户 / users", columns, rows, fmt)


@user_app.command("verify-identity")
@friendly_errors
def user_verify(username: UserArg) -> None:
    """登记身份核验 / record identity verification."""
    from sandbox.governance.identities import verify_identity

    ctx = context()
    verify_identity(ctx, acting(ctx), username)
    console.print(f"{username}: 已核验身份 / identity verified")


@user_app.command("file")
@friendly_errors
def user_file(
    username: UserArg, filing_no: Annotated[str, typer.Option("--filing-no", help="备案号 / filing number")]
) -> None:
    """登记备案 / record the registration (备案) number."""
    from sandbox.governance.identities import record_filing

    ctx = context()
    record_filing(ctx, acting(ctx), username, filing_no)
    console.print(f"{username}: 已备案 / filed {filing_no}")


@user_app.command("sign-nda")
@friendly_errors
def user_nda(
    username: UserArg,
    version: Annotated[str, typer.Option(help="保密协议版本 / agreement version")],
    signed_on: Annotated[str, typer.Option(help="签署日期 / YYYY-MM-DD")],
) -> None:
    """登记保密协议 / record the signed confidentiality agreement."""
    from sandbox.governance.identities import record_nda

    ctx = context()
    record_nda(ctx, acting(ctx), username, version, parse_date(signed_on, "--signed-on"))
    console.print(f"{username}: 保密协议 {version} / confidentiality agreement recorded")


@user_app.command("set-password")
@friendly_errors
def set_password(
    username: UserArg,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码 / read the password from stdin")
    ] = False,
) -> None:
    """设置网页登录密码（至少 12 个字符）/ set a user's web sign-in password (at least 12 characters)."""
    import sys

    from sandbox.governance.passwords import set_password as store

    ctx = context()
    actor = acting(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    store(ctx, actor, username, password)
    console.print(f"{username}: 已设置密码 / password set")


@user_app.command("token-create")
@friendly_errors
def token_create(
    username: UserArg,
    days: Annotated[int, typer.Option(min=1, help="有效天数 / lifetime in days")] = 30,
    label: Annotated[str, typer.Option(help="用途 / label")] = "",
) -> None:
    """签发 API 令牌（只显示一次）/ issue an API token (shown once)."""
    from sandbox.governance.identities import issue_token

    ctx = context()
    token_id, secret = issue_token(ctx, acting(ctx), username, days=days, label=label)
    console.print(f"令牌 / token {token_id}: {secret}", highlight=False, soft_wrap=True)
    console.print("请妥善保存，之后无法再次查看 / store it now; it cannot be shown again")


@user_app.command("token-revoke")
@friendly_errors
def token_revoke(
    token_id: TokenArg, reason: Annotated[str, typer.Option(help="理由 / reason")] = "revoked"
) -> None:
    """吊销 API 令牌 / revoke an API token."""
    from sandbox.governance.identities import revoke_token

    ctx = context()
    revoke_token(ctx, acting(ctx), token_id, reason)
    console.print(f"已吊销 / revoked: {token_id}")


@user_app.command("token-list")
@friendly_errors
def token_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出令牌（管理员看全部）/ list tokens (admins see all)."""
    from sandbox.governance.identities import list_tokens

    ctx = context()
    columns = [
        Col("token", "令牌", "token", ident=True),
        Col("user", "用户", "user", ident=True),
        Col("label", "用途", "label"),
        Col("expires_at", "到期", "expires", time=True),
        Col("revoked_at", "吊销", "revoked", time=True),
    ]
    rows = [{"token": t.id, "user": t.username, "label": t.label, "expires_at": t.expires_at,
             "revoked_at": t.revoked_at} for t in list_tokens(ctx, acting(ctx))]  # fmt: skip
    emit(console, "令牌 / tokens", columns, rows, fmt)
