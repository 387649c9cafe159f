"""Inline SVG charts drawn on the server (no script, nothing fetched): pass rate per quality rule
across versions, and the released cells of a product. Labels use the reports' CJK font stack; a
``viewBox`` lets a chart shrink to a phone's width."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from sandbox.quality.pages import FONT_FAMILY

_FONT = f'font-family="{escape(FONT_FAMILY)}" font-size="13"'
#: Distinguishable on white and for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def _svg(width: int, height: int, body: str, title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def pass_rates(series: list[tuple[str, list[tuple[int, float]]]], title: str, *, width: int = 560,
               height: int = 240) -> Markup:  # fmt: skip
    """One line per rule: its pass rate (0-100) at each version it was checked on, oldest first."""
    versions = sorted({v for _, points in series for v, _ in points})
    if not versions:
        return Markup("<p>—</p>")
    lowest = min(s for _, points in series for _, s in points)
    low = max(0.0, min(lowest - 2, 95.0))
    left, right, top, bottom = 44, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(versions) - 1, 1)

    def x(version: int) -> float:
        return left + versions.index(version) * step if len(versions) > 1 else left + plot_w / 2

    def y(score: float) -> float:
        return top + (100 - score) / (100 - low) * plot_h

    parts = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#90a4ae"/>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#90a4ae"/>',
             f'<text x="4" y="{top + 4}" {_FONT}>100%</text>',
             f'<text x="4" y="{top + plot_h}" {_FONT}>{low:.0f}%</text>']  # fmt: skip
    parts += [
        f'<text x="{x(v):.1f}" y="{height - 12}" text-anchor="middle" {_FONT}>v{v}</text>' for v in versions
    ]
    for i, (rule, points) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        coords = [(x(v), y(s)) for v, s in sorted(points)]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"><title>{escape(rule)} v{v}: {s:.2f}%</title></circle>'
            for (px, py), (v, s) in zip(coords, sorted(points), strict=True)
        ]
    return _svg(width, height, "".join(parts), title)


def legend(series: list[str]) -> list[tuple[str, str]]:
    """(rule, colour) in the order ``pass_rates`` drew them."""
    return [(rule, PALETTE[i % len(PALETTE)]) for i, rule in enumerate(series)]


def cell_bars(
    items: list[tuple[str, float | None]], title: str, suppressed: str, *, width: int = 520
) -> Markup:
    """Horizontal bars of released values, scaled to the largest; a suppressed cell has no bar, only
    the word (its value never left the gate)."""
    if not items:
        return Markup("<p>—</p>")
    label_w, row_h, value_w = 150, 24, 80
    bar_w = width - label_w - value_w
    top = max((v for _, v in items if v is not None), default=0) or 1
    rows = []
    for i, (name, value) in enumerate(items):
        y = i * row_h + 4
        rows.append(f'<text x="0" y="{y + 14}" {_FONT}>{escape(name[:20])}</text>')
        if value is None:
            rows.append(
                f'<text x="{label_w}" y="{y + 14}" fill="#78909c" {_FONT}>{escape(suppressed)}</text>'
            )
            continue
        rows.append(f'<rect x="{label_w}" y="{y}" width="{max(bar_w * value / top, 1):.1f}" height="16" fill="#0072B2"/>'
                    f'<text x="{width - value_w + 6}" y="{y + 13}" {_FONT}>{value:,.10g}</text>')  # fmt: skip
    return _svg(width, len(items) * row_h + 8, "".join(rows), title)
