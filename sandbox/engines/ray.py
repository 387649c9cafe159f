"""The one Ray factory.

Without ``SANDBOX_RAY_ADDRESS`` it starts a local Ray bound to 127.0.0.1, with no dashboard and
its session files under the home's work directory; with it, it joins that cluster, presenting
``SANDBOX_RAY_TOKEN_FILE``'s token where the cluster uses token authentication. Ray is started once per
process and reused.
"""

from __future__ import annotations

import logging
import os

from sandbox.engines.logs import output_to
from sandbox.settings import Settings


def ray_runtime(settings: Settings, *, num_cpus: int | None = None):
    """The process's Ray, started (or joined) on first use; returns the ``ray`` module."""
    import ray

    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    with output_to(settings.logs_dir / "ray.log"):  # Ray's processes keep the log as their stderr
        if settings.ray_address:
            if settings.ray_token_file:  # Ray reads its token settings from the environment only
                os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(settings.ray_token_file))
            ray.init(address=settings.ray_address, **options)
        else:
            temp = settings.work_dir / "ray"
            temp.mkdir(parents=True, exist_ok=True)
            ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", _temp_dir=str(temp), **options)
    ray.data.DataContext.get_current().enable_progress_bars = False
    _log_to_home(settings)
    return ray


def _log_to_home(settings: Settings) -> None:
    """Ray's Python log lines in this process (Ray Data's progress among them) go to the home's logs too."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.logs_dir / "ray.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("ray", "ray.data"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
