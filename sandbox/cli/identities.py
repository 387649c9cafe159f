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
    remote_or_local,
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

    org_kind = parse_enum(OrgKind, kind, "--kind")
    remote_or_local(
        lambda c: c.post(
            "/admin/orgs", json={"id": org_id, "name": name, "kind": org_kind, "provider": provider}
        ),
        lambda ctx, who: create_org(ctx, who, org_id, name, org_kind, provider),
    )
    console.print(f"已创建机构 / organization created: {org_id}")


@org_app.command("list")
@friendly_errors
def org_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出机构 / list organizations."""
    from sandbox.governance.identities import list_orgs, org_view

    columns = [
        Col("org", "机构", "org", ident=True),
        Col("name", "名称", "name"),
        Col("kind", "类型", "kind", show=lambda v: label_of(OrgKind, v)),
        Col("provider", "数据提供单位", "provider", ident=True),
    ]
    rows = remote_or_local(
        lambda c: c.get("/admin/orgs"), lambda ctx, _who: [org_view(o) for o in list_orgs(ctx)]
    )
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

    roles = {parse_enum(Role, r, "--role") for r in role}
    remote_or_local(
        lambda c: c.post("/admin/users", json={"username": username, "org": org, "roles": sorted(roles),
                                               "name": name or username}),
        lambda ctx, who: create_user(ctx, who, username, name or username, org, roles),
    )  # fmt: skip
    console.print(f"已创建用户 / user created: {username}")


@user_app.command("list")
@friendly_errors
def user_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出用户及资质 / list users and their clearance."""
    from sandbox.governance.identities import list_users, user_view

    columns = [
        Col("user", "用户", "user", ident=True),
        Col("org", "机构", "org", ident=True),
        Col("roles", "角色", "roles", show=lambda roles: ", ".join(label_of(Role, r) for r in roles)),
        Col("identity_verified", "身份核验", "verified"),
        Col("filing_no", "备案", "filing"),
        Col("nda", "保密协议", "NDA"),
        Col("nda_signed_on", "签署日", "signed on"),
        Col("cleared", "可开发", "cleared"),
    ]
    rows = remote_or_local(
        lambda c: c.get("/admin/users"), lambda ctx, _who: [user_view(u, o) for u, o in list_users(ctx)]
    )
    emit(console, "用户 / users", columns, rows, fmt)


@user_app.command("verify-identity")
@friendly_errors
def user_verify(username: UserArg) -> None:
    """登记身份核验 / record identity verification."""
    from sandbox.governance.identities import verify_identity

    remote_or_local(
        lambda c: c.post(f"/admin/users/{username}/identity"),
        lambda ctx, who: verify_identity(ctx, who, username),
    )
    console.print(f"{username}: 已核验身份 / identity verified")


@user_app.command("file")
@friendly_errors
def user_file(
    username: UserArg, filing_no: Annotated[str, typer.Option("--filing-no", help="备案号 / filing number")]
) -> None:
    """登记备案 / record the registration (备案) number."""
    from sandbox.governance.identities import record_filing

    remote_or_local(
        lambda c: c.post(f"/admin/users/{username}/filing", json={"filing_no": filing_no}),
        lambda ctx, who: record_filing(ctx, who, username, filing_no),
    )
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

    day = parse_date(signed_on, "--signed-on")
    remote_or_local(
        lambda c: c.post(
            f"/admin/users/{username}/nda", json={"version": version, "signed_on": day.isoformat()}
        ),
        lambda ctx, who: record_nda(ctx, who, username, version, day),
    )
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

    def through_service(client) -> tuple[str, str]:  # one's own at /me; an administrator's for others
        path = "/me/tokens" if username == client.me()["user"] else f"/admin/users/{username}/tokens"
        answer = client.post(path, json={"days": days, "label": label})
        return answer["token"], answer["secret"]

    token_id, secret = remote_or_local(
        through_service, lambda ctx, who: issue_token(ctx, who, username, days=days, label=label)
    )
    console.print(f"令牌 / token {token_id}: {secret}", highlight=False, soft_wrap=True)
    console.print("请妥善保存，之后无法再次查看 / store it now; it cannot be shown again")


@user_app.command("token-revoke")
@friendly_errors
def token_revoke(
    token_id: TokenArg, reason: Annotated[str, typer.Option(help="理由 / reason")] = "revoked"
) -> None:
    """吊销 API 令牌 / revoke an API token."""
    from sandbox.governance.identities import revoke_token

    remote_or_local(
        lambda c: c.delete(f"/me/tokens/{token_id}", params={"reason": reason}),
        lambda ctx, who: revoke_token(ctx, who, token_id, reason),
    )
    console.print(f"已吊销 / revoked: {token_id}")


@user_app.command("token-list")
@friendly_errors
def token_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出令牌（管理员看全部）/ list tokens (admins see all)."""
    from sandbox.governance.identities import list_tokens, token_view

    columns = [
        Col("token", "令牌", "token", ident=True),
        Col("user", "用户", "user", ident=True),
        Col("label", "用途", "label"),
        Col("expires_at", "到期", "expires", time=True),
        Col("revoked_at", "吊销", "revoked", time=True),
    ]
    rows = remote_or_local(
        lambda c: c.get("/me/tokens"), lambda ctx, who: [token_view(t) for t in list_tokens(ctx, who)]
    )
    emit(console, "令牌 / tokens", columns, rows, fmt)
