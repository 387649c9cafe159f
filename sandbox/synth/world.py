"""The synthetic city as one object: its residents, firms, homes and jobs, plus the random streams.

Every stage draws from its own named stream (seed + stage name), so adding a dataset never
changes what another dataset contains.

Resident IDs and USCCs that will get a corrupted check character are chosen here, before any
other dataset is drawn, and marked not ``referenceable``: nobody else points at them, so a
corrupted key never turns references elsewhere into orphans (which would be a second defect).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa

from sandbox.synth import firms as firms_module
from sandbox.synth import homes as homes_module
from sandbox.synth import identifiers as ids
from sandbox.synth import jobs as jobs_module
from sandbox.synth import people as people_module
from sandbox.synth.defects import count
from sandbox.synth.firms import Firms
from sandbox.synth.geography import Geography, city
from sandbox.synth.homes import Homes
from sandbox.synth.jobs import Jobs
from sandbox.synth.people import MOBILE_PREFIXES, Population


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode())])))


@dataclass
class World:
    seed: int
    defect_rate: float
    geo: Geography
    people: Population
    firms: Firms
    homes: Homes
    jobs: Jobs
    _issued: set[bytes] = field(default_factory=set)

    @classmethod
    def build(cls, people: int, seed: int, defect_rate: float) -> World:
        geo = city()
        population = people_module.build(stream(seed, "people"), geo, people)
        _reserve(stream(seed, "reserve-people"), population.referenceable, defect_rate, keep=0)
        firms = firms_module.build(stream(seed, "firms"), geo, population)
        _reserve(stream(seed, "reserve-firms"), firms.referenceable, defect_rate, keep=3)
        return cls(
            seed=seed,
            defect_rate=defect_rate,
            geo=geo,
            people=population,
            firms=firms,
            homes=homes_module.build(stream(seed, "homes"), geo, population),
            jobs=jobs_module.build(stream(seed, "jobs"), population, firms),
        )

    def rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, name)

    def known_resident_ids(self, rng: np.random.Generator, k: int) -> pa.Array:
        """IDs of ``k`` random residents whose IDs are valid and appear in the hukou data."""
        return self.people.id_number.take(pa.array(rng.choice(np.flatnonzero(self.people.referenceable), k)))

    def known_usccs(self, rng: np.random.Generator, k: int) -> pa.Array:
        return self.firms.uscc.take(pa.array(rng.choice(np.flatnonzero(self.firms.referenceable), k)))

    def mobiles(self, rng: np.random.Generator, k: int) -> pa.Array:
        return ids.to_strings(ids.mobiles(rng, k, MOBILE_PREFIXES))

    def unknown_resident_ids(self, rng: np.random.Generator, k: int) -> pa.Array:
        """``k`` valid resident IDs that belong to nobody in the city (and were never handed out)."""
        existing = self._sorted_ids
        out: list[np.ndarray] = []
        while sum(len(o) for o in out) < k:
            m = 2 * k
            district = rng.integers(0, len(self.geo.district_code), m)
            birth = np.datetime64("1940-01-01") + rng.integers(0, 65 * 365, m).astype("timedelta64[D]")
            matrix = ids.resident_ids(
                self.geo.district_code.astype(np.int64)[district], birth, rng.integers(1, 1000, m)
            )
            out.append(self._fresh(matrix, existing))
        return ids.to_strings(np.concatenate(out)[:k])

    def unknown_usccs(self, rng: np.random.Generator, k: int) -> pa.Array:
        """``k`` valid USCCs of firms that are not registered in the city's data."""
        district = rng.integers(0, len(self.geo.district_code), k)
        return ids.to_strings(self.new_usccs(rng, np.full(k, "91"), district, np.ones(k, dtype=bool)))

    def new_usccs(
        self, rng: np.random.Generator, kind: np.ndarray, district: np.ndarray, new_style: np.ndarray
    ) -> np.ndarray:
        """Valid USCCs (as a matrix) distinct from every firm's and from each other."""
        existing = self._sorted_usccs
        region = self.geo.district_code.astype(np.int64)[district]
        result = ids.usccs(rng, kind, region, new_style)
        fresh = self._fresh_mask(result, existing)
        while not fresh.all():
            redo = np.flatnonzero(~fresh)
            result[redo] = ids.usccs(rng, kind[redo], region[redo], new_style[redo])
            fresh[redo] = self._fresh_mask(result[redo], existing)
        return result

    @cached_property
    def _sorted_ids(self) -> np.ndarray:
        return np.sort(self.people.id_matrix.view("S18").ravel())

    @cached_property
    def _sorted_usccs(self) -> np.ndarray:
        return np.sort(self.firms.uscc_matrix.view("S18").ravel())

    def _fresh_mask(self, matrix: np.ndarray, existing: np.ndarray) -> np.ndarray:
        """Rows not in ``existing`` nor issued before; the fresh ones are marked issued."""
        keys = matrix.view("S18").ravel()
        pos = np.minimum(np.searchsorted(existing, keys), max(len(existing) - 1, 0))
        fresh = existing[pos] != keys if len(existing) else np.ones(len(keys), dtype=bool)
        for i in np.flatnonzero(fresh):
            key = bytes(keys[i])
            if key in self._issued:
                fresh[i] = False
            else:
                self._issued.add(key)
        return fresh

    def _fresh(self, matrix: np.ndarray, existing: np.ndarray) -> np.ndarray:
        return matrix[self._fresh_mask(matrix, existing)]


def _reserve(rng: np.random.Generator, referenceable: np.ndarray, rate: float, keep: int) -> None:
    """Mark the rows whose key will carry a wrong check character (never the first ``keep``)."""
    k = min(count(rate, len(referenceable)), len(referenceable) - keep)
    referenceable[keep + rng.choice(len(referenceable) - keep, k, replace=False)] = False
