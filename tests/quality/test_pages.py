"""``pages.self_contained``: what a page keeps, what it loses, on the constructs GX's Data Docs use."""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.quality.pages import CJK_FONTS, MARKER, self_contained

#: Anything a browser would fetch, run or follow on another host (an independent reading of the rule).
OUTSIDE = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data|background)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)|(?:@import)|(?:<script\b)""",
    re.IGNORECASE,
)

PAGE = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="UTF-8">
    <link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
    <link rel="stylesheet" type="text/css" href="//unpkg.com/bootstrap-table.css">
    <link rel="shortcut icon" href="../../static/images/favicon.ico">
    <style>@import url("https://fonts.example/cjk.css"); .logo{background:url('https://cdn.example/logo.png')}
    .local{background:url(../static/images/bg.png)}</style>
    <script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
  </head>
  <body>
    <img src="https://s3.example/logo-long.png?d=1&amp;dataContextId=ed90" alt="GX">
    <img srcset="small.png 1x, https://cdn.example/big.png 2x">
    <a href="https://greatexpectations.io">Great Expectations</a> &amp; <a href="../index.html">索引</a>
    <div style="background-image:url(https://cdn.example/x.png);color:red">批次 /home/shuyu/.sandbox/raw/hukou/v0001</div>
    <svg xmlns="http://www.w3.org/2000/svg"><text>数据质量</text></svg>
    <iframe src="https://tracker.example/"><p>回退内容</p></iframe>
    <script>$('#t').bootstrapTable({data: []});</script>
  </body>
</html>"""


def test_nothing_outside_survives_and_everything_local_does():
    page = self_contained(PAGE, private=[Path("/home/shuyu/.sandbox")])
    assert not OUTSIDE.findall(page), OUTSIDE.findall(page)
    assert "/home/shuyu" not in page and "批次 …/raw/hukou/v0001" in page  # the private path masked
    for kept in ('href="../../static/images/favicon.ico"', 'href="../index.html"', "url(../static/images/bg.png)",
                 "&amp;", "数据质量", "回退内容", 'xmlns="http://www.w3.org/2000/svg"', "color:red", "Great Expectations"):  # fmt: skip
        assert kept in page, kept
    assert "bootstrapTable" not in page and "jquery" not in page
    assert page.startswith("<!DOCTYPE html>") and MARKER in page
    assert all(f"'{font}'" in page for font in CJK_FONTS)


def test_a_page_passes_once():
    once = self_contained(PAGE)
    assert self_contained(once) == once
    assert once.count(MARKER) == 1
