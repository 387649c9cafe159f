"""Every state, role and kind a user reads has its Chinese name; stored values stay English slugs."""

from __future__ import annotations

from enum import StrEnum

import pytest

from sandbox.domain import authorization, identity, job, product, quality, samples, scenario
from sandbox.domain.labels import ZH, label, label_of

#: Every enum of a lifecycle state or of who someone is: each must be in ZH.
MUST_BE_NAMED = [
    authorization.AuthorizationState, scenario.ScenarioState, scenario.ConsentState, scenario.ColumnStatus,
    job.SubmissionState, job.RunState, product.ProductState, product.RedevelopmentState, product.TermsState,
    quality.TicketState, samples.SampleState,
    quality.Severity, identity.Role, identity.OrgKind,
]  # fmt: skip


@pytest.mark.parametrize("kind", MUST_BE_NAMED, ids=lambda k: k.__name__)
def test_every_member_has_a_chinese_name(kind: type[StrEnum]):
    assert kind in ZH
    assert set(ZH[kind]) == {m.value for m in kind}
    assert all(name.strip() and not name.isascii() for name in ZH[kind].values())


def test_every_state_enum_of_the_domain_is_listed():
    """A new ``…State`` enum must be named too (this list is checked against the modules)."""
    found = {
        value
        for module in (authorization, scenario, job, product, quality, samples)
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, StrEnum) and name.endswith("State")
    }
    assert found <= set(MUST_BE_NAMED)


def test_a_label_is_chinese_then_the_slug():
    assert label(scenario.ConsentState.PARTIAL) == "部分同意 partial"
    assert label_of(product.ProductState, "registered") == "已登记 registered"
    assert label_of(job.RunState, "from-a-future-release") == "from-a-future-release"
