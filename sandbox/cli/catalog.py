"""``sandbox catalog load|list|show`` and ``sandbox ingest``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sandbox.cli.common import acting, console, context, friendly_errors, table
from sandbox.display import shanghai_time

catalog_app = typer.Typer(help="数据目录 / catalog of providers and datasets", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.command()(ingest)


@catalog_app.command("load")
@friendly_errors
def load(file: Path) -> None:
    """登记目录文件中的数据提供单位与数据集 / register the providers and datasets of a catalog file."""
    from sandbox.catalog.service import load_catalog, read_catalog_file

    ctx = context()
    summary = load_catalog(ctx, acting(ctx), read_catalog_file(file).catalog)
    console.print(
        f"新登记数据提供单位 / providers added: {len(summary.providers_added)}；"
        f"新登记数据集 / datasets added: {len(summary.datasets_added)}；"
        f"未变化 / unchanged: {len(summary.datasets_unchanged)}"
    )


@catalog_app.command("list")
@friendly_errors
def list_() -> None:
    """列出已登记的数据集 / list registered datasets."""
    from sandbox.catalog.service import list_datasets

    ctx = context()
    acting(ctx)
    rows = table("数据目录 / catalog", "数据集 / dataset", "名称 / title", "提供单位 / provider", "分级 / grade",
                 "更新 / cycle", "最新版本 / latest", "行数 / rows")  # fmt: skip
    for row, latest in list_datasets(ctx):
        rows.add_row(row.id, row.title, row.provider_id, row.grade, row.update_cycle,
                     f"v{latest.version}" if latest else "—", f"{latest.row_count:,}" if latest else "—")  # fmt: skip
    console.print(rows)


@catalog_app.command("show")
@friendly_errors
def show(dataset: str) -> None:
    """显示数据集的列、分级与版本 / show a dataset's columns, grading and versions."""
    from sandbox.catalog.service import show_dataset

    ctx = context()
    acting(ctx)
    view = show_dataset(ctx, dataset)
    d = view.dataset
    console.print(f"[bold]{d.id}[/] {d.title} — {view.provider_name}（{d.provider}）")
    console.print(f"分级 / grade: {d.grade.value}；更新周期 / update cycle: {d.update_cycle.value}；"
                  f"提供方式 / provision: {'、'.join(p.value for p in d.provision)}；主键 / keys: {', '.join(d.keys)}")  # fmt: skip
    columns = table("列 / columns", "列 / column", "名称 / title", "类型 / type", "角色 / role", "个人信息 / PII",
                    "分级 / grade", "敏感度 / PI", "必填 / req")  # fmt: skip
    for c in d.columns:
        columns.add_row(c.name, c.title, c.type.value, c.role.value, c.pii.value, c.grade.value,
                        c.personal_info.value, "是" if c.required else "")  # fmt: skip
    console.print(columns)
    versions = table("版本 / versions", "版本 / version", "行数 / rows", "重复键 / dup keys", "模式哈希 / schema",
                     "内容 SHA-256 / content", "引擎 / engine", "时间 / time (Asia/Shanghai)")  # fmt: skip
    for v in view.versions:
        versions.add_row(f"v{v.version}", f"{v.row_count:,}", str(v.duplicate_key_count), v.schema_hash[:12],
                         v.content_sha256[:12], v.engine, shanghai_time(v.created_at))  # fmt: skip
    console.print(versions)
    if view.quarantined:
        quarantine = table("隔离区 / quarantine", "原因 / reason", "位置 / where", "时间 / time")
        for q in view.quarantined:
            detail = json.loads(q.detail_json)
            where = " ".join(str(detail[k]) for k in ("file", "line", "column") if detail.get(k))
            quarantine.add_row(q.reason, where, shanghai_time(q.created_at))
        console.print(quarantine)


@friendly_errors
def ingest(dataset: str, files: list[Path]) -> None:
    """导入数据集的新版本 / ingest files as the dataset's next immutable raw version."""
    from sandbox.catalog.service import ingest as ingest_version

    ctx = context()
    delivery = ingest_version(ctx, acting(ctx), dataset, files)
    version = delivery.version
    if delivery.identical:
        console.print(
            f"{dataset}：与当前版本 v{version.version} 逐字节相同，未生成新版本 / "
            f"identical to the current version v{version.version}; no new version"
        )
        return
    console.print(
        f"{dataset} v{version.version}: {version.row_count:,} 行 / rows, "
        f"schema {version.schema_hash[:12]}, sha256 {version.content_sha256[:12]} ({version.engine})"
    )
