"""The samples zone's own error, with its stable code."""

from __future__ import annotations

from sandbox.domain.errors import ShuyuError


class SamplesError(ShuyuError):
    """A sample cannot be built, found or read."""

    code = "E900"
