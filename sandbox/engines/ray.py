"""The one Ray factory.

Without ``SANDBOX_RAY_ADDRESS`` it starts a local Ray bound to 127.0.0.1, with no dashboard and
its session files under the home's work directory; with it, it joins that cluster. Ray is
started once per process and reused.
"""

from __future__ import annotations

import os

from sandbox.settings import Settings


def ray_runtime(settings: Settings, *, num_cpus: int | None = None):
    """The process's Ray, started (or joined) on first use; returns the ``ray`` module."""
    import ray

    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if settings.ray_address:
        ray.init(address=settings.ray_address, **options)
    else:
        temp = settings.work_dir / "ray"
        temp.mkdir(parents=True, exist_ok=True)
        ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", _temp_dir=str(temp), **options)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray
