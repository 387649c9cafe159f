"""Users, roles that fit their organization, and API tokens (hashed, expiring, revocable)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.governance import identities
from sandbox.governance.identities import IdentityError


def test_roles_must_fit_the_organization(cast):
    with pytest.raises(IdentityError) as info:
        identities.create_user(cast.ctx, cast("admin"), "x", "x", "org-gongan", {Role.OPERATOR})
    assert "operator" in info.value.en


def test_only_admin_creates_users(cast):
    with pytest.raises(PermissionDenied) as info:
        identities.create_user(cast.ctx, cast("operator-1"), "x", "x", "op-org", {Role.OPERATOR})
    assert "管理员" in info.value.zh


def test_developer_is_cleared_only_with_all_three_records(cast):
    assert cast("developer-1").cleared and not cast("developer-2").cleared
    identities.verify_identity(cast.ctx, cast("operator-1"), "developer-2")
    identities.record_filing(cast.ctx, cast("operator-1"), "developer-2", "BA-2")
    assert not cast("developer-2").cleared


def test_token_is_stored_hashed_and_expires(cast):
    token_id, secret = identities.issue_token(cast.ctx, cast("operator-1"), "operator-1", days=1)
    with cast.ctx.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT token_hash, expires_at FROM api_tokens WHERE id = :i"), {"i": token_id}
        ).one()
    assert secret not in stored.token_hash
    assert identities.authenticate_token(cast.ctx, secret).username == "operator-1"
    with cast.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000000Z'"))
    with pytest.raises(PermissionDenied):
        identities.authenticate_token(cast.ctx, secret)


def test_tokens_are_revocable_by_owner_not_by_others(cast):
    token_id, secret = identities.issue_token(cast.ctx, cast("operator-1"), "operator-1")
    with pytest.raises(PermissionDenied):
        identities.revoke_token(cast.ctx, cast("operator-2"), token_id)
    identities.revoke_token(cast.ctx, cast("operator-1"), token_id)
    with pytest.raises(PermissionDenied):
        identities.authenticate_token(cast.ctx, secret)
    with pytest.raises(PermissionDenied):
        identities.issue_token(cast.ctx, cast("operator-1"), "operator-2")
