"""The web UI's one translation table (``texts.yaml``): every label in Simplified Chinese (the default) and
English.

A page's language is ``?lang=zh|en`` (then remembered in a cookie), else the cookie, else Chinese.
States, roles and kinds are not repeated here: their Chinese names are ``sandbox.domain.labels``'
(the CLI prints the same ones) and their English names are the stored slugs.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path

import yaml
from fastapi import Request

from sandbox.domain.labels import ZH
from sandbox.domain.quality import DIMENSION_EN, Dimension
from sandbox.domain.scenario import ScenarioCategory

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "shuyu_lang"

#: The enums whose labels pages show, by name (templates say ``label("TicketState", value)``).
KINDS: dict[str, type[StrEnum]] = {kind.__name__: kind for kind in ZH}
_CATEGORY_EN = {
    ScenarioCategory.PUBLIC_GOVERNANCE: "public governance",
    ScenarioCategory.PUBLIC_WELFARE: "public welfare",
    ScenarioCategory.INDUSTRY: "industry development",
    ScenarioCategory.SECTOR: "sector development",
}


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in LANGS:
        return chosen
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGS else DEFAULT_LANG


def text(lang: str, key: str, **values: object) -> str:
    """The label ``key`` in ``lang``; a missing key is a programming error (a test reads every template)."""
    zh, en = TEXT[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen


def label(lang: str, kind: str, value: str | None) -> str:
    """A stored state, role or kind as a reader reads it; an unknown slug (an older release's) as it is."""
    if value is None:
        return "—"
    if kind == "Dimension":
        return value if lang == "zh" or value not in set(Dimension) else DIMENSION_EN[Dimension(value)]
    if kind == "ScenarioCategory":
        return (
            value
            if lang == "zh" or value not in set(ScenarioCategory)
            else _CATEGORY_EN[ScenarioCategory(value)]
        )
    names = ZH[KINDS[kind]]
    if lang == "zh":
        return names.get(value, value)
    return value.replace("_", " ")


def _load(path: Path) -> dict[str, tuple[str, str]]:
    """The labels file, checked whole at import: a key given twice (YAML keeps the last silently) or a
    label that is not two texts stops the app from starting instead of showing the wrong words."""
    source = path.read_text(encoding="utf-8")
    keys = Counter(line.split(":", 1)[0] for line in source.splitlines() if line and line[0] not in "# ")
    twice = sorted(key for key, seen in keys.items() if seen > 1)
    if twice:
        raise ValueError(f"{path.name}: keys given twice: {', '.join(twice)}")
    labels = {}
    for key, value in yaml.safe_load(source).items():
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise ValueError(f"{path.name}: {key} must be [Chinese, English]")
        labels[key] = (value[0], value[1])
    return labels


#: Every label: key -> (Chinese, English).
TEXT: dict[str, tuple[str, str]] = _load(Path(__file__).with_name("texts.yaml"))
