"""The housing stock: one home per household, extra flats held by investors, and business premises.

Both the housing authority's 房屋信息 and the land registry's 不动产登记 describe these same
units, so a flat has one owner and one floor area across both datasets — the genuine-rental
product depends on that agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox.synth import identifiers as ids
from sandbox.synth.addresses import dwellings, streets
from sandbox.synth.geography import Geography
from sandbox.synth.people import HEAD, Population, residents_of
from sandbox.synth.strings import join, number, take
from sandbox.synth.timeline import AS_OF, between

USAGES = ("住宅", "商业", "办公", "工业")
_EXTRA_FLATS = 0.25  # per household
_PREMISES = 0.06  # per household
# usage → (median m², log-sd, min, max)
_AREA = {0: (95.0, 0.30, 25.0, 400.0), 1: (80.0, 0.9, 10.0, 20_000.0), 2: (150.0, 0.8, 20.0, 30_000.0),
         3: (1500.0, 1.0, 100.0, 90_000.0)}  # fmt: skip
_UNIFIED_REGISTRATION = np.datetime64("2015-03-01")  # 不动产统一登记 began


@dataclass
class Homes:
    community: np.ndarray
    district: np.ndarray
    house_id: pa.Array
    address: pa.Array
    usage: np.ndarray  # index into USAGES
    floor_area: np.ndarray  # m², two decimals
    building_year: np.ndarray
    owner: np.ndarray  # population row
    rental_registered: np.ndarray
    registered: np.ndarray  # has a real-estate title (不动产权证)
    registration_date: np.ndarray
    cert_no: pa.Array  # 不动产权证号, meaningful where registered
    mortgaged: np.ndarray

    def __len__(self) -> int:
        return len(self.usage)


def build(rng: np.random.Generator, geo: Geography, people: Population) -> Homes:
    adults = people.referenceable & (people.age >= 22)
    n_households = people.household.max() + 1
    head = np.empty(n_households, dtype=np.int64)
    head[people.household[people.relation == HEAD]] = np.flatnonzero(people.relation == HEAD)
    home_community = people.community[head]
    home_owner = np.where(adults[head], head, residents_of(rng, people, home_community, adults))
    home_address = people.address

    n_extra = round(n_households * _EXTRA_FLATS)
    urban_weight = geo.community_weight * ~geo.community_rural
    extra_community = rng.choice(len(urban_weight), n_extra, p=urban_weight / urban_weight.sum())
    n_premises = round(n_households * _PREMISES)
    premises_community = rng.choice(len(geo.community_weight), n_premises, p=geo.community_weight)
    investors = np.flatnonzero(adults & (people.age >= 28))
    appetite = rng.lognormal(0.0, 1.5, len(investors))
    owners = investors[rng.choice(len(investors), n_extra + n_premises, p=appetite / appetite.sum())]

    premises_usage = rng.choice([1, 2, 3], n_premises, p=[0.6, 0.2, 0.2])
    premises_address = join(
        streets(rng, geo, premises_community),
        take(("", "商铺", "办公楼", "厂房"), premises_usage),
    )
    community = np.r_[home_community, extra_community, premises_community]
    usage = np.r_[np.zeros(n_households + n_extra, dtype=np.int64), premises_usage]
    owner = np.r_[home_owner, owners]
    address = pa.concat_arrays([home_address, dwellings(rng, geo, extra_community), premises_address])
    n = len(community)
    rural = geo.community_rural[community]
    own_home = np.arange(n) < n_households

    floor_area = _floor_area(rng, usage, rural)
    building_year = np.where(
        rural,
        np.clip(np.rint(rng.normal(1998, 12, n)), 1960, 2025),
        np.clip(np.rint(rng.normal(2008, 9, n)), 1970, 2025),
    ).astype(np.int64)
    rental_registered = rng.random(n) < np.where(own_home, 0.02, np.where(usage == 0, 0.35, 0.2))
    registered = rng.random(n) < np.where(usage > 0, 0.85, np.where(rural, 0.45, 0.9))
    built = (building_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    registration_date = between(rng, np.maximum(built, _UNIFIED_REGISTRATION), np.full(n, AS_OF - 1))
    return Homes(
        community=community,
        district=geo.community_district[community],
        house_id=_house_ids(rng, geo, community),
        address=address,
        usage=usage,
        floor_area=floor_area,
        building_year=building_year,
        owner=owner,
        rental_registered=rental_registered,
        registered=registered,
        registration_date=registration_date,
        cert_no=_cert_numbers(rng, registration_date),
        mortgaged=rng.random(n) < np.where((usage == 0) & ~rural, 0.3, 0.15),
    )


def _floor_area(rng: np.random.Generator, usage: np.ndarray, rural: np.ndarray) -> np.ndarray:
    n = len(usage)
    median = np.array([v[0] for v in _AREA.values()])[usage] * np.where(rural & (usage == 0), 1.5, 1.0)
    sd = np.array([v[1] for v in _AREA.values()])[usage]
    low = np.array([v[2] for v in _AREA.values()])[usage]
    high = np.array([v[3] for v in _AREA.values()])[usage]
    return np.round(np.clip(median * np.exp(rng.normal(0, 1, n) * sd), low, high), 2)


def _house_ids(rng: np.random.Generator, geo: Geography, community: np.ndarray) -> pa.Array:
    """ "FW" + community code + a five-digit serial within the community."""
    return join("FW", take(geo.community_code, community), number(ids.serials(rng, community), 5))


def _cert_numbers(rng: np.random.Generator, registration_date: np.ndarray) -> pa.Array:
    """鄂（年）云泽市不动产权第NNNNNNN号, numbered within the year."""
    year = registration_date.astype("datetime64[Y]").astype(np.int64) + 1970
    return join("鄂（", number(year), "）云泽市不动产权第", number(ids.serials(rng, year), 7), "号")
