"""Employment: who works for which firm since when, on which contribution base.

Social insurance and the housing fund both derive from these jobs, so a person's employer is
the same in both datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.synth.firms import Firms
from sandbox.synth.people import Population
from sandbox.synth.timeline import AS_OF, add_years, between

#: Hubei-style contribution base floor and ceiling (60 % and 300 % of the average wage), yuan
BASE_FLOOR, BASE_CAP = 4077.0, 20385.0
STATUSES = ("参保缴费", "暂停缴费", "终止参保")
_EARLIEST = np.datetime64("1998-01-01")  # city-wide insurance records start


@dataclass
class Jobs:
    person: np.ndarray  # population row
    employer: np.ndarray  # firm row
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT while contributing
    status: np.ndarray  # index into STATUSES
    base: np.ndarray  # monthly contribution base, yuan

    def __len__(self) -> int:
        return len(self.person)


def build(rng: np.random.Generator, people: Population, firms: Firms) -> Jobs:
    retirement = np.where(people.gender == 1, 60, 55)
    working_age = people.referenceable & (people.age >= 18) & (people.age < retirement)
    p_employed = np.interp(people.age, [18, 25, 45, 60], [0.25, 0.65, 0.65, 0.35])
    person = np.flatnonzero(working_age & (rng.random(len(people)) < p_employed))
    n = len(person)
    hiring = np.flatnonzero(firms.referenceable & firms.active)
    weight = firms.employees[hiring] + 1.0
    employer = hiring[rng.choice(len(hiring), n, p=weight / weight.sum())]
    earliest = np.maximum(
        np.maximum(add_years(people.birth[person], 18), firms.established[employer]), _EARLIEST
    )
    start = between(rng, earliest, np.full(n, AS_OF - 1))
    status = rng.choice(len(STATUSES), n, p=[0.85, 0.08, 0.07])
    end = np.where(status > 0, between(rng, start, np.full(n, AS_OF - 1)), np.datetime64("NaT"))
    base = np.round(np.clip(rng.lognormal(np.log(5200), 0.45, n), BASE_FLOOR, BASE_CAP), 2)
    return Jobs(person=person, employer=employer, start=start, end=end, status=status, base=base)
