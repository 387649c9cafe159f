"""The persistent per-dataset privacy-budget ledger.

Every differentially private output spends its ε (and δ) on each dataset it read. A dataset's total
is fixed the first time it is spent on and may later only go down (a stricter policy lowers it); the
spent amount only goes up. Nothing refreshes it: not a new run, a new process or a new policy file.
A spend is all-or-nothing across the datasets and is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sandbox.audit.chain import utc_now_iso
from sandbox.context import PlatformContext
from sandbox.domain.gate import DPRule
from sandbox.gate.errors import BudgetExhausted
from sandbox.store.models import PrivacyBudgetRow, PrivacySpendRow

_SLACK = 1e-9  # float sums of ε: 0.1 spent ten times must still fit a total of 1.0


@dataclass(frozen=True)
class Budget:
    dataset_id: str
    epsilon_total: float
    delta_total: float
    epsilon_spent: float
    delta_spent: float

    @property
    def epsilon_remaining(self) -> float:
        return max(0.0, self.epsilon_total - self.epsilon_spent)


class BudgetLedger:
    """Spends and balances, in the platform store; ``actor`` is who the audit names for each spend."""

    def __init__(self, ctx: PlatformContext, rule: DPRule, *, actor: str | None = None) -> None:
        self.ctx = ctx
        self.rule = rule
        self.actor = actor or ctx.actor

    def balance(self, dataset_id: str) -> Budget:
        with self.ctx.sessions() as session:
            row = session.get(PrivacyBudgetRow, dataset_id)
            if row is None:
                return Budget(dataset_id, self.rule.budget_epsilon_per_dataset, self.rule.budget_delta_per_dataset,
                              0.0, 0.0)  # fmt: skip
            return _budget(row)

    def _open_accounts(self, datasets: list[str]) -> None:
        """Create missing budget rows at the policy's totals; a concurrent creator wins harmlessly."""
        for dataset_id in datasets:
            try:
                with self.ctx.transaction() as session:
                    if session.get(PrivacyBudgetRow, dataset_id) is None:
                        now = utc_now_iso()
                        session.add(PrivacyBudgetRow(
                            dataset_id=dataset_id, epsilon_total=self.rule.budget_epsilon_per_dataset,
                            delta_total=self.rule.budget_delta_per_dataset, epsilon_spent=0.0, delta_spent=0.0,
                            created_at=now, updated_at=now,
                        ))  # fmt: skip
            except IntegrityError:
                continue

    def spend(
        self,
        datasets: list[str],
        epsilon: float,
        delta: float,
        *,
        job_id: str,
        output: str,
        run_id: str | None = None,
    ) -> list[Budget]:
        """Charge every dataset or none; raises :class:`BudgetExhausted` (and audits the refusal) if any lacks it."""
        datasets = sorted(set(datasets))
        self._open_accounts(datasets)
        short: list[str] = []
        with self.ctx.transaction() as session:
            rows = list(session.scalars(
                select(PrivacyBudgetRow).where(PrivacyBudgetRow.dataset_id.in_(datasets))
                .order_by(PrivacyBudgetRow.dataset_id).with_for_update()
            ))  # fmt: skip
            now = utc_now_iso()
            for row in rows:
                row.epsilon_total = min(row.epsilon_total, self.rule.budget_epsilon_per_dataset)
                row.delta_total = min(row.delta_total, self.rule.budget_delta_per_dataset)
                if row.epsilon_spent + epsilon > row.epsilon_total + _SLACK or (
                    row.delta_spent + delta > row.delta_total + _SLACK * row.delta_total
                ):
                    short.append(row.dataset_id)
            if not short:
                for row in rows:
                    row.epsilon_spent += epsilon
                    row.delta_spent += delta
                    row.updated_at = now
                    session.add(PrivacySpendRow(dataset_id=row.dataset_id, job_id=job_id, output=output, run_id=run_id,
                                                epsilon=epsilon, delta=delta, actor=self.actor, spent_at=now))  # fmt: skip
                    self.ctx.audit(session, "privacy_budget.spent", "dataset", row.dataset_id, actor=self.actor,
                                   job=job_id, output=output, run=run_id, epsilon=epsilon, delta=delta,
                                   epsilon_spent=row.epsilon_spent, epsilon_total=row.epsilon_total)  # fmt: skip
                return [_budget(row) for row in rows]
        with self.ctx.transaction() as session:
            for dataset_id in short:
                self.ctx.audit(session, "privacy_budget.refused", "dataset", dataset_id, actor=self.actor,
                               job=job_id, output=output, run=run_id, epsilon=epsilon, delta=delta)  # fmt: skip
        raise BudgetExhausted(
            f"数据集 {', '.join(short)} 的隐私预算不足以支付输出 {output} 的 ε={epsilon:g}（预算不会恢复）",
            f"the privacy budget of dataset(s) {', '.join(short)} cannot pay ε={epsilon:g} for output {output} "
            "(budgets never refresh)",
        )


def _budget(row: PrivacyBudgetRow) -> Budget:
    return Budget(row.dataset_id, row.epsilon_total, row.delta_total, row.epsilon_spent, row.delta_spent)
