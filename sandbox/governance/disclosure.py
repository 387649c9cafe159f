"""信息披露: what the seeds require to be published — authorizations, products, data usage.

Data usage is the released lineage: per dataset, the product versions that read it and which of
its versions they read. A product registered without a release is listed, marked not released,
and has read nothing. Product usage is the delivery API's metering: per product, how many consumer
organizations queried it and how often (counts only; who took what stays with billing). Every
table cell is escaped, so free text cannot break the Markdown tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.display import shanghai_time
from sandbox.domain.identity import Role
from sandbox.domain.product import release_label
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.products.metering import usage_by_product
from sandbox.products.versions import dataset_reads, released_versions
from sandbox.store.models import AuthorizationRow, DatasetRow, OrganizationRow, ProductRow, ProviderRow

STATE_ZH = {
    "active": "有效",
    "expired": "已到期",
    "revoked": "已撤销",
    "registered": "已登记",
    "deregistered": "已注销",
}


READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})


def build(ctx: PlatformContext) -> dict[str, Any]:
    with ctx.sessions() as session:
        orgs = {o.id: o.name for o in session.scalars(select(OrganizationRow))}
        datasets = {d.id: d for d in session.scalars(select(DatasetRow))}
        providers = {p.id: p.name for p in session.scalars(select(ProviderRow))}
        authorizations = [
            {
                "id": a.id,
                "object": orgs.get(a.operator_org_id, a.operator_org_id),
                "content": a.content,
                "scope": [
                    {"dataset": d, "title": datasets[d].title if d in datasets else d}
                    for d in json.loads(a.datasets_json)
                ],
                "period": {"starts_on": a.starts_on, "ends_on": a.ends_on},
                "state": a.state,
            }
            for a in session.scalars(select(AuthorizationRow).order_by(AuthorizationRow.id))
        ]
        released = released_versions(session)
        reads = dataset_reads(session)
        products = []
        for p in session.scalars(select(ProductRow).order_by(ProductRow.registration_no)):
            products.append({
                "registration_no": p.registration_no, "id": p.id, "title": p.title, "category": p.category,
                "charging": "有偿" if p.fee_bearing else "免费", "fee_bearing": p.fee_bearing, "form": p.form,
                "operator": orgs.get(p.operator_org_id, p.operator_org_id), "scenario": p.scenario_id,
                "state": p.state, "revision": p.revision, "released": p.id in released,
                "versions": released.get(p.id, []),
                "datasets": sorted({r.dataset_id for r in reads if r.product_id == p.id}),
            })  # fmt: skip
        data_usage = [
            {
                "dataset": d,
                "title": datasets[d].title,
                "provider": providers.get(datasets[d].provider_id, datasets[d].provider_id),
                "products": sorted({r.product_id for r in reads if r.dataset_id == d}),
                "reads": [
                    {"product": r.product_id, "version": r.version, "dataset_version": r.dataset_version}
                    for r in reads
                    if r.dataset_id == d
                ],
            }
            for d in sorted({r.dataset_id for r in reads})
        ]
        metered = usage_by_product(session)
        product_usage = [
            {
                "product": p["id"],
                "title": p["title"],
                **metered.get(p["id"], {"consumers": 0, "requests": 0, "rows": 0}),
            }
            for p in products
        ]
    return {
        "generated_at": utc_now_iso(),
        "authorizations": authorizations,
        "products": products,
        "data_usage": data_usage,
        "product_usage": product_usage,
    }


def _cell(value: object) -> str:
    """A Markdown table cell: a pipe or a line break in free text would split or end the row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _row(*cells: object) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _state(state: str) -> str:
    return f"{STATE_ZH[state]} / {state}" if state in STATE_ZH else state


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# 公共数据资源授权运营信息披露 / Disclosure of authorized public-data operation",
        "",
        f"生成时间 / generated: {shanghai_time(report['generated_at'])}（北京时间 / Asia/Shanghai）",
        "",
        "## 一、授权情况 / Authorizations",
        "",
        "| 编号 / id | 授权对象 / object | 授权内容 / content | 授权范围 / scope | 授权期限 / period | 状态 / state |",
        "|---|---|---|---|---|---|",
    ]
    for a in report["authorizations"]:
        scope = "、".join(f"{s['title']}（{s['dataset']}）" for s in a["scope"])
        period = f"{a['period']['starts_on']} 至 {a['period']['ends_on']}"
        lines.append(_row(a["id"], a["object"], a["content"], scope, period, _state(a["state"])))
    lines += [
        "",
        "## 二、数据产品和服务清单 / Products",
        "",
        "| 登记号 / no. | 产品 / product | 类别 / category | 收费 / charging | 形态 / form | 运营机构 / operator "
        "| 状态 / state | 发布 / release |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in report["products"]:
        product = f"{p['title']}（{p['id']}，第 {p['revision']} 版 / revision {p['revision']}）"
        lines.append(_row(p["registration_no"], product, p["category"], p["charging"], p["form"], p["operator"],
                          _state(p["state"]), release_label(p["versions"])))  # fmt: skip
    lines += [
        "",
        "## 三、数据使用情况 / Data usage",
        "",
        "已发布的产品版本实际读取的数据集（据发布血缘）/ datasets read by released product versions (release lineage)",
        "",
        "| 数据集 / dataset | 提供单位 / provider | 支撑的产品 / products | 产品版本（数据集版本）/ product version (dataset version) |",
        "|---|---|---|---|",
    ]
    for u in report["data_usage"]:
        versions = "、".join(f"{r['product']} v{r['version']}（v{r['dataset_version']}）" for r in u["reads"])
        lines.append(
            _row(f"{u['title']}（{u['dataset']}）", u["provider"], "、".join(u["products"]), versions)
        )
    lines += [
        "",
        "## 四、产品使用情况 / Product usage",
        "",
        "经产品查询接口提供的情况（据计量）/ answered queries of the product API (metering)",
        "",
        "| 产品 / product | 使用方数 / consumers | 请求数 / requests | 行数 / rows |",
        "|---|---|---|---|",
    ]
    for u in report["product_usage"]:
        lines.append(_row(f"{u['title']}（{u['product']}）", u["consumers"], u["requests"], u["rows"]))
    return "\n".join(lines) + "\n"


def report_for(ctx: PlatformContext, actor: Principal) -> dict[str, Any]:
    """The disclosure report as data, for the API and the web page (nothing written, nothing published)."""
    with audited_refusals(ctx, actor, "disclosure.read", "disclosure", "*"):
        check_role(actor, READERS, "查看信息披露报告", "read disclosure reports")
    return build(ctx)


def write_files(out_dir: Path, report: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """``disclosure.json`` and ``disclosure.md`` in ``out_dir`` (also what ``sandbox disclose`` writes from a
    service's report)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "disclosure.json", out_dir / "disclosure.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path


def disclose(ctx: PlatformContext, actor: Principal, out_dir: Path) -> tuple[Path, Path]:
    """Write the disclosure report as JSON and Markdown; returns both paths."""
    with audited_refusals(ctx, actor, "disclosure.publish", "disclosure", str(out_dir)):
        check_role(actor, READERS, "生成信息披露报告", "produce disclosure reports")
        report = build(ctx)
        json_path, md_path = write_files(out_dir, report, to_markdown(report))
        with ctx.transaction() as session:
            ctx.audit(session, "disclosure.publish", "disclosure", str(out_dir), actor=actor.username,
                      authorizations=len(report["authorizations"]), products=len(report["products"]))  # fmt: skip
        return json_path, md_path
