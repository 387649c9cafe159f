"""Scenarios (一场景一审核): categories and the review lifecycle."""

from __future__ import annotations

from enum import StrEnum

from sandbox.domain.statemachine import TransitionTable


class ScenarioCategory(StrEnum):
    PUBLIC_GOVERNANCE = "公共治理"
    PUBLIC_WELFARE = "公益事业"
    INDUSTRY = "产业发展"
    SECTOR = "行业发展"

    @property
    def fee_bearing(self) -> bool:
        """Products for public governance and welfare are free; industry and sector ones may charge."""
        return self in (ScenarioCategory.INDUSTRY, ScenarioCategory.SECTOR)


class ScenarioState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


S = ScenarioState
SCENARIO_LIFECYCLE = TransitionTable(
    "场景",
    "scenario",
    {
        (None, "create"): S.DRAFT,
        (S.DRAFT, "submit"): S.SUBMITTED,
        (S.SUBMITTED, "start_review"): S.UNDER_REVIEW,
        (S.UNDER_REVIEW, "approve"): S.APPROVED,
        (S.UNDER_REVIEW, "reject"): S.REJECTED,
        (S.DRAFT, "withdraw"): S.WITHDRAWN,
        (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
        (S.UNDER_REVIEW, "withdraw"): S.WITHDRAWN,
        (S.APPROVED, "activate"): S.ACTIVE,
        (S.APPROVED, "revoke"): S.REVOKED,
        (S.ACTIVE, "expire"): S.EXPIRED,
        (S.ACTIVE, "revoke"): S.REVOKED,
    },
)

#: States in which a scenario still holds data (samples) that must go when it ends.
LIVE_STATES = frozenset({S.APPROVED, S.ACTIVE})


class ColumnStatus(StrEnum):
    """A requested column's answer from its provider."""

    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


class ConsentState(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"  # all requested columns
    PARTIAL = "partial"  # some columns refused
    REFUSED = "refused"


CONSENT_LIFECYCLE = TransitionTable(
    "数据使用申请",
    "data-use request",
    {
        (None, "request"): ConsentState.PENDING,
        (ConsentState.PENDING, "grant"): ConsentState.GRANTED,
        (ConsentState.PENDING, "grant_partially"): ConsentState.PARTIAL,
        (ConsentState.PENDING, "refuse"): ConsentState.REFUSED,
    },
)
