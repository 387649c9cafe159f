"""``sandbox samples``: build a scenario's desensitized samples, show their card, list profile findings."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from sandbox.cli.common import (
    DEVELOPER_OR_STAFF,
    ScenarioArg,
    WaitOption,
    console,
    friendly_errors,
    queued,
    remote_or_local,
)
from sandbox.cli.output import Col, Format, FormatOption, emit, write_json
from sandbox.cli.progress import progress

samples_app = typer.Typer(help="脱敏样例数据 / desensitized samples", no_args_is_help=True)

#: Who reads profile findings (``findings_for``): staff all of them, a provider those on its own datasets.
FINDINGS_READERS = {"operator": "/operator", "admin": "/operator", "provider": "/provider"}

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
    wait: WaitOption = False,
) -> None:
    """生成场景的脱敏样例（运营人员；经服务时排队）/ build a scenario's desensitized samples (operators; queued
    through a service: its task id is printed, or with --wait its card once built)."""
    from sandbox.samples import build_samples, card_of

    def through_service(client):
        task = client.post(f"/operator/scenarios/{scenario}/samples", json={"seed": seed})
        if queued(client, task, wait=wait) is None:
            return None
        return client.get(f"/operator/scenarios/{scenario}/samples")  # the card of what was built

    def on_host(ctx, who):
        with progress("生成脱敏样例", "building desensitized samples") as stage:
            return card_of(build_samples(ctx, who, scenario, seed=seed, stages=stage))

    card = remote_or_local(through_service, on_host)
    if card:
        print_card_summary(card)


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

    def on_host(ctx, who):
        card = card_of(show_samples(ctx, who, scenario))
        return card, {d: str(sample_dir(ctx, scenario, d)) for d in card["datasets"]}

    # through a service there are no paths: the samples stay on the platform host
    card, paths = remote_or_local(
        lambda c: (c.get(f"{c.route(DEVELOPER_OR_STAFF)}/scenarios/{scenario}/samples"), None), on_host
    )
    if markdown:
        console.print(card_markdown(card), markup=False, highlight=False, soft_wrap=True)
    elif fmt is Format.JSON:
        write_json({**card, "paths": paths})
    elif fmt is Format.CSV:
        emit(
            console,
            "",
            _CARD_COLUMNS,
            [{"dataset": k, **d, "path": (paths or {}).get(k)} for k, d in card["datasets"].items()],
            fmt,
        )
    else:
        print_card_summary(card, paths=paths)


@samples_app.command("findings")
@friendly_errors
def findings(fmt: FormatOption = Format.TABLE) -> None:
    """数据画像发现的误登记列（运营人员、数据提供单位）/ columns declared harmless that hold identifiers."""
    from sandbox.samples import finding_view, findings_for

    columns = [
        Col("dataset", "数据集", "dataset", ident=True),
        Col("column", "列", "column", ident=True),
        Col("declared_kind", "登记", "declared"),
        Col("detected_kind", "检出", "detected"),
        Col("share", "占比", "share", show=lambda v: f"{v:.0%}"),
    ]
    rows = remote_or_local(
        lambda c: c.get(f"{c.route(FINDINGS_READERS)}/samples/findings"),
        lambda ctx, who: [finding_view(f) for f in findings_for(ctx, who)],
    )
    emit(console, "画像标记 / profile findings", columns, rows, fmt)
