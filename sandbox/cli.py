"""The ``sandbox`` command: a thin face over the services (Typer + Rich)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sandbox.context import PlatformContext
from sandbox.domain.errors import ShuyuError
from sandbox.settings import Settings

app = typer.Typer(
    help="数域 Shuyu — 公共数据授权运营隐私计算沙箱 / privacy-preserving sandbox", no_args_is_help=True
)
catalog_app = typer.Typer(help="数据目录 / catalog of providers and datasets", no_args_is_help=True)
audit_app = typer.Typer(help="审计链 / audit chain", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")

console = Console()
err_console = Console(stderr=True)


def _context(*, require_home: bool = True) -> PlatformContext:
    settings = Settings()
    ctx = PlatformContext(settings) if not settings.user else PlatformContext(settings, actor=settings.user)
    if require_home:
        ctx.require_home()
    return ctx


def friendly_errors(func):
    """Print Shuyu errors as bilingual messages with their code and exit 2; no tracebacks for users."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ShuyuError as err:
            err_console.print(f"[bold red]错误 {err.code}[/]：{err.zh}")
            err_console.print(f"[bold red]error {err.code}[/]: {err.en}")
            quarantine = getattr(err, "quarantine_path", None)
            if quarantine:
                err_console.print(f"已隔离保存 / kept in quarantine: {quarantine}")
            raise typer.Exit(2) from None

    return wrapper


@app.command()
@friendly_errors
def init() -> None:
    """初始化平台主目录 / initialise the sandbox home (zones, keys, database schema)."""
    ctx = _context(require_home=False)
    created = ctx.init_home()
    state = "已创建 / created" if created else "已是最新 / already up to date"
    console.print(f"{ctx.settings.home_dir}: {state}")


@app.command()
@friendly_errors
def synth(
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("county"),
    people: Annotated[int, typer.Option(min=100, help="人口数 / number of people")] = 20000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 7,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.2, help="缺陷注入率 / defect rate")] = 0.01,
) -> None:
    """生成合成县域数据 / generate a synthetic county with known defects and its catalog."""
    from sandbox.synth import generate

    result = generate(out, people=people, seed=seed, defect_rate=defect_rate)
    table = Table(title=f"合成数据 / synthetic county → {out}")
    table.add_column("数据集 / dataset")
    table.add_column("行数 / rows", justify="right")
    for name, rows in result.row_counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"注入缺陷 / injected defects: {result.defect_count:,}; 目录 / catalog: {result.catalog_path}"
    )


@catalog_app.command("load")
@friendly_errors
def catalog_load(file: Path) -> None:
    """登记目录文件中的数据提供单位与数据集 / register the providers and datasets of a catalog file."""
    from sandbox.catalog.service import load_catalog, read_catalog_file

    ctx = _context()
    summary = load_catalog(ctx, read_catalog_file(file).catalog)
    console.print(
        f"新登记数据提供单位 / providers added: {len(summary.providers_added)}；"
        f"新登记数据集 / datasets added: {len(summary.datasets_added)}；"
        f"未变化 / unchanged: {len(summary.datasets_unchanged)}"
    )


@catalog_app.command("list")
@friendly_errors
def catalog_list() -> None:
    """列出已登记的数据集 / list registered datasets."""
    from sandbox.catalog.service import list_datasets

    table = Table(title="数据目录 / catalog")
    for col in (
        "数据集 / dataset",
        "名称 / title",
        "提供单位 / provider",
        "分级 / grade",
        "更新 / cycle",
        "最新版本 / latest",
        "行数 / rows",
    ):
        table.add_column(col)
    for row, latest in list_datasets(_context()):
        table.add_row(row.id, row.title, row.provider_id, row.grade, row.update_cycle,
                      f"v{latest.version}" if latest else "—", f"{latest.row_count:,}" if latest else "—")  # fmt: skip
    console.print(table)


@catalog_app.command("show")
@friendly_errors
def catalog_show(dataset: str) -> None:
    """显示数据集的列、分级与版本 / show a dataset's columns, grading and versions."""
    from sandbox.catalog.service import show_dataset
    from sandbox.display import shanghai_time

    view = show_dataset(_context(), dataset)
    d = view.dataset
    console.print(f"[bold]{d.id}[/] {d.title} — {view.provider_name}（{d.provider}）")
    console.print(f"分级 / grade: {d.grade.value}；更新周期 / update cycle: {d.update_cycle.value}；"
                  f"提供方式 / provision: {'、'.join(p.value for p in d.provision)}；主键 / keys: {', '.join(d.keys)}")  # fmt: skip
    columns = Table(title="列 / columns")
    for col in (
        "列 / column",
        "名称 / title",
        "类型 / type",
        "角色 / role",
        "个人信息 / PII",
        "分级 / grade",
        "敏感度 / PI",
        "必填 / req",
    ):
        columns.add_column(col)
    for c in d.columns:
        columns.add_row(c.name, c.title, c.type.value, c.role.value, c.pii.value, c.grade.value,
                        c.personal_info.value, "是" if c.required else "")  # fmt: skip
    console.print(columns)
    versions = Table(title="版本 / versions")
    for col in (
        "版本 / version",
        "行数 / rows",
        "重复键 / dup keys",
        "模式哈希 / schema",
        "内容 SHA-256 / content",
        "引擎 / engine",
        "时间 / time (Asia/Shanghai)",
    ):
        versions.add_column(col)
    for v in view.versions:
        versions.add_row(f"v{v.version}", f"{v.row_count:,}", str(v.duplicate_key_count), v.schema_hash[:12],
                         v.content_sha256[:12], v.engine, shanghai_time(v.created_at))  # fmt: skip
    console.print(versions)
    if view.quarantined:
        quarantine = Table(title="隔离区 / quarantine")
        for col in ("原因 / reason", "位置 / where", "时间 / time"):
            quarantine.add_column(col)
        for q in view.quarantined:
            detail = json.loads(q.detail_json)
            where = " ".join(
                str(x) for x in (detail.get("file"), detail.get("line"), detail.get("column")) if x
            )
            quarantine.add_row(q.reason, where, shanghai_time(q.created_at))
        console.print(quarantine)


@app.command()
@friendly_errors
def ingest(dataset: str, files: list[Path]) -> None:
    """导入数据集的新版本 / ingest files as the dataset's next immutable raw version."""
    from sandbox.catalog.service import ingest as ingest_version

    version = ingest_version(_context(), dataset, files)
    console.print(
        f"{dataset} v{version.version}: {version.row_count:,} 行 / rows, "
        f"schema {version.schema_hash[:12]}, sha256 {version.content_sha256[:12]} ({version.engine})"
    )


@audit_app.command("verify")
@friendly_errors
def audit_verify() -> None:
    """校验整条审计链 / verify the whole audit chain; names the first bad event."""
    result = _context().verify_audit()
    if result.ok:
        console.print(f"[green]✓[/] {result.message}")
        return
    err_console.print(f"[bold red]✗[/] {result.message}")
    raise typer.Exit(1)


@audit_app.command("log")
@friendly_errors
def audit_log(limit: Annotated[int, typer.Option(help="条数 / how many")] = 20) -> None:
    """最近的审计事件 / the most recent audit events."""
    from sandbox.audit.chain import recent
    from sandbox.display import shanghai_time

    table = Table(title="审计事件 / audit events")
    for col in ("#", "时间 / time", "操作者 / actor", "动作 / action", "对象 / object"):
        table.add_column(col)
    with _context().sessions() as session:
        for e in recent(session, limit):
            table.add_row(
                str(e.seq), shanghai_time(e.ts), e.actor, e.action, f"{e.object_type}:{e.object_id}"
            )
    console.print(table)


@app.command()
@friendly_errors
def demo(
    people: Annotated[int, typer.Option(min=100, help="合成人口 / synthetic people")] = 20000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 7,
) -> None:
    """从空主目录运行演示 / run the demo from an empty home: synthesize, register, ingest, verify."""
    from sandbox.demo import run_demo

    run_demo(Settings(), console, people=people, seed=seed)
