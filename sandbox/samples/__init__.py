"""Desensitized samples: Chinese PII recognizers, profiling, desensitization, sampling, risk.

The service functions are the zone's interface. They load lazily, so a Ray worker that only
needs the recognizers does not import the store and the governance services.
"""

from __future__ import annotations

_SERVICE = (
    "build_samples",
    "card_of",
    "check_may_read",
    "finding_view",
    "findings_for",
    "sample_dir",
    "sample_file",
    "show_samples",
)
__all__ = list(_SERVICE)


def __getattr__(name: str):
    if name in _SERVICE:
        from sandbox.samples import service

        return getattr(service, name)
    raise AttributeError(name)
