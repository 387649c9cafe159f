"""A small cast on the mini catalog: agency admin, two operators, developers, providers, a consumer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from sandbox.catalog.service import load_catalog, read_catalog_file
from sandbox.domain.identity import OrgKind, Role
from sandbox.governance import identities
from sandbox.governance.access import Principal, principal_for

MINI = Path(__file__).parents[2] / "fixtures" / "mini_catalog.yaml"


@dataclass
class Cast:
    ctx: object

    def __call__(self, username: str) -> Principal:
        return principal_for(self.ctx, username)


def build_cast(ctx) -> Cast:
    admin = principal_for(ctx, "admin")
    load_catalog(ctx, admin, read_catalog_file(MINI).catalog)
    identities.create_org(ctx, admin, "op-org", "云泽数据运营有限公司", OrgKind.OPERATOR)
    identities.create_org(ctx, admin, "dev-org", "星河数据科技有限公司", OrgKind.DEVELOPER)
    identities.create_org(ctx, admin, "bank", "云泽农商银行", OrgKind.CONSUMER)
    identities.create_org(ctx, admin, "org-gongan", "市公安局", OrgKind.PROVIDER, provider_id="gongan")
    identities.create_org(ctx, admin, "org-canlian", "市残联", OrgKind.PROVIDER, provider_id="canlian")
    identities.create_user(ctx, admin, "operator-1", "运营一", "op-org", {Role.OPERATOR})
    identities.create_user(ctx, admin, "operator-2", "运营二", "op-org", {Role.OPERATOR})
    identities.create_user(ctx, admin, "developer-1", "开发一", "dev-org", {Role.DEVELOPER})
    identities.create_user(ctx, admin, "developer-2", "开发二", "dev-org", {Role.DEVELOPER})
    identities.create_user(ctx, admin, "consumer-1", "使用一", "bank", {Role.CONSUMER})
    identities.create_user(ctx, admin, "provider-gongan", "公安", "org-gongan", {Role.PROVIDER})
    identities.create_user(ctx, admin, "provider-canlian", "残联", "org-canlian", {Role.PROVIDER})
    operator = principal_for(ctx, "operator-1")
    identities.verify_identity(ctx, operator, "developer-1")
    identities.record_filing(ctx, operator, "developer-1", "BA-2026-0001")
    identities.record_nda(ctx, operator, "developer-1", "v1.0", date(2026, 3, 1))
    return Cast(ctx)


@pytest.fixture
def cast(sqlite_ctx) -> Cast:
    return build_cast(sqlite_ctx)
