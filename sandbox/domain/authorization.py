"""Authorizations: an operator organization's scope of datasets for at most five years."""

from __future__ import annotations

from enum import StrEnum

from sandbox.domain.statemachine import TransitionTable

MAX_AUTHORIZATION_YEARS = 5
AUDIT_RETENTION_YEARS = 3


class AuthorizationState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


A = AuthorizationState
AUTHORIZATION_LIFECYCLE = TransitionTable(
    "授权",
    "authorization",
    {(None, "grant"): A.ACTIVE, (A.ACTIVE, "expire"): A.EXPIRED, (A.ACTIVE, "revoke"): A.REVOKED},
)
