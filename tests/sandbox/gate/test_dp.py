"""Differential privacy through OpenDP and the persistent budget ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.domain.gate import GatePolicy, Refusal
from sandbox.domain.job import DPSpec
from sandbox.gate import BudgetLedger, dp, load_policy
from sandbox.gate.advisory import advisory_gate
from sandbox.gate.errors import BudgetExhausted, GatePolicyError
from sandbox.store.models import AuditEventRow, PrivacySpendRow
from tests.sandbox.gate.conftest import count, gate, manifest, measure, output, policy_file, write_frame
from tests.sandbox.store.test_allocate import together

DISTRICTS = tuple(f"d{i:02d}" for i in range(20))
SCHEMA = "pid string, d string, amount double"


def _rows() -> list[tuple]:
    return [(f"p{i}", DISTRICTS[i % 20], float(i % 7)) for i in range(1000)]


def _dp_job(epsilon: float = 1.0, **kwargs):
    measures = (
        count(),
        measure("amount", "sum", "amount", (0, 10)),
        measure("avg", "mean", "amount", (0, 10)),
    )
    return manifest(output("noisy", {"d": DISTRICTS}, measures, dp=DPSpec(epsilon), **kwargs))


@pytest.fixture
def staged(spark, tmp_path):
    write_frame(spark, tmp_path / "staging", "noisy", _rows(), SCHEMA)
    return tmp_path


def _ledger(ctx: PlatformContext, policy) -> BudgetLedger:
    return BudgetLedger(ctx, policy.differential_privacy, actor="gate-test")


def test_dp_output_is_noisy_and_spends_its_epsilon(ctx, spark, staged):
    policy = load_policy()
    first = gate(spark, staged, _dp_job(totals=True), policy=policy, ledger=_ledger(ctx, policy))
    second = gate(spark, staged, _dp_job(totals=True), policy=policy, ledger=_ledger(ctx, policy), out="out2")
    counts = [first.cell("noisy", (d,)).values["people"] for d in DISTRICTS]
    assert counts != [50] * 20  # the true count of every district is 50
    assert counts != [second.cell("noisy", (d,)).values["people"] for d in DISTRICTS]
    total = first.cell("noisy", (None,)).values["people"]
    assert total == sum(counts)  # margins are sums of noisy cells: consistent, and free under DP
    assert abs(total - 1000) < 200
    methods = first.report["outputs"]["noisy"]["methods"]
    assert (
        methods["differential_privacy"] == "OpenDP discrete laplace" and methods["noise_scales"]["count"] > 0
    )
    assert first.report["outputs"]["noisy"]["rows"].startswith("差分隐私")
    assert first.outcome.outputs["noisy"].epsilon_spent == 1.0
    assert _ledger(ctx, policy).balance("ds_people").epsilon_spent == 2.0
    with ctx.sessions() as session:
        spends = session.scalars(select(PrivacySpendRow)).all()
        audited = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "privacy_budget.spent")
        ).all()
    assert [(s.dataset_id, s.output, s.epsilon) for s in spends] == [("ds_people", "noisy", 1.0)] * 2
    assert len(audited) == 2 and ctx.verify_audit().ok


def test_budget_refuses_once_spent_and_never_refreshes(ctx, spark, staged):
    tight = load_policy(policy_file(staged, "differential_privacy: {budget_epsilon_per_dataset: 1.5}\n"))
    assert gate(spark, staged, _dp_job(0.75), policy=tight, ledger=_ledger(ctx, tight)).outcome.released_cells
    assert gate(
        spark, staged, _dp_job(0.75), policy=tight, ledger=_ledger(ctx, tight), out="o2"
    ).outcome.released_cells
    third = gate(spark, staged, _dp_job(0.75), policy=tight, ledger=_ledger(ctx, tight), out="o3")
    assert third.outcome.outputs["noisy"].refusal is Refusal.BUDGET_EXHAUSTED
    assert not (staged / "o3" / "noisy.parquet").exists()
    # a new context (as a new process would open) and the looser defaults do not bring the budget back
    fresh = PlatformContext(ctx.settings, actor="someone-else", schema=ctx.schema)
    defaults = load_policy()
    with pytest.raises(BudgetExhausted):
        _ledger(fresh, defaults).spend(["ds_people"], 0.1, 0.0, job_id="again", output="noisy")
    assert _ledger(fresh, defaults).balance("ds_people").epsilon_total == 1.5
    with fresh.sessions() as session:
        refused = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "privacy_budget.refused")
        ).all()
    assert len(refused) == 2
    fresh.engine.dispose()


def test_a_spend_is_all_or_nothing_across_datasets(ctx):
    policy = load_policy(
        policy_file(ctx.settings.home_dir, "differential_privacy: {budget_epsilon_per_dataset: 1.0}\n")
    )
    ledger = _ledger(ctx, policy)
    ledger.spend(["a"], 0.8, 0.0, job_id="j", output="o")
    with pytest.raises(BudgetExhausted):
        ledger.spend(["a", "b"], 0.5, 0.0, job_id="j", output="o")
    assert ledger.balance("b").epsilon_spent == 0.0 and ledger.balance("a").epsilon_spent == 0.8
    for _ in range(10):  # float sums: ten spends of 0.1 fit a total of 1.0
        ledger.spend(["c"], 0.1, 0.0, job_id="j", output="o")
    assert ledger.balance("c").epsilon_remaining == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(BudgetExhausted):
        ledger.spend(["c"], 0.01, 0.0, job_id="j", output="o")


def test_dp_refuses_median_and_a_missing_ledger(spark, staged):
    job = manifest(
        output("noisy_median", {"d": DISTRICTS}, (measure("med", "median", "amount"),), dp=DPSpec(1.0)),
        output("noisy", {"d": DISTRICTS}, (count(),), dp=DPSpec(1.0)),
    )
    run = gate(spark, staged, job, ledger=None)
    assert run.outcome.outputs["noisy_median"].refusal is Refusal.DP_UNSUPPORTED
    assert run.outcome.outputs["noisy"].refusal is Refusal.DP_UNSUPPORTED


def test_advisory_gate_noises_without_spending(spark, staged):
    policy = load_policy()
    verdict = advisory_gate(
        spark, _dp_job(), staged / "staging", {"policy": policy.as_dict(), "code_tables": {}}
    )
    assert verdict["outputs"]["noisy"]["status"] == "released" and verdict["released_cells"] == 20
    assert verdict["outputs"]["noisy"]["epsilon_spent"] == 0.0
    assert (staged / "gate" / "gate_report.md").exists()


def test_data_the_policy_makes_dp_only_is_released_with_noise_or_not_at_all(ctx, spark, staged, tmp_path):
    """A 核心 dataset under ``mandatory_grades``: the exact twin of a noisy table is refused, the noisy one
    released (the attack: subtract the exact table from the noisy one and the noise is gone)."""
    policy = load_policy(policy_file(tmp_path, "differential_privacy:\n  mandatory_grades: [核心]\n"))
    required = dp.required_by(policy.differential_privacy, {"ds_people": "核心", "ds_other": "一般"})
    assert required == ["ds_people"]
    write_frame(spark, staged / "staging", "exact", _rows(), SCHEMA)
    job = manifest(_dp_job().outputs[0], output("exact", {"d": DISTRICTS}))
    run = gate(spark, staged, job, policy=policy, ledger=_ledger(ctx, policy), dp_required_by=required)
    refused = run.outcome.outputs["exact"]
    assert refused.refusal is Refusal.DP_REQUIRED and "ds_people" in refused.refusal_en
    assert not (run.out_dir / "exact.parquet").exists()
    assert run.outcome.outputs["noisy"].refusal is None and run.outcome.outputs["noisy"].epsilon_spent == 1.0
    # the layer: without the policy's mandate the same exact table is released
    assert gate(spark, staged, job, policy=load_policy(), ledger=_ledger(ctx, policy), out="unmandated").outcome \
        .outputs["exact"].refusal is None  # fmt: skip


def test_mandatory_dp_lists_only_grow_and_hold_real_grades(tmp_path):
    with pytest.raises(GatePolicyError):
        load_policy(policy_file(tmp_path, "differential_privacy:\n  mandatory_grades: [绝密]\n"))
    policy = load_policy(policy_file(tmp_path, "differential_privacy:\n  mandatory_datasets: [hukou]\n"))
    assert policy.differential_privacy.mandatory_datasets == ("hukou",)
    assert dp.required_by(policy.differential_privacy, {"hukou": "一般"}) == ["hukou"]
    assert GatePolicy.from_dict(policy.as_dict()) == policy  # handed to the dev worker as JSON


def test_concurrent_releases_never_overspend_a_budget(ctx):
    """Eight gates releasing at once, each with its own connection pool as a separate gate process has,
    each paying ε=0.3 on two datasets whose accounts do not exist yet, with a total of 1.0: exactly three
    are paid, the rest refused, and the balance is what the three spent. Without the rows' lock the
    spends read the same balance and all eight pass or overwrite each other's spent amount."""
    policy = load_policy(
        policy_file(ctx.settings.home_dir, "differential_privacy: {budget_epsilon_per_dataset: 1.0}\n")
    )
    gates = [PlatformContext(ctx.settings, actor="gate", schema=ctx.schema) for _ in range(8)]
    try:
        paid = together(8, lambda i: _ledger(gates[i], policy).spend(["a", "b"], 0.3, 0.0, job_id=f"j{i}",
                                                                     output="noisy", run_id=f"run-{i}"))  # fmt: skip
    finally:
        for gate_ctx in gates:
            gate_ctx.engine.dispose()
    assert sum(isinstance(p, list) for p in paid) == 3, paid
    assert all(isinstance(p, BudgetExhausted) for p in paid if not isinstance(p, list)), paid
    for dataset in ("a", "b"):
        assert _ledger(ctx, policy).balance(dataset).epsilon_spent == pytest.approx(0.9)
    with ctx.sessions() as session:
        spends = session.scalars(select(PrivacySpendRow)).all()
    assert sorted(s.run_id for s in spends) == sorted(
        f"run-{i}" for i, p in enumerate(paid) for _ in ("a", "b") if isinstance(p, list)
    )
