"""The gate's errors: stable codes, Chinese and English, and never a data value in the message."""

from __future__ import annotations

from sandbox.domain.errors import ShuyuError
from sandbox.domain.gate import Refusal


class GatePolicyError(ShuyuError):
    """A policy file is malformed or looser than the defaults."""

    code = "E1100"


class OutputRefused(ShuyuError):
    """A whole output is withheld; ``refusal`` says which check refused it."""

    code = "E1101"

    def __init__(self, refusal: Refusal, zh: str, en: str) -> None:
        self.refusal = refusal
        super().__init__(zh, en)


class BudgetExhausted(OutputRefused):
    """A dataset's privacy budget cannot pay for a differentially private output."""

    code = "E1102"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(Refusal.BUDGET_EXHAUSTED, zh, en)


class GateInputError(ShuyuError):
    """The gate process was started with missing or unusable arguments."""

    code = "E1103"
