"""Deleting what a scenario holds when it or its authorization ends: samples and staging.

Layout the zones follow: ``samples/<scenario>/<dataset>/…`` and ``staging/<scenario>/…``.
"""

from __future__ import annotations

import shutil

from sandbox.settings import Settings


def delete_scenario_data(settings: Settings, scenario_id: str, datasets: set[str] | None = None) -> list[str]:
    """Remove the scenario's samples (all, or only ``datasets``) and its staging; returns what went."""
    removed = []
    sample_root = settings.samples_dir / scenario_id
    if sample_root.exists():
        targets = [sample_root] if datasets is None else [sample_root / d for d in sorted(datasets)]
        for target in targets:
            if target.exists():
                shutil.rmtree(target)
                removed.append(str(target.relative_to(settings.home_dir)))
    staging = settings.staging_dir / scenario_id
    if staging.exists():
        shutil.rmtree(staging)
        removed.append(str(staging.relative_to(settings.home_dir)))
    return removed
