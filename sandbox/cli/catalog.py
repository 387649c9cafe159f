"""``sandbox catalog load|list|show`` and ``sandbox ingest``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import (
    DatasetArg,
    WaitOption,
    acting,
    console,
    context,
    friendly_errors,
    queued,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, Section, emit, emit_show

catalog_app = typer.Typer(help="数据目录 / catalog of providers and datasets", no_args_is_help=True)

_VERSION_COLUMNS = [
    Col("version", "版本", "version", ident=True, show=lambda v: f"v{v}"),
    Col("rows", "行数", "rows"),
    Col("duplicate_keys", "重复键", "dup keys"),
    Col("schema_hash", "模式哈希", "schema", show=lambda h: h[:12]),
    Col("content_sha256", "内容 SHA-256", "content", show=lambda h: h[:12]),
    Col("engine", "引擎", "engine"),
    Col("created_at", "时间", "time", time=True),
]


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.command()(ingest)


@catalog_app.command("load")
@friendly_errors
def load(file: Annotated[Path, typer.Argument(help="目录文件（YAML）/ catalog file (YAML)")]) -> None:
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
def list_(fmt: FormatOption = Format.TABLE) -> None:
    """列出已登记的数据集 / list registered datasets."""
    from sandbox.catalog.service import dataset_row_view, list_datasets

    columns = [
        Col("dataset", "数据集", "dataset", ident=True),
        Col("title", "名称", "title"),
        Col("provider", "提供单位", "provider", ident=True),
        Col("grade", "分级", "grade"),
        Col("update_cycle", "更新", "cycle"),
        Col("latest_version", "最新版本", "latest", show=lambda v: f"v{v}"),
        Col("rows", "行数", "rows"),
    ]
    rows = remote_or_local(
        lambda c: c.get("/provider/datasets"),
        lambda ctx, who: [dataset_row_view(row, latest) for row, latest in list_datasets(ctx, who)],
    )
    emit(console, "数据目录 / catalog", columns, rows, fmt)


@catalog_app.command("show")
@friendly_errors
def show(dataset: DatasetArg, fmt: FormatOption = Format.TABLE) -> None:
    """显示数据集的列、分级与版本 / show a dataset's columns, grading and versions."""
    from sandbox.catalog.service import dataset_view, show_dataset

    d = remote_or_local(
        lambda c: c.get(f"/provider/datasets/{dataset}"),
        lambda ctx, who: dataset_view(show_dataset(ctx, dataset, who)),
    )
    fields = [
        (Col("dataset", "数据集", "dataset", ident=True), d["dataset"]),
        (Col("title", "名称", "title"), d["title"]),
        (Col("provider", "提供单位", "provider", ident=True), d["provider"]),
        (Col("provider_name", "提供单位名称", "provider name"), d["provider_name"]),
        (Col("grade", "分级", "grade"), d["grade"]),
        (Col("update_cycle", "更新周期", "update cycle"), d["update_cycle"]),
        (Col("provision", "提供方式", "provision"), d["provision"]),
        (Col("keys", "主键", "keys"), d["keys"]),
    ]
    columns = Section("columns", "列 / columns", [
        Col("column", "列", "column", ident=True), Col("title", "名称", "title"), Col("type", "类型", "type"),
        Col("role", "角色", "role"), Col("pii", "个人信息", "PII"), Col("grade", "分级", "grade"),
        Col("personal_info", "敏感度", "PI"), Col("required", "必填", "required"),
    ], d["columns"])  # fmt: skip
    versions = Section("versions", "版本 / versions", _VERSION_COLUMNS, d["versions"] or [])
    quarantine = Section("quarantine", "隔离区 / quarantine", [
        Col("reason", "原因", "reason"), Col("file", "文件", "file"), Col("line", "行", "line"),
        Col("column", "列", "column"), Col("path", "位置", "kept at", ident=True), Col("created_at", "时间", "time", time=True),
    ], d["quarantine"] or [])  # fmt: skip
    emit_show(console, f"{d['dataset']} {d['title']}", fields, [columns, versions, quarantine], fmt)


@friendly_errors
def ingest(
    dataset: DatasetArg,
    files: Annotated[
        list[Path], typer.Argument(help="上传文件（CSV、Parquet、JSON Lines、XLSX）/ upload file(s)")
    ],
    wait: WaitOption = True,
) -> None:
    """导入数据集的新版本（经服务时上传并排队导入）/ ingest files as the dataset's next immutable raw version
    (through a service: uploaded, and the ingest is queued)."""
    from sandbox.catalog.service import check_uploads_exist, delivery_view
    from sandbox.catalog.service import ingest as ingest_version

    def upload(client):
        check_uploads_exist(files)
        task = client.upload(f"/provider/datasets/{dataset}/versions", [(f.name, f) for f in files])
        return queued(client, task, wait=wait)

    d = remote_or_local(
        upload, lambda ctx, who: delivery_view(ctx, who, ingest_version(ctx, who, dataset, files))
    )
    if d is None:
        return
    if d["identical"]:
        console.print(
            f"{dataset}：与当前版本 v{d['version']} 逐字节相同，未生成新版本 / "
            f"identical to the current version v{d['version']}; no new version"
        )
        return
    console.print(
        f"{dataset} v{d['version']}: {d['rows']:,} 行 / rows, "
        f"schema {d['schema_hash'][:12]}, sha256 {d['content_sha256'][:12]} ({d['engine']})",
        highlight=False,
    )
    if d["verification"]:
        console.print(d["verification"], markup=False)
