"""``sandbox samples``: build a scenario's desensitized samples, show their card, list profile findings."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from sandbox.cli.common import acting, console, context, friendly_errors, table

samples_app = typer.Typer(help="脱敏样例数据 / desensitized samples", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(samples_app, name="samples")


def print_card_summary(card: dict, out: Console = console) -> None:
    rows = table(
        f"样例 / samples {card['scenario']} v{card['version']}（种子 / seed {card['seed']}）",
        "数据集 / dataset", "行数 / rows", "主体 / entities", "k", "抑制主体 / suppressed", "l-多样性 / l-diversity",
    )  # fmt: skip
    for dataset_id, d in card["datasets"].items():
        diversity = ", ".join(f"{c}={v}" for c, v in d["l_diversity"].items())
        rows.add_row(
            dataset_id,
            f"{d['rows']:,}",
            f"{d['entities']:,}",
            str(d["k"]),
            f"{d['suppressed_entities']:,}",
            diversity,
        )
    out.print(rows)
    out.print(card["residual_risk"]["zh"])
    out.print(card["residual_risk"]["en"])


@samples_app.command("build")
@friendly_errors
def build(
    scenario: str,
    seed: Annotated[
        int | None,
        typer.Option(help="抽样种子（留空则随机并记录）/ sampling seed (random and recorded if omitted)"),
    ] = None,
) -> None:
    """生成场景的脱敏样例（运营人员）/ build a scenario's desensitized samples (operators)."""
    from sandbox.samples import build_samples, card_of

    ctx = context()
    with console.status("抽样并脱敏 / sampling and desensitizing…"):
        row = build_samples(ctx, acting(ctx), scenario, seed=seed)
    print_card_summary(card_of(row))


@samples_app.command("show")
@friendly_errors
def show(
    scenario: str,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="打印完整样例卡 / print the full card")
    ] = False,
) -> None:
    """查看场景当前样例及样例卡（场景开发人员、运营人员）/ show the current samples and card (members, operators)."""
    from sandbox.samples import card_of, sample_dir, show_samples
    from sandbox.samples.card import card_markdown

    ctx = context()
    card = card_of(show_samples(ctx, acting(ctx), scenario))
    if markdown:
        console.print(card_markdown(card), markup=False)
        return
    print_card_summary(card)
    for dataset_id in card["datasets"]:
        console.print(f"{dataset_id}: {sample_dir(ctx, scenario, dataset_id)}")


@samples_app.command("findings")
@friendly_errors
def findings() -> None:
    """数据画像发现的误登记列（运营人员、数据提供单位）/ columns declared harmless that hold identifiers."""
    from sandbox.samples import findings_for

    ctx = context()
    rows = table(
        "画像标记 / profile findings",
        "数据集 / dataset",
        "列 / column",
        "登记 / declared",
        "检出 / detected",
        "占比 / share",
    )
    for f in findings_for(ctx, acting(ctx)):
        rows.add_row(f.dataset_id, f.column, f.declared_kind, f.detected_kind, f"{f.share:.0%}")
    console.print(rows)
