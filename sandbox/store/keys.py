"""Key material in the home's ``secrets/`` directory: created once, 0600, never in the database.

The platform key signs the audit chain head; named keys (e.g. one per authorization, for
pseudonyms) are separate random keys so revoking one never exposes another.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from sandbox.domain.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class KeyStore:
    def __init__(self, secrets_dir: Path) -> None:
        self.dir = secrets_dir

    def ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)

    def create(self, name: str) -> bytes:
        """Create key ``name`` if missing (atomically, 0600) and return it."""
        path = self._path(name)
        if path.exists():
            return self.get(name)
        self.ensure_dir()
        material = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(material.hex())
        return material

    def get(self, name: str) -> bytes:
        path = self._path(name)
        if not path.exists():
            raise ConfigError(
                f"密钥 {name} 不存在，请先运行 sandbox init",
                f"key {name} does not exist; run `sandbox init` first",
            )
        return bytes.fromhex(path.read_text().strip())

    def delete(self, name: str) -> bool:
        path = self._path(name)
        if path.exists():
            path.unlink()
            return True
        return False

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigError(f"非法的密钥名 {name!r}", f"invalid key name {name!r}")
        return self.dir / f"{name}.key"


PLATFORM_KEY = "platform"
