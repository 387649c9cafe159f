"""The sampling and desensitization policy: defaults an operator may only make stricter.

Kept apart from the gate's policy file (whose loader refuses unknown keys); a build records
the policy it ran with in its sample card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sandbox.samples.errors import SamplesError


@dataclass(frozen=True)
class SamplePolicy:
    fraction: float = 0.02  # share of entities sampled per district
    max_entities: int = 20_000  # cap per entity kind (people, enterprises)
    k: int = 5  # k-anonymity over each dataset's quasi-identifiers
    max_suppression: float = 0.05  # share of entities whose quasi-identifiers may be suppressed
    date_shift_days: int = 30  # per-entity shift of non-identifying dates: ± this many days
    profile_values: int = 300  # values per column the profiler looks at
    flag_share: float = 0.3  # share of identifier values that flags a column declared harmless

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_POLICY = SamplePolicy()


def check_policy(policy: SamplePolicy) -> None:
    """Refuse a policy looser than the defaults: larger samples, smaller k, more suppression."""
    d = DEFAULT_POLICY
    if not 0 < policy.fraction <= d.fraction or not 0 < policy.max_entities <= d.max_entities:
        raise SamplesError(
            f"抽样比例不得超过 {d.fraction:.0%}，抽样主体数不得超过 {d.max_entities:,}",
            f"the sample may hold at most {d.fraction:.0%} of entities, capped at {d.max_entities:,}",
        )
    if policy.k < d.k or not 0 <= policy.max_suppression <= d.max_suppression:
        raise SamplesError(
            f"k 不得小于 {d.k}，局部抑制比例不得超过 {d.max_suppression:.0%}",
            f"k may not be below {d.k} and local suppression may not exceed {d.max_suppression:.0%}",
        )
