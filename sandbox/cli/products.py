"""``sandbox product register|change|correct|deregister|list|show|versions|export``, terms of use and re-development."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import (
    CONSUMER_STAFF_OR_AUDITOR,
    ProductArg,
    console,
    friendly_errors,
    id_argument,
    id_option,
    parse_date,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, emit, emit_record
from sandbox.domain.identifiers import IdKind
from sandbox.domain.labels import label_of
from sandbox.domain.product import ProductState, RedevelopmentState, TermsState, release_label

product_app = typer.Typer(help="数据产品登记 / product registration", no_args_is_help=True)
redevelop_app = typer.Typer(help="再开发申请 / re-development applications", no_args_is_help=True)
terms_app = typer.Typer(
    help="有偿产品的使用条款 / terms of use of fee-bearing products", no_args_is_help=True
)


def _charging(fee_bearing: bool) -> str:
    return "有偿 fee-bearing" if fee_bearing else "免费 free"


_PRODUCT_COLUMNS = [
    Col("registration_no", "登记号", "no.", ident=True),
    Col("product", "产品", "product", ident=True),
    Col("title", "名称", "title"),
    Col("scenario", "场景", "scenario", ident=True),
    Col("category", "类别", "category"),
    Col("fee_bearing", "收费", "charging", show=_charging),
    Col("revision", "登记版次", "revision", show=str),
    Col("state", "状态", "state", show=lambda v: label_of(ProductState, v)),
    Col("released_versions", "发布", "release", show=lambda v: release_label(v)),
]


#: Who applies for re-development, and where (operators apply at the product, and list at /operator/redevelopment).
_APPLICANTS = {
    "developer": "/developer",
    "consumer": "/consumer",
    "operator": "/operator",
    "admin": "/operator",
}
#: Who lists applications (``list_applications``): the applicants (their organization's), staff and auditors.
_APPLICATION_READERS = {**_APPLICANTS, "auditor": "/auditor"}
#: Who reads the product registry: consumers, staff, auditors, and developers, who apply to re-develop.
_PRODUCT_READERS = {**CONSUMER_STAFF_OR_AUDITOR, "developer": "/developer"}


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    product_app.add_typer(redevelop_app, name="redevelop")
    product_app.add_typer(terms_app, name="terms")


@product_app.command("register")
@friendly_errors
def product_register(
    product_id: Annotated[
        str, id_argument(IdKind.PRODUCT, help="已批准作业的标识 / id of an approved job of the scenario")
    ],
    title: Annotated[str, typer.Option(help="产品名称 / title")],
    scenario: Annotated[str, id_option(IdKind.SCENARIO, help="所属场景（已启用）/ active scenario")],
    description: Annotated[str, typer.Option(help="产品介绍 / description")] = "",
    form: Annotated[str, typer.Option(help="产品形态 / form: 数据集|API接口|数据报告|模型")] = "数据集",
) -> None:
    """首次登记（须有该场景已批准的同名作业；发布前显示未发布）/ first registration (needs an approved job
    of that id in the scenario; shown as not released until a version is released)."""
    from sandbox.products.registry import product_view
    from sandbox.products.registry import register as register_product

    fields = {"title": title, "description": description, "form": form}
    p = remote_or_local(
        lambda c: c.post("/operator/products", json={"product": product_id, "scenario": scenario, **fields}),
        lambda ctx, who: product_view(register_product(ctx, who, product_id=product_id, scenario_id=scenario,
                                                       **fields), []),
    )  # fmt: skip
    console.print(
        f"已登记 / registered: {p['product']} 登记号 / no. {p['registration_no']}（{_charging(p['fee_bearing'])}）"
        f"；{release_label(p['released_versions'])}",
        highlight=False,
    )


def _amend_command(name: str, help_text: str):
    @product_app.command(name, help=help_text)
    @friendly_errors
    def command(
        product_id: ProductArg,
        reason: Annotated[str, typer.Option(help="理由 / reason")],
        title: Annotated[str | None, typer.Option(help="新名称 / new title")] = None,
        description: Annotated[str | None, typer.Option(help="新介绍 / new description")] = None,
        form: Annotated[str | None, typer.Option(help="新形态 / new form")] = None,
    ) -> None:
        from sandbox.products import registry

        changes = {
            k: v for k, v in (("title", title), ("description", description), ("form", form)) if v is not None
        }
        call = getattr(registry, name)
        p = remote_or_local(
            lambda c: c.post(f"/operator/products/{product_id}/{name}", json={"reason": reason, **changes}),
            lambda ctx, who: registry.product_view(
                call(ctx, who, product_id, reason) if name == "deregister"
                else call(ctx, who, product_id, reason, **changes), []),
        )  # fmt: skip
        console.print(
            f"{p['product']}: {name} ✓（第 {p['revision']} 版 / revision {p['revision']}，"
            f"{label_of(ProductState, p['state'])}）"
        )

    return command


_amend_command("change", "变更登记 / change registration")
_amend_command("correct", "更正登记 / correct registration")
_amend_command("deregister", "注销登记 / deregister")


@product_app.command("list")
@friendly_errors
def product_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出登记的数据产品 / list registered products."""
    from sandbox.products.catalogue import catalogue

    rows = remote_or_local(
        lambda c: c.get(f"{c.route(_PRODUCT_READERS)}/products"), lambda ctx, _who: catalogue(ctx)
    )
    emit(console, "数据产品 / products", _PRODUCT_COLUMNS, rows, fmt)


@product_app.command("show")
@friendly_errors
def product_show(product_id: ProductArg, fmt: FormatOption = Format.TABLE) -> None:
    """数据产品登记详情 / a product's registration."""
    from sandbox.products.catalogue import product

    row = remote_or_local(
        lambda c: c.get(f"{c.route(_PRODUCT_READERS)}/products/{product_id}"),
        lambda ctx, _who: product(ctx, product_id),
    )
    fields = [(c, row[c.key]) for c in _PRODUCT_COLUMNS] + [
        (Col("description", "介绍", "description"), row["description"]),
        (Col("form", "形态", "form"), row["form"]),
        (Col("operator", "运营机构", "operator", ident=True), row["operator"]),
        (Col("registered_by", "登记人", "registered by", ident=True), row["registered_by"]),
        (Col("registered_at", "登记时间", "registered", time=True), row["registered_at"]),
        (Col("updated_at", "更新时间", "updated", time=True), row["updated_at"]),
    ]
    emit_record(console, f"{row['product']} {row['title']}", fields, fmt)


@product_app.command("versions")
@friendly_errors
def product_versions(product_id: ProductArg, fmt: FormatOption = Format.TABLE) -> None:
    """已发布的版本及其血缘 / released versions and their lineage."""
    from sandbox.products.catalogue import released_versions

    columns = [
        Col("version", "版本", "version", ident=True, show=lambda v: f"v{v}"),
        Col("released_at", "发布时间", "released", time=True),
        Col("run", "运行", "run", ident=True),
        Col("code_sha256", "作业哈希", "code", show=lambda h: h[:12]),
        Col(
            "dataset_versions",
            "数据版本",
            "data",
            show=lambda d: ", ".join(f"{k} v{v}" for k, v in d.items()),
        ),
        Col("outputs", "输出", "outputs", show=_outputs),
    ]
    rows = remote_or_local(
        lambda c: c.get(f"{c.route(_PRODUCT_READERS)}/products/{product_id}/versions"),
        lambda ctx, _who: released_versions(ctx, product_id),
    )
    emit(console, f"{product_id} 版本 / versions", columns, rows, fmt)


def _outputs(outputs: dict) -> str:
    return "; ".join(
        f"{name}: 发布 / released {o.get('released', 0)}, 抑制 / suppressed {o.get('suppressed', 0)}"
        for name, o in outputs.items()
    )


@product_app.command("export")
@friendly_errors
def product_export(
    product_id: ProductArg,
    format: Annotated[str, typer.Option("--format", help="文件格式 / file format: csv|parquet|xlsx")] = "csv",
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("export"),
    version: Annotated[int | None, typer.Option(help="版本，默认最新 / version, default latest")] = None,
) -> None:
    """导出已发布的聚合表与门控报告 / export released aggregate tables with the gate report."""
    from sandbox.products.versions import export

    paths = remote_or_local(
        lambda c: _unpack(c.get(f"{c.route(CONSUMER_STAFF_OR_AUDITOR)}/products/{product_id}/download",
                                params={"format": format, "version": version}), out, format),
        lambda ctx, who: export(ctx, who, product_id, out, format, version),
    )  # fmt: skip
    for path in paths:
        console.print(f"已导出 / exported: {path}", highlight=False, soft_wrap=True)


def _unpack(archive: bytes, out: Path, fmt: str) -> list[Path]:
    """A download's files written into ``out``; the tables (of format ``fmt``) are what an export lists."""
    import io
    import zipfile

    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = [Path(name).name for name in zipped.namelist()]  # flat, as the service packs them
        for name, info in zip(names, zipped.infolist(), strict=True):
            (out / name).write_bytes(zipped.read(info))
    return [out / name for name in names if name.endswith(f".{fmt}")]


@terms_app.command("grant")
@friendly_errors
def terms_grant(
    product_id: ProductArg,
    consumer: Annotated[str, id_option(IdKind.ORGANIZATION, help="使用方机构 / consumer organization")],
    ends_on: Annotated[
        str | None, typer.Option(help="最后有效日 YYYY-MM-DD，默认至撤销 / last day, default until revoked")
    ] = None,
) -> None:
    """授予使用方有偿产品的使用条款 / grant a consumer organization terms of use for a fee-bearing product."""
    from sandbox.products.terms import grant_terms, terms_view

    last = parse_date(ends_on, "--ends-on") if ends_on else None
    t = remote_or_local(
        lambda c: c.post(f"/operator/products/{product_id}/terms",
                         json={"consumer": consumer, "ends_on": last and last.isoformat()}),
        lambda ctx, who: terms_view(grant_terms(ctx, who, product_id, consumer, ends_on=last)),
    )  # fmt: skip
    until = f"至 {t['ends_on']} / until {t['ends_on']}" if t["ends_on"] else "至撤销 / until revoked"
    console.print(
        f"已授予 / granted: #{t['terms']} {t['product']} → {t['consumer']}（{until}）", highlight=False
    )


@terms_app.command("revoke")
@friendly_errors
def terms_revoke(
    terms_id: Annotated[
        int, typer.Argument(help="使用条款编号（terms list 的 #）/ terms number (# in terms list)")
    ],
    reason: Annotated[str, typer.Option(help="理由 / reason")],
) -> None:
    """撤销使用条款 / revoke terms of use."""
    from sandbox.products.terms import revoke_terms

    remote_or_local(
        lambda c: c.post(f"/operator/terms/{terms_id}/revoke", json={"reason": reason}),
        lambda ctx, who: revoke_terms(ctx, who, terms_id, reason),
    )
    console.print(f"#{terms_id} 已撤销 / revoked")


@terms_app.command("list")
@friendly_errors
def terms_list(
    product: Annotated[str | None, id_option(IdKind.PRODUCT, help="只看该产品 / only this product")] = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """列出使用条款 / list terms of use."""
    from sandbox.products.terms import list_terms, terms_view

    columns = [
        Col("terms", "#", "#", ident=True, show=str),
        Col("product", "产品", "product", ident=True),
        Col("consumer", "使用方", "consumer", ident=True),
        Col("granted_by", "授予人", "granted by", ident=True),
        Col("granted_at", "授予时间", "granted", time=True),
        Col("ends_on", "最后有效日", "ends on"),
        Col("state", "状态", "state", show=lambda v: label_of(TermsState, v)),
    ]
    rows = remote_or_local(
        lambda c: c.get(f"{c.route(CONSUMER_STAFF_OR_AUDITOR)}/terms", params={"product": product}),
        lambda ctx, who: [terms_view(t) for t in list_terms(ctx, who, product)],
    )
    emit(console, "使用条款 / terms of use", columns, rows, fmt)


@redevelop_app.command("apply")
@friendly_errors
def redevelop_apply(
    product_id: ProductArg, purpose: Annotated[str, typer.Option(help="再开发用途 / purpose")]
) -> None:
    """申请再开发 / apply to re-develop a product."""
    from sandbox.products.redevelopment import application_view, apply

    def through_service(client) -> dict:
        router = client.route(_APPLICANTS)
        path = (
            f"/operator/products/{product_id}/redevelop"
            if router == "/operator"
            else f"{router}/redevelopments"
        )
        return client.post(path, json={"product": product_id, "purpose": purpose})

    a = remote_or_local(
        through_service, lambda ctx, who: application_view(apply(ctx, who, product_id, purpose))
    )
    console.print(f"已提交再开发申请 / application submitted: #{a['application']}")


@redevelop_app.command("review")
@friendly_errors
def redevelop_review(
    application_id: Annotated[
        int, typer.Argument(help="申请编号（redevelop list 的 #）/ application number")
    ],
    approve: Annotated[bool, typer.Option("--approve/--reject", help="批准或驳回 / approve or reject")],
    comment: Annotated[str, typer.Option(help="意见 / comment")] = "",
) -> None:
    """运营审核再开发申请 / operator review of a re-development application."""
    from sandbox.products.redevelopment import review

    state = remote_or_local(
        lambda c: c.post(f"/operator/redevelopment/{application_id}/review",
                         json={"approve": approve, "comment": comment})["state"],
        lambda ctx, who: review(ctx, who, application_id, approve=approve, comment=comment).state,
    )  # fmt: skip
    console.print(f"#{application_id}: {label_of(RedevelopmentState, state)}")


@redevelop_app.command("list")
@friendly_errors
def redevelop_list(fmt: FormatOption = Format.TABLE) -> None:
    """列出再开发申请（使用方与开发人员只见本机构的）/ list re-development applications (consumers and developers see their organization's)."""
    from sandbox.products.redevelopment import application_view, list_applications

    columns = [
        Col("application", "#", "#", ident=True, show=str),
        Col("product", "产品", "product", ident=True),
        Col("applicant", "申请机构", "applicant", ident=True),
        Col("purpose", "用途", "purpose"),
        Col("state", "状态", "state", show=lambda v: label_of(RedevelopmentState, v)),
    ]
    rows = remote_or_local(
        lambda c: c.get(
            "/operator/redevelopment"
            if (r := c.route(_APPLICATION_READERS)) == "/operator"
            else f"{r}/redevelopments"
        ),
        lambda ctx, who: [application_view(r) for r in list_applications(ctx, who)],
    )
    emit(console, "再开发申请 / re-development", columns, rows, fmt)
