"""The trusted gate: aggregation and disclosure control between staging and products.

A code path the job cannot import or alter, run in its own process (``python -m sandbox.gate``).
"""

from sandbox.domain.gate import GateOutcome, GatePolicy
from sandbox.gate.advisory import advisory_gate
from sandbox.gate.identifiers import IdentifierFinding, IdentifierScanner
from sandbox.gate.ledger import BudgetLedger
from sandbox.gate.pipeline import gate_job
from sandbox.gate.policy import load_policy

__all__ = ["BudgetLedger", "advisory_gate", "GateOutcome", "GatePolicy", "IdentifierFinding", "IdentifierScanner", "gate_job",
           "load_policy"]  # fmt: skip
