"""``sandbox product register|change|correct|deregister|list|show``, terms of use and re-development."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import acting, console, context, friendly_errors, parse_date, table
from sandbox.display import shanghai_time
from sandbox.domain.product import release_label

product_app = typer.Typer(help="数据产品登记 / product registration", no_args_is_help=True)
redevelop_app = typer.Typer(help="再开发申请 / re-development applications", no_args_is_help=True)
terms_app = typer.Typer(
    help="有偿产品的使用条款 / terms of use of fee-bearing products", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    product_app.add_typer(redevelop_app, name="redevelop")
    product_app.add_typer(terms_app, name="terms")


@product_app.command("register")
@friendly_errors
def product_register(
    product_id: Annotated[
        str, typer.Argument(help="已批准作业的标识 / id of an approved job of the scenario")
    ],
    title: Annotated[str, typer.Option(help="产品名称 / title")],
    scenario: Annotated[str, typer.Option(help="所属场景（已启用）/ active scenario")],
    description: Annotated[str, typer.Option(help="产品介绍 / description")] = "",
    form: Annotated[str, typer.Option(help="数据集|API接口|数据报告|模型")] = "数据集",
) -> None:
    """首次登记（须有该场景已批准的同名作业；发布前显示未发布）/ first registration (needs an approved job
    of that id in the scenario; shown as not released until a version is released)."""
    from sandbox.products.registry import register as register_product

    ctx = context()
    row = register_product(ctx, acting(ctx), product_id=product_id, title=title, scenario_id=scenario,
                           description=description, form=form)  # fmt: skip
    console.print(
        f"已登记 / registered: {row.id} 登记号 / no. {row.registration_no}（{'有偿' if row.fee_bearing else '免费'}）"
        f"；{release_label([])}"
    )


def _amend_command(name: str, help_text: str):
    @product_app.command(name, help=help_text)
    @friendly_errors
    def command(
        product_id: str,
        reason: Annotated[str, typer.Option(help="理由 / reason")],
        title: Annotated[str | None, typer.Option(help="新名称 / new title")] = None,
        description: Annotated[str | None, typer.Option(help="新介绍 / new description")] = None,
        form: Annotated[str | None, typer.Option(help="新形态 / new form")] = None,
    ) -> None:
        from sandbox.products import registry

        ctx = context()
        changes = {
            k: v for k, v in (("title", title), ("description", description), ("form", form)) if v is not None
        }
        call = getattr(registry, name)
        row = (
            call(ctx, acting(ctx), product_id, reason)
            if name == "deregister"
            else call(ctx, acting(ctx), product_id, reason, **changes)
        )
        console.print(f"{row.id}: {name} ✓（第 {row.revision} 版 / revision {row.revision}，{row.state}）")

    return command


_amend_command("change", "变更登记 / change registration")
_amend_command("correct", "更正登记 / correct registration")
_amend_command("deregister", "注销登记 / deregister")


@product_app.command("list")
@friendly_errors
def product_list() -> None:
    """列出登记的数据产品 / list registered products."""
    from sandbox.products.registry import list_products
    from sandbox.products.versions import released

    ctx = context()
    acting(ctx)
    rows = table("数据产品 / products", "登记号 / no.", "id", "名称 / title", "场景 / scenario", "类别 / category",
                 "收费 / charging", "版本 / rev", "状态 / state", "发布 / release")  # fmt: skip
    versions = released(ctx)
    for p in list_products(ctx):
        rows.add_row(p.registration_no, p.id, p.title, p.scenario_id, p.category, "有偿" if p.fee_bearing else "免费",
                     str(p.revision), p.state, release_label(versions.get(p.id, [])))  # fmt: skip
    console.print(rows)


@product_app.command("show")
@friendly_errors
def product_show(product_id: str) -> None:
    """数据产品登记详情 / a product's registration."""
    from sandbox.products.registry import get
    from sandbox.products.versions import released

    ctx = context()
    acting(ctx)
    p = get(ctx, product_id)
    console.print(
        f"[bold]{p.id}[/] {p.title} — 登记号 / no. {p.registration_no}，第 {p.revision} 版，{p.state}；"
        f"{release_label(released(ctx).get(p.id, []))}"
    )
    console.print(f"场景 / scenario: {p.scenario_id}；类别 / category: {p.category}（{'有偿' if p.fee_bearing else '免费'}）；"
                  f"形态 / form: {p.form}；运营机构 / operator: {p.operator_org_id}")  # fmt: skip
    console.print(
        f"登记 / registered: {shanghai_time(p.registered_at)} by {p.registered_by}；更新 / updated: {shanghai_time(p.updated_at)}"
    )


@product_app.command("versions")
@friendly_errors
def product_versions(product_id: str) -> None:
    """已发布的版本及其血缘 / released versions and their lineage."""
    from sandbox.products.versions import versions

    ctx = context()
    acting(ctx)
    rows = table(
        f"{product_id} 版本 / versions",
        "版本 / v",
        "发布时间 / released",
        "作业哈希 / code",
        "数据版本 / data",
        "输出 / outputs",
    )
    for v in versions(ctx, product_id):
        rows.add_row(
            f"v{v.version}",
            shanghai_time(v.released_at),
            v.code_sha256[:12],
            v.dataset_versions_json,
            v.outputs_json[:80],
        )
    console.print(rows)


@product_app.command("export")
@friendly_errors
def product_export(
    product_id: str,
    format: Annotated[str, typer.Option("--format", help="csv|parquet|xlsx")] = "csv",
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("export"),
    version: Annotated[int | None, typer.Option(help="版本，默认最新 / version, default latest")] = None,
) -> None:
    """导出已发布的聚合表与门控报告 / export released aggregate tables with the gate report."""
    from sandbox.products.versions import export

    ctx = context()
    for path in export(ctx, acting(ctx), product_id, out, format, version):
        console.print(f"已导出 / exported: {path}")


@terms_app.command("grant")
@friendly_errors
def terms_grant(
    product_id: str,
    consumer: Annotated[str, typer.Option(help="使用方机构 / consumer organization")],
    ends_on: Annotated[
        str | None, typer.Option(help="最后有效日 YYYY-MM-DD，默认至撤销 / last day, default until revoked")
    ] = None,
) -> None:
    """授予使用方有偿产品的使用条款 / grant a consumer organization terms of use for a fee-bearing product."""
    from sandbox.products.terms import grant_terms

    ctx = context()
    row = grant_terms(ctx, acting(ctx), product_id, consumer,
                      ends_on=parse_date(ends_on, "--ends-on") if ends_on else None)  # fmt: skip
    until = f"至 {row.ends_on} / until {row.ends_on}" if row.ends_on else "至撤销 / until revoked"
    console.print(f"已授予 / granted: #{row.id} {row.product_id} → {row.consumer_org_id}（{until}）")


@terms_app.command("revoke")
@friendly_errors
def terms_revoke(terms_id: int, reason: Annotated[str, typer.Option(help="理由 / reason")]) -> None:
    """撤销使用条款 / revoke terms of use."""
    from sandbox.products.terms import revoke_terms

    ctx = context()
    row = revoke_terms(ctx, acting(ctx), terms_id, reason)
    console.print(f"#{row.id} 已撤销 / revoked")


@terms_app.command("list")
@friendly_errors
def terms_list(
    product: Annotated[str | None, typer.Option(help="只看该产品 / only this product")] = None,
) -> None:
    """列出使用条款 / list terms of use."""
    from sandbox.domain.product import TERMS_LABEL
    from sandbox.products.terms import list_terms, state

    ctx = context()
    rows = table("使用条款 / terms of use", "#", "产品 / product", "使用方 / consumer", "授予 / granted",
                 "最后有效日 / ends on", "状态 / state")  # fmt: skip
    for t in list_terms(ctx, acting(ctx), product):
        rows.add_row(str(t.id), t.product_id, t.consumer_org_id, f"{shanghai_time(t.granted_at)} {t.granted_by}",
                     t.ends_on or "—", TERMS_LABEL[state(t)])  # fmt: skip
    console.print(rows)


@redevelop_app.command("apply")
@friendly_errors
def redevelop_apply(
    product_id: str, purpose: Annotated[str, typer.Option(help="再开发用途 / purpose")]
) -> None:
    """申请再开发 / apply to re-develop a product."""
    from sandbox.products.redevelopment import apply

    ctx = context()
    row = apply(ctx, acting(ctx), product_id, purpose)
    console.print(f"已提交再开发申请 / application submitted: #{row.id}")


@redevelop_app.command("review")
@friendly_errors
def redevelop_review(
    application_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="批准或驳回 / approve or reject")],
    comment: Annotated[str, typer.Option(help="意见 / comment")] = "",
) -> None:
    """运营审核再开发申请 / operator review of a re-development application."""
    from sandbox.products.redevelopment import review

    ctx = context()
    row = review(ctx, acting(ctx), application_id, approve=approve, comment=comment)
    console.print(f"#{row.id}: {row.state}")


@redevelop_app.command("list")
@friendly_errors
def redevelop_list() -> None:
    """列出再开发申请 / list re-development applications."""
    from sandbox.products.redevelopment import list_applications

    ctx = context()
    acting(ctx)
    rows = table(
        "再开发申请 / re-development",
        "#",
        "产品 / product",
        "申请机构 / applicant",
        "用途 / purpose",
        "状态 / state",
    )
    for r in list_applications(ctx):
        rows.add_row(str(r.id), r.product_id, r.applicant_org_id, r.purpose, r.state)
    console.print(rows)
