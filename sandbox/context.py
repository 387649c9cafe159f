"""The platform context handed to every service: settings, the store, key material, the actor.

Faces (CLI, API) build one context per process or request; services never read settings or
open databases on their own.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from sandbox import audit
from sandbox.domain.errors import HomeError
from sandbox.settings import Settings
from sandbox.store.db import make_engine, session_factory, transaction
from sandbox.store.keys import PLATFORM_KEY, KeyStore
from sandbox.store.zones import Zone, zone_root

HOME_MARKER = "home.json"


@dataclass
class PlatformContext:
    settings: Settings
    actor: str = field(default_factory=lambda: f"local:{getpass.getuser()}")
    schema: str | None = None  # PostgreSQL schema, for isolated test runs

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.db_url, schema=self.schema)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.settings.secrets_dir)

    def transaction(self):
        return transaction(self.sessions)

    def audit(
        self,
        session: Session,
        action: str,
        object_type: str,
        object_id: str,
        *,
        actor: str | None = None,
        **details: Any,
    ):
        """The one function every state change goes through to be audited."""
        return audit.record(
            session,
            self.keys.get(PLATFORM_KEY),
            actor=actor or self.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details,
        )

    def verify_audit(self) -> audit.VerifyResult:
        with self.sessions() as session:
            return audit.verify(session, self.keys.get(PLATFORM_KEY))

    # -- home lifecycle -------------------------------------------------------------------

    def init_home(self, *, demo: bool = False) -> bool:
        """Create zones, key material and schema. Returns True if the home was new."""
        home = self.settings.home_dir
        marker = home / HOME_MARKER
        created = not marker.exists()
        for zone in Zone:
            zone_root(self.settings, zone).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.keys.ensure_dir()
        self.keys.create(PLATFORM_KEY)
        from sandbox.store import migrate  # Alembic takes half a second to import: only here

        migrate.upgrade(self.engine)
        if created:
            marker.write_text(
                json.dumps(
                    {"created_at": datetime.now(UTC).isoformat(), "demo": demo, "format": 1},
                    ensure_ascii=False,
                )
            )
            with self.transaction() as session:
                self.audit(session, "home.initialized", "home", str(home), demo=demo)
        return created

    def require_home(self) -> None:
        marker = self.settings.home_dir / HOME_MARKER
        if not marker.exists() or not inspect(self.engine).has_table("audit_events"):
            raise HomeError(
                f"{self.settings.home_dir} 尚未初始化，请先运行 sandbox init",
                f"{self.settings.home_dir} is not initialised; run `sandbox init` first",
            )

    def mark_served(self) -> None:
        """From now on people reach this home through the service; local ``--as`` is for administrators."""
        marker = self.settings.home_dir / HOME_MARKER
        data = json.loads(marker.read_text())
        if not data.get("served"):
            marker.write_text(json.dumps({**data, "served": True}, ensure_ascii=False))
            with self.transaction() as session:
                self.audit(session, "home.served", "home", str(self.settings.home_dir))

    def home_marker(self) -> dict[str, Any] | None:
        marker = self.settings.home_dir / HOME_MARKER
        return json.loads(marker.read_text()) if marker.exists() else None
