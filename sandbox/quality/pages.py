"""Every HTML page of the tickets zone opens offline, loads nothing from outside and renders Chinese.

Providers open these pages from inside the domain, often on machines with no internet, and a page
that fetches a script or a stylesheet from a public CDN tells that CDN who read what and when.
``self_contained`` is the one gate every page passes — Shuyu's reports and GX's Data Docs alike:

- scripts go (ours have none; GX's only drive the CDN libraries its pages could load),
- stylesheets, images, frames and media from another host go; a link out keeps its text, not its
  target; a CSS ``url()`` to another host becomes ``none``;
- the platform's private paths (its home, where the raw zone lives) are masked;
- the page declares a CJK font stack, so Chinese renders with the viewer's own system font —
  Microsoft YaHei on Windows, PingFang on macOS, Noto CJK or WenQuanYi on Linux — and never
  falls to whatever a Latin-only default finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from html.parser import HTMLParser
from pathlib import Path

#: Simplified-Chinese sans-serif faces, most common first on each system, then the generic family.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
)
FONT_FAMILY = ", ".join(f"'{name}'" for name in CJK_FONTS) + ", sans-serif"
MARKER = '<meta name="generator" content="Shuyu self-contained page">'
MASK = "…"
_FONT_STYLE = f"<style>body{{font-family:{FONT_FAMILY}}}</style>"

#: A reference to another host: a scheme with an authority (``https://``, ``file://``) or ``//host``.
_ELSEWHERE = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^)'\"]*)\1\s*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?\s*(?:[a-z][a-z0-9+.\-]*:)?//[^;]*;", re.IGNORECASE)
_LOADS = ("src", "srcset", "data", "poster", "background")  # attributes whose target a browser fetches
_POINTS = ("href", "action", "formaction", "cite")  # attributes a click (or a link element) follows
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})  # fmt: skip


def elsewhere(url: str) -> bool:
    return bool(_ELSEWHERE.match(url))


def _css(text: str) -> str:
    """CSS with every import and ``url()`` of another host removed."""
    text = _CSS_IMPORT.sub("", text)
    return _CSS_URL.sub(lambda m: "none" if elsewhere(m.group(2)) else m.group(0), text)


class _Rewriter(HTMLParser):
    """Re-emits a page as written, except what would load, run or point outside it."""

    def __init__(self, *, declare: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.declare = declare  # add the marker and the font stack (not again on a page that has them)
        self.out: list[str] = []
        self.skipping: str | None = None  # a dropped element whose content goes too (script)
        self.unwrapped: list[str] = []  # dropped non-void elements whose content stays (their end tags go)
        self.in_style = False

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.skipping:
            return
        if tag == "script":
            self.skipping = None if closed else tag
            return
        loads = any(name in _LOADS and value and _loads_elsewhere(name, value) for name, value in attrs)
        refresh = tag == "meta" and any(
            n == "http-equiv" and (v or "").lower() == "refresh" for n, v in attrs
        )
        linked = tag in ("link", "base") and any(n == "href" and v and elsewhere(v) for n, v in attrs)
        if loads or refresh or linked:
            if tag not in _VOID and not closed:
                self.unwrapped.append(tag)
            return
        kept = [
            (name, _css(value) if name == "style" and value else value)
            for name, value in attrs
            if not (name in _POINTS and value and elsewhere(value))
        ]
        if kept == attrs:
            self.out.append(self.get_starttag_text() or "")
        else:
            shown = "".join(f" {n}" if v is None else f' {n}="{escape(v, quote=True)}"' for n, v in kept)
            self.out.append(f"<{tag}{shown}{' /' if closed else ''}>")
        if tag == "head" and self.declare:
            self.out.append(MARKER)
        self.in_style = tag == "style" and not closed

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs, closed=True)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        if self.unwrapped and self.unwrapped[-1] == tag:
            self.unwrapped.pop()
            return
        if tag == "head" and self.declare:
            self.out.append(_FONT_STYLE)
        self.in_style = False
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(_css(data) if self.in_style else data)

    def handle_entityref(self, name):
        if not self.skipping:
            self.out.append(f"&{name};")

    def handle_charref(self, name):
        if not self.skipping:
            self.out.append(f"&#{name};")

    def handle_comment(self, data):
        if not self.skipping:
            self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.out.append(f"<![{data}]>")


def _loads_elsewhere(name: str, value: str) -> bool:
    if name == "srcset":
        return any(elsewhere(part.strip()) for part in value.split(","))
    return elsewhere(value)


def self_contained(html: str, private: Iterable[Path] = ()) -> str:
    """The page with nothing loaded, run or linked outside it, private paths masked, the CJK font stack declared."""
    for path in private:
        for spelled in {str(path), str(Path(path).resolve())}:
            html = html.replace(spelled, MASK)
    rewriter = _Rewriter(declare=MARKER not in html)
    rewriter.feed(html)
    rewriter.close()
    return "".join(rewriter.out)


def is_self_contained(path: Path) -> bool:
    """Whether a written page already passed ``self_contained`` (its marker is in its first bytes)."""
    with path.open("rb") as handle:
        return MARKER.encode() in handle.read(1024)


def write_page(path: Path, html: str, private: Iterable[Path] = ()) -> Path:
    path.write_text(self_contained(html, private), encoding="utf-8")
    return path
