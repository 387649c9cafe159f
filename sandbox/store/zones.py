"""The home's zones, and the one way to build a path inside one.

Every path under the home that carries an identifier (``samples/<scenario>/<dataset>``,
``staging/<scenario>/<run>``, ``raw/<dataset>/v0001``…) is built here. A part that is empty, ``.``,
``..``, absolute or holds a separator, and any result that resolves outside its zone (a symlink
planted inside included), is refused — so an identifier that slipped past its pattern still cannot
make a build write, or a revocation delete, outside the home.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from sandbox.domain.errors import HomeError
from sandbox.settings import Settings


class Zone(StrEnum):
    RAW = "raw"
    QUARANTINE = "quarantine"
    STAGING = "staging"
    SAMPLES = "samples"
    PRODUCTS = "products"
    JOBS = "jobs"
    RUNS = "runs"
    TICKETS = "tickets"
    WORK = "work"
    LOGS = "logs"
    SECRETS = "secrets"
    REGISTER = "register"


class ZoneEscape(HomeError):
    """A path would leave the zone it belongs to."""

    code = "E701"


_FORBIDDEN = ("/", "\\", "\x00")


def zone_root(settings: Settings, zone: Zone) -> Path:
    return settings.home_dir / zone.value


def zone_path(settings: Settings, zone: Zone, *parts: str) -> Path:
    """``<home>/<zone>/<part>/<part>…``, refused if any part is unsafe or the result leaves the zone."""
    for part in parts:
        if not isinstance(part, str) or part in ("", ".", "..") or any(c in part for c in _FORBIDDEN):
            _refuse(zone, "/".join(map(str, parts)))
    root = zone_root(settings, zone)
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        _refuse(zone, "/".join(parts))
    return path


def zone_relative(settings: Settings, zone: Zone, relative: str) -> Path:
    """A path the store recorded relative to its zone (``dataset/v0001``), checked like :func:`zone_path`."""
    return zone_path(settings, zone, *relative.split("/"))


def _refuse(zone: Zone, shown: str) -> None:
    text = repr(shown) if len(shown) <= 80 else repr(shown[:77] + "…")
    raise ZoneEscape(
        f"路径 {text} 不在主目录的 {zone.value} 区内，已拒绝",
        f"path {text} is not inside the home's {zone.value} zone; refused",
    )
