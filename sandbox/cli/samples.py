"""``sandbox samples``: build a scenario's desensitized samples, show their card, list profile findings."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from sandbox.cli.common import ScenarioArg, acting, console, context, friendly_errors
from sandbox.cli.output import Col, Format, FormatOption, emit, write_json
from sandbox.cli.progress import progress

samples_app = typer.Typer(help="脱敏样例数据 / desensitized samples", no_args_is_help=True)

_CARD_COLUMNS = [
    Col("dataset", "数据集", "dataset", ident=True),
    Col("rows", "行数", "rows"),
    Col("entities", "主体", "entities"),
    Col("k", "k", "k"),
    Col("suppressed_entities", "抑制主体", "suppressed"),
    Col("l_diversity", "l-多样性", "l-diversity", show=lambda d: ", ".join(f"{c}={v}" for c, v in d.items())),
    Col("path", "位置", "path", ident=True),
]


def register(app: typer.Typer) -> None:
    app.add_typer(samples_app, name="samples")


def print_card_summary(card: dict, out: Console = console, paths: dict[str, str] | None = None) -> None:
    rows = [
        {"dataset": dataset_id, **d, "path": (paths or {}).get(dataset_id)}
        for dataset_id, d in card["datasets"].items()
    ]
    columns = _CARD_COLUMNS if paths else _CARD_COLUMNS[:-1]
    emit(
        out,
        f"样例 / samples {card['scenario']} v{card['version']}（种子 / seed {card['seed']}）",
        columns,
        rows,
    )
    out.print(card["residual_risk"]["zh"], highlight=False)
    out.print(card["residual_risk"]["en"], highlight=False)


@samples_app.command("build")
@friendly_errors
def build(
    scenario: ScenarioArg,
    seed: Annotated[
        int | None,
        typer.Option(help="抽样种子（留空则随机并记录）/ sampling seed (random and recorded if omitted)"),
    ] = None,
) -> None:
    """生成场景的脱敏样例（运营人员）/ build a scenario's desensitized samples (operators)."""
    from sandbox.samples import build_samples, card_of

    ctx = context()
    with progress("生成脱敏样例", "building desensitized samples") as stage:
        row = build_samples(ctx, acting(ctx), scenario, seed=seed, stages=stage)
    print_card_summary(card_of(row))


@samples_app.command("show")
@friendly_errors
def show(
    scenario: ScenarioArg,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="打印完整样例卡 / print the full card")
    ] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """查看场景当前样例及样例卡（场景开发人员、运营人员）/ show the current samples and card (members, operators)."""
    from sandbox.samples import card_of, sample_dir, show_samples
    from sandbox.samples.card import card_markdown

    ctx = context()
    card = card_of(show_samples(ctx, acting(ctx), scenario))
    paths = {d: str(sample_dir(ctx, scenario, d)) for d in card["datasets"]}
    if markdown:
        console.print(card_markdown(card), markup=False, highlight=False, soft_wrap=True)
    elif fmt is Format.JSON:
        write_json({**card, "paths": paths})
    elif fmt is Format.CSV:
        emit(
            console,
            "",
            _CARD_COLUMNS,
            [{"dataset": k, **d, "path": paths[k]} for k, d in card["datasets"].items()],
            fmt,
        )
    else:
        print_card_summary(card, paths=paths)


@samples_app.command("findings")
@friendly_errors
def findings(fmt: FormatOption = Format.TABLE) -> None:
    """数据画像发现的误登记列（运营人员、数据提供单位）/ columns declared harmless that hold identifiers."""
    from sandbox.samples import findings_for

    ctx = context()
    columns = [
        Col("dataset", "数据集", "dataset", ident=True),
        Col("column", "列", "column", ident=True),
        Col("declared_kind", "登记", "declared"),
        Col("detected_kind", "检出", "detected"),
        Col("share", "占比", "share", show=lambda v: f"{v:.0%}"),
    ]
    rows = [{"dataset": f.dataset_id, "column": f.column, "declared_kind": f.declared_kind,
             "detected_kind": f.detected_kind, "share": f.share} for f in findings_for(ctx, acting(ctx))]  # fmt: skip
    emit(console, "画像标记 / profile findings", columns, rows, fmt)
