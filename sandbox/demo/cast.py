"""The demo's cast: organizations and users with the names scripts can rely on.

``admin``, ``operator-1``, ``operator-2``, ``developer-1``, ``developer-2``, ``consumer-1``,
``auditor-1`` and one ``provider-<provider id>`` per catalog provider.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

from sandbox.context import PlatformContext
from sandbox.domain.catalog import Catalog
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import identities, passwords
from sandbox.governance.access import principal_for

OPERATOR_ORG = "yunze-data"
DEVELOPER_ORG = "xinghe-tech"

ORGS = [
    (OPERATOR_ORG, "云泽数据运营有限公司", OrgKind.OPERATOR),
    (DEVELOPER_ORG, "星河数据科技有限公司", OrgKind.DEVELOPER),
    ("yunze-bank", "云泽农村商业银行", OrgKind.CONSUMER),
    ("cac-office", "云泽市委网信办", OrgKind.REGULATOR),
]
USERS = [
    ("operator-1", "林运营", OPERATOR_ORG, Role.OPERATOR),
    ("operator-2", "周审核", OPERATOR_ORG, Role.OPERATOR),
    ("developer-1", "陈开发", DEVELOPER_ORG, Role.DEVELOPER),
    ("developer-2", "王开发", DEVELOPER_ORG, Role.DEVELOPER),
    ("consumer-1", "赵信贷", "yunze-bank", Role.CONSUMER),
    ("auditor-1", "孙监管", "cac-office", Role.AUDITOR),
]


def create_cast(ctx: PlatformContext, catalog: Catalog) -> list[str]:
    """Create the organizations and users; developers are verified, registered and under NDA."""
    admin = principal_for(ctx, "admin")
    for org_id, name, kind in ORGS:
        identities.create_org(ctx, admin, org_id, name, kind)
    for provider in catalog.providers:
        identities.create_org(
            ctx, admin, f"org-{provider.id}", provider.name, OrgKind.PROVIDER, provider_id=provider.id
        )
    users = [*USERS, *((f"provider-{p.id}", p.name, f"org-{p.id}", Role.PROVIDER) for p in catalog.providers)]
    for username, display, org_id, role in users:
        identities.create_user(ctx, admin, username, display, org_id, {role})
    operator = principal_for(ctx, "operator-1")
    for number, developer in enumerate(("developer-1", "developer-2"), start=1):
        identities.verify_identity(ctx, operator, developer)
        identities.record_filing(ctx, operator, developer, f"YZBA-{datetime.now(UTC).year}-{number:04d}")
        identities.record_nda(ctx, operator, developer, "保密协议 v1.0", datetime.now(UTC).date())
    return ["admin", *(u[0] for u in users)]


def demo_passwords(ctx: PlatformContext, users: list[str]) -> dict[str, str]:
    """A fresh random password per demo user for the web UI, kept in ``<home>/demo-passwords.txt``
    (owner-only): a demo home is for trying things out, never for real data."""
    admin = principal_for(ctx, "admin")
    chosen = {user: secrets.token_urlsafe(12) for user in users}
    for user, password in chosen.items():
        passwords.set_password(ctx, admin, user, password)
    path = ctx.settings.home_dir / "demo-passwords.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(f"{user}\t{password}\n" for user, password in chosen.items())
    return chosen
