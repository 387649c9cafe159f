"""``sandbox init``, ``sandbox synth`` and ``sandbox demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sandbox.cli.common import IdParam, console, context, friendly_errors, host_only
from sandbox.cli.output import Col, Format, FormatOption, emit
from sandbox.domain.identifiers import IdKind
from sandbox.settings import Settings


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(synth)
    app.command()(demo)


@friendly_errors
def init(
    admin: Annotated[
        str,
        typer.Option(
            parser=IdParam(IdKind.USER),
            metavar="USERNAME",
            help="首个管理员用户名 / the first administrator's user name",
        ),
    ] = "admin",
    served: Annotated[
        bool,
        typer.Option(
            "--served",
            help="部署为服务：此后本机 --as 仅限管理员，其他人经服务操作 / a deployment: from now on local "
            "--as is for administrators only, everyone else goes through the service",
        ),
    ] = False,
) -> None:
    """初始化平台主目录 / initialise the sandbox home (zones, keys, database schema, first admin)."""
    from sandbox.governance.identities import bootstrap_admin

    ctx = context(require_home=False)
    created = ctx.init_home()
    admin_created = bootstrap_admin(ctx, admin)
    state = "已创建 / created" if created else "已是最新 / already up to date"
    console.print(f"{ctx.settings.home_dir}: {state}")
    if admin_created:
        console.print(f"管理员 / administrator: {admin}（使用 --as {admin} 操作 / act with --as {admin}）")
    if served:
        ctx.mark_served()
        console.print("已部署为服务：本机 --as 仅限管理员 / served: local --as is for administrators only")


@friendly_errors
def synth(
    out: Annotated[Path, typer.Option(help="输出目录 / output directory")] = Path("county"),
    people: Annotated[int, typer.Option(min=100, help="人口数 / number of people")] = 20000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 7,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.1, help="缺陷注入率 / defect rate")] = 0.01,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """生成合成县域数据 / generate a synthetic county with known defects and its catalog."""
    from sandbox.synth import generate

    host_only()
    result = generate(out, people=people, seed=seed, defect_rate=defect_rate)
    columns = [Col("dataset", "数据集", "dataset", ident=True), Col("rows", "行数", "rows")]
    emit(console, f"合成数据 / synthetic county → {out}", columns,
         [{"dataset": name, "rows": count} for name, count in result.rows.items()], fmt)  # fmt: skip
    if fmt is Format.TABLE:
        console.print(
            f"注入缺陷 / injected defects: {result.defects:,}；植入个人信息 / planted PII: {result.planted_pii:,}；"
            f"目录 / catalog: {result.catalog}",
            highlight=False,
        )


@friendly_errors
def demo(
    people: Annotated[int, typer.Option(min=100, help="合成人口 / synthetic people")] = 20000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 7,
) -> None:
    """从空主目录运行演示 / run the demo from an empty home."""
    from sandbox.demo import run_demo

    host_only()
    run_demo(Settings(), console, people=people, seed=seed)
