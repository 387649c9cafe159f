"""The tickets zone: failing keys, reports and Data Docs of one provider's data, under ``<home>/tickets/<provider>``.

Only that provider's users and operators may read what is here; the services enforce it, and
the directories are private to the platform's own account on disk.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.settings import Settings
from sandbox.store.zones import Zone, zone_path


def _private(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def provider_dir(settings: Settings, provider_id: str) -> Path:
    return _private(zone_path(settings, Zone.TICKETS, provider_id))


def run_dir(settings: Settings, provider_id: str, dataset_id: str, run_id: str) -> Path:
    return _private(zone_path(settings, Zone.TICKETS, provider_id, dataset_id, "runs", run_id))


def reports_dir(settings: Settings, provider_id: str) -> Path:
    return _private(provider_dir(settings, provider_id) / "reports")


def gx_root(settings: Settings, provider_id: str) -> Path:
    """Project root of the provider's Great Expectations file context (its Data Docs live under ``gx/``)."""
    return provider_dir(settings, provider_id)


def relative(settings: Settings, path: Path) -> str:
    return str(path.resolve().relative_to(settings.home_dir))


def absolute(settings: Settings, relative_path: str) -> Path:
    return settings.home_dir / relative_path
