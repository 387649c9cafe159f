"""Deleting what a scenario holds when it or its authorization ends: samples and staging.

Layout the zones follow: ``samples/<scenario>/<dataset>/…`` and ``staging/<scenario>/…``; every
path comes from ``zone_path``, so a scenario id can never point a deletion outside its zone.
"""

from __future__ import annotations

import shutil

from sandbox.settings import Settings
from sandbox.store.zones import Zone, zone_path


def delete_scenario_data(settings: Settings, scenario_id: str, datasets: set[str] | None = None) -> list[str]:
    """Remove the scenario's samples (all, or only ``datasets``) and its staging; returns what went."""
    removed = []
    sample_root = zone_path(settings, Zone.SAMPLES, scenario_id)
    if sample_root.exists():
        targets = (
            [sample_root]
            if datasets is None
            else [zone_path(settings, Zone.SAMPLES, scenario_id, d) for d in sorted(datasets)]
        )
        for target in targets:
            if target.exists():
                shutil.rmtree(target)
                removed.append(str(target.relative_to(settings.home_dir)))
    staging = zone_path(settings, Zone.STAGING, scenario_id)
    if staging.exists():
        shutil.rmtree(staging)
        removed.append(str(staging.relative_to(settings.home_dir)))
    return removed
