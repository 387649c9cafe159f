"""A provider's GX Data Docs site as it may be opened: every page self-contained, and an index that needs no script.

GX writes its pages with scripts and stylesheets from public CDNs, an S3-hosted logo carrying the
context's id, and an index whose table is drawn by jQuery. After each build every page that has
not passed ``pages.self_contained`` yet does (pages of earlier builds included), and the index is
replaced by a static list of the site's validation pages, newest first. GX's own custom-styles
hook (``install_styles``) stands in for the CDN stylesheets and icon font a page no longer loads:
pass and fail marks as text, and the widgets that only scripts made work hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from sandbox.display import SHANGHAI
from sandbox.quality.pages import is_self_contained, write_page

INDEX = "index.html"
VALIDATIONS = "validations"
#: Inlined by GX into every page it renders (``plugins/custom_data_docs/styles``).
GX_STYLES = """
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:top}
.fa-check-circle::before{content:"\\2714";color:#2e7d32}.fa-times::before{content:"\\2718";color:#c62828}
footer,.modal,a[data-toggle="collapse"],.card:has(input[type="radio"]){display:none}
"""


def install_styles(plugins_directory: Path) -> None:
    styles = plugins_directory / "custom_data_docs" / "styles"
    styles.mkdir(parents=True, exist_ok=True)
    (styles / "data_docs_custom_styles.css").write_text(GX_STYLES, encoding="utf-8")


def finish_site(site: Path, private: Iterable[Path] = ()) -> None:
    private = tuple(private)
    write_page(site / INDEX, index_html(site), private)
    for page in site.rglob("*.html"):  # the index is marked already
        if not is_self_contained(page):
            write_page(page, page.read_text(encoding="utf-8"), private)


def _run_time(stamp: str) -> str:
    """GX's run-time directory (``20261204T205942.375493Z``, UTC) as a Shanghai time."""
    try:
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return escape(stamp)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def index_html(site: Path) -> str:
    """validations/<suite>/<run name>/<run time>/<batch>.html, one row each, newest first."""
    rows = []
    for page in (site / VALIDATIONS).rglob("*.html") if (site / VALIDATIONS).is_dir() else ():
        parts = page.relative_to(site / VALIDATIONS).parts
        if len(parts) < 4:
            continue
        suite, run_name, stamp = ".".join(parts[:-3]), parts[-3], parts[-2]
        rows.append((stamp, suite, run_name, page.relative_to(site).as_posix()))
    rows.sort(reverse=True)
    body = "".join(
        f"<tr><td>{escape(suite)}</td><td>{escape(run_name)}</td><td>{_run_time(stamp)}</td>"
        f'<td><a href="{escape(link)}">校验结果 / results</a></td></tr>'
        for stamp, suite, run_name, link in rows
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>GX Data Docs</title>'
        "<style>body{margin:2em;color:#263238}table{border-collapse:collapse}"
        "td,th{border:1px solid #cfd8dc;padding:4px 8px;font-size:13px;text-align:left}</style></head><body>"
        "<h1>GX Data Docs 校验结果 / validation results</h1>"
        "<table><tr><th>数据集 dataset</th><th>版本与检查 version and run</th>"
        f"<th>时间（北京时间）/ time (Asia/Shanghai)</th><th></th></tr>{body}</table></body></html>"
    )
