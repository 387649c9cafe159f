"""``sandbox demo``: the whole platform on a fresh home, end to end, on a synthetic county.

It refuses to touch a home that it did not create, so it can never wipe real data.
"""

from __future__ import annotations

import shutil
import time

from rich.console import Console

from sandbox.context import PlatformContext
from sandbox.domain.errors import AuditChainBroken, HomeError
from sandbox.settings import Settings


def prepare_home(settings: Settings) -> None:
    """Empty the home if it is a previous demo's; refuse if it holds anything else."""
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise HomeError(
            "演示只使用内置 SQLite 数据库，请取消 SANDBOX_DATABASE_URL",
            "the demo runs on the embedded SQLite store only; unset SANDBOX_DATABASE_URL",
        )
    home = settings.home_dir
    if not home.exists() or not any(home.iterdir()):
        return
    marker = PlatformContext(settings).home_marker()
    if not marker or not marker.get("demo"):
        raise HomeError(
            f"{home} 不是空目录，也不是此前演示创建的主目录；演示不会覆盖它。请设置 SANDBOX_HOME 指向空目录。",
            f"{home} is neither empty nor a previous demo's home; the demo will not overwrite it. "
            "Point SANDBOX_HOME at an empty directory.",
        )
    shutil.rmtree(home)


def run_demo(settings: Settings, console: Console, *, people: int = 20000, seed: int = 7) -> PlatformContext:
    from sandbox.catalog.service import ingest, load_catalog, read_catalog_file
    from sandbox.cli.common import table
    from sandbox.demo.cast import create_cast
    from sandbox.demo.scenarios import ELDERLY_CARE, authorize_operator, take_to_active
    from sandbox.governance.access import principal_for
    from sandbox.governance.identities import bootstrap_admin
    from sandbox.synth import generate

    started = time.perf_counter()
    prepare_home(settings)
    ctx = PlatformContext(settings, actor="admin")
    ctx.init_home(demo=True)
    bootstrap_admin(ctx)
    console.rule("数域 Shuyu 演示 / demo")
    console.print(f"主目录 / home: {settings.home_dir}")

    deliveries = settings.home_dir / "deliveries" / "county"
    with console.status("合成县域数据 / synthesizing the county…"):
        synth = generate(deliveries, people=people, seed=seed)
    console.print(
        f"[green]✓[/] 合成 / synthesized {people:,} people in 云泽市, {synth.defects:,} known defects"
    )

    catalog_file = read_catalog_file(synth.catalog)
    catalog = catalog_file.catalog
    summary = load_catalog(ctx, principal_for(ctx, "admin"), catalog)
    users = create_cast(ctx, catalog)
    console.print(
        f"[green]✓[/] 目录 / catalog: {len(summary.providers_added)} providers, {len(summary.datasets_added)} datasets; "
        f"用户 / users: {', '.join(users)}"
    )

    versions = table("原始区版本 / raw-zone versions", "数据集 / dataset", "导入者 / by", "版本 / version",
                     "行数 / rows", "重复键 / dup keys", "SHA-256")  # fmt: skip
    with console.status("数据提供单位导入原始数据 / providers deliver raw data…"):
        for dataset in catalog.datasets:
            provider = principal_for(ctx, f"provider-{dataset.provider}")
            version = ingest(ctx, provider, dataset.id, [catalog_file.files[dataset.id]])
            versions.add_row(dataset.id, provider.username, f"v{version.version}", f"{version.row_count:,}",
                             str(version.duplicate_key_count), version.content_sha256[:16])  # fmt: skip
    console.print(versions)

    authorization = authorize_operator(ctx, catalog)
    take_to_active(ctx, catalog, ELDERLY_CARE)
    console.print(
        f"[green]✓[/] 授权 / authorization {authorization}；场景 / scenario {ELDERLY_CARE['scenario_id']}: "
        "draft → submitted → under_review → approved → active（姓名列被数据提供单位拒绝 / name column refused）"
    )

    verdict = ctx.verify_audit()
    if not verdict.ok:
        raise AuditChainBroken(verdict.problem_zh or "", verdict.problem_en or "")
    console.print(f"[green]✓[/] {verdict.message}")
    console.print(f"完成 / done in {time.perf_counter() - started:.1f}s — SANDBOX_HOME={settings.home_dir}")
    console.print(
        f"试试 / try: SANDBOX_HOME={settings.home_dir} .venv/bin/sandbox --as operator-1 scenario show elderly-care"
    )
    return ctx
