"""Product registration (登记), release status, terms of use and re-development applications."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sandbox.domain.statemachine import TransitionTable


class ProductState(StrEnum):
    REGISTERED = "registered"
    DEREGISTERED = "deregistered"


P = ProductState
PRODUCT_REGISTRATION = TransitionTable(
    "数据产品登记",
    "product registration",
    {
        (None, "register"): P.REGISTERED,
        (P.REGISTERED, "change"): P.REGISTERED,
        (P.REGISTERED, "correct"): P.REGISTERED,
        (P.REGISTERED, "deregister"): P.DEREGISTERED,
    },
)


def release_label(released: list[int]) -> str:
    """A registration is a promise until a version is released; say which one is latest, or that none is."""
    if not released:
        return "未发布 / not released"
    return f"已发布 v{released[-1]} / released v{released[-1]}"


class TermsState(StrEnum):
    """A terms-of-use grant is active until its end date passes or it is revoked; nothing is deleted."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def terms_state(ends_on: str | None, revoked_at: str | None, today: date) -> TermsState:
    """``ends_on`` is the last day (inclusive) the grant holds, an ISO date; ``None`` means open-ended."""
    if revoked_at is not None:
        return TermsState.REVOKED
    if ends_on is not None and today.isoformat() > ends_on:
        return TermsState.EXPIRED
    return TermsState.ACTIVE


class RedevelopmentState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


R = RedevelopmentState
REDEVELOPMENT_LIFECYCLE = TransitionTable(
    "再开发申请",
    "re-development application",
    {(None, "apply"): R.SUBMITTED, (R.SUBMITTED, "approve"): R.APPROVED, (R.SUBMITTED, "reject"): R.REJECTED},
)
