"""Product registration (登记) and re-development applications."""

from __future__ import annotations

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
