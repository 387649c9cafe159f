"""The demo's samples: the elderly-care scenario's desensitized samples, built by operator-1."""

from __future__ import annotations

from rich.console import Console

from sandbox.context import PlatformContext


def build_demo_samples(ctx: PlatformContext, console: Console) -> None:
    from sandbox.cli.samples import print_card_summary
    from sandbox.demo.scenarios import ELDERLY_CARE
    from sandbox.governance.access import principal_for
    from sandbox.samples import build_samples, card_of

    scenario = ELDERLY_CARE["scenario_id"]
    with console.status("生成脱敏样例 / building desensitized samples…"):
        row = build_samples(ctx, principal_for(ctx, "operator-1"), scenario, seed=7)
    console.print(f"[green]✓[/] 样例 / samples {scenario} v{row.version}")
    print_card_summary(card_of(row), console)
