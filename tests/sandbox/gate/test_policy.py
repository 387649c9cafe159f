"""The policy file: defaults as data, operator files that may only tighten, outputs that may only tighten."""

from __future__ import annotations

import pytest

from sandbox.domain.gate import GatePolicy, Refusal
from sandbox.domain.job import DPSpec
from sandbox.gate import load_policy
from sandbox.gate.errors import GatePolicyError, OutputRefused
from sandbox.gate.policy import DEFAULTS_FILE, output_rules
from tests.sandbox.gate.conftest import output, policy_file


def test_defaults_file_matches_the_architecture_table():
    policy = load_policy()
    assert policy == GatePolicy()
    assert (policy.threshold, policy.dominance.n, policy.dominance.k, policy.p_ratio) == (10, 2, 0.9, 0.10)
    assert policy.zeros_are_disclosive and policy.differencing and policy.rounding.base == 5
    assert set(policy.allowed_aggregates) == {"count", "sum", "mean", "median", "std"}
    assert DEFAULTS_FILE.name == "defaults.yaml" and DEFAULTS_FILE.parent.name == "policy"


def test_an_operator_file_tightens_and_keeps_the_rest(tmp_path):
    policy = load_policy(policy_file(tmp_path, """
threshold: 15
dominance: {k: 0.8, applies_to: [sum, mean, median]}
allowed_aggregates: [count, sum, mean]
rounding: {enabled: true, base: 10}
differential_privacy: {budget_epsilon_per_dataset: 3.0}
"""))  # fmt: skip
    assert policy.threshold == 15 and policy.dominance.k == 0.8 and policy.dominance.n == 2
    assert policy.allowed_aggregates == ("count", "sum", "mean") and "median" in policy.dominance.applies_to
    assert policy.rounding.enabled and policy.rounding.base == 10
    assert policy.differential_privacy.budget_epsilon_per_dataset == 3.0
    assert policy.differential_privacy.max_epsilon_per_output == 1.0 and policy.p_ratio == 0.10


@pytest.mark.parametrize(
    "text",
    [
        "threshold: 5",
        "dominance: {k: 0.95}",
        "dominance: {n: 1}",
        "dominance: {applies_to: [sum]}",
        "p_ratio: 0.05",
        "zeros_are_disclosive: false",
        "max_cells: 10000",
        "identifying_dimension_ratio: 0.9",
        "rounding: {base: 2}",
        "differencing: false",
        "group_attribute: false",
        "differential_privacy: {budget_epsilon_per_dataset: 20}",
        "differential_privacy: {max_cells_per_entity: 3}",
        "max_cells_per_entity: 6",
        "output_scan: {min_score: 0.9}",
    ],
)
def test_a_looser_operator_file_is_refused_in_both_languages(tmp_path, text):
    with pytest.raises(GatePolicyError) as refused:
        load_policy(policy_file(tmp_path, text + "\n"))
    assert refused.value.code == "E1100"
    assert "宽松" in refused.value.zh and "looser than the default" in refused.value.en


@pytest.mark.parametrize(
    "text",
    [
        "thresold: 12",
        "allowed_aggregates: [count, max]",
        "threshold: ten",
        "version: 2",
        "threshold: [",
        "dominance: {k: 2}",
    ],
)
def test_a_malformed_operator_file_is_refused(tmp_path, text):
    with pytest.raises(GatePolicyError):
        load_policy(policy_file(tmp_path, text + "\n"))


def test_a_missing_operator_file_is_refused(tmp_path):
    with pytest.raises(GatePolicyError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")


def test_an_output_may_only_tighten():
    policy = load_policy()
    rules = output_rules(
        policy, output("o", {"d": ("a",)}, threshold=20, rounding=10, max_cells=50, dp=DPSpec(0.5))
    )
    assert (rules.threshold, rules.rounding_base, rules.max_cells, rules.dp.epsilon) == (20, 10, 50, 0.5)
    assert output_rules(policy, output("p", {"d": ("a",)}, public=True)).zeros_are_disclosive is False
    for loose in (
        dict(threshold=9),
        dict(max_cells=6000),
        dict(dp=DPSpec(2.0)),
        dict(dp=DPSpec(0.5, delta=1e-3)),
    ):
        with pytest.raises(OutputRefused) as refused:
            output_rules(policy, output("o", {"d": ("a",)}, **loose))
        assert refused.value.refusal is Refusal.LOOSER_THAN_POLICY
