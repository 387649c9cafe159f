"""Small inline SVG charts for the report pages: no script, no web fonts, nothing fetched when opened."""

from __future__ import annotations

from html import escape

from sandbox.quality.pages import FONT_FAMILY

_FONT = f'font-family="{FONT_FAMILY}" font-size="12"'  # labels are Chinese: the pages' CJK font stack


def _colour(score: float) -> str:
    return "#2e7d32" if score >= 99 else "#f9a825" if score >= 95 else "#c62828"


def score_bars(items: list[tuple[str, float]], *, width: int = 560) -> str:
    """Horizontal bars of scores out of 100, one per label."""
    if not items:
        return "<p>—</p>"
    label_w, row_h = 170, 26
    bar_w = width - label_w - 60
    rows = []
    for i, (label, score) in enumerate(items):
        y = i * row_h + 4
        length = max(bar_w * score / 100, 1)
        rows.append(
            f'<text x="0" y="{y + 14}" {_FONT}>{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" fill="#eceff1"/>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="18" fill="{_colour(score)}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 14}" {_FONT}>{score:.2f}</text>'
        )
    height = len(items) * row_h + 8
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(rows)}</svg>'


def count_bars(items: list[tuple[str, int]], *, width: int = 560) -> str:
    """Horizontal bars of counts, scaled to the largest."""
    if not items:
        return "<p>无 / none</p>"
    label_w, row_h = 230, 26
    bar_w = width - label_w - 70
    top = max(count for _, count in items) or 1
    rows = []
    for i, (label, count) in enumerate(items):
        y = i * row_h + 4
        rows.append(
            f'<text x="0" y="{y + 14}" {_FONT}>{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(bar_w * count / top, 1):.1f}" height="18" fill="#c62828"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 14}" {_FONT}>{count:,}</text>'
        )
    height = len(items) * row_h + 8
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{"".join(rows)}</svg>'


def trend_line(points: list[tuple[str, float]], *, width: int = 560, height: int = 180) -> str:
    """Scores across versions (oldest first) on a 0-100 axis zoomed to the observed range."""
    if not points:
        return "<p>—</p>"
    left, right, top, bottom = 40, 20, 14, 30
    low = min(min(s for _, s in points) - 1, 99)
    span = max(100 - low, 1)
    step = (width - left - right) / max(len(points) - 1, 1)

    def xy(i: int, score: float) -> tuple[float, float]:
        return left + i * step, top + (100 - score) / span * (height - top - bottom)

    coords = [xy(i, s) for i, (_, s) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_colour(s)}"/>'
        f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" {_FONT}>{s:.2f}</text>'
        f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" {_FONT}>{escape(label)}</text>'
        for (x, y), (label, s) in zip(coords, points, strict=True)
    )
    axis = (
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#90a4ae"/>'
        f'<text x="4" y="{top + 4}" {_FONT}>100</text><text x="4" y="{height - bottom}" {_FONT}>{low:.0f}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{axis}'
        f'<polyline points="{path}" fill="none" stroke="#1565c0" stroke-width="2"/>{marks}</svg>'
    )
