"""Postal addresses in the fictional city, built column-wise from the geography."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.synth.geography import CITY, PROVINCE, Geography
from sandbox.synth.strings import join, number, take, where


def _prefix(geo: Geography, community: np.ndarray, *, with_community: bool) -> pa.Array:
    parts = [
        PROVINCE + CITY,
        take(geo.district_name, geo.community_district[community]),
        take(geo.town_name, geo.community_town[community]),
    ]
    if with_community:
        parts.append(take(geo.community_name, community))
    return join(*parts)


def dwellings(rng: np.random.Generator, geo: Geography, community: np.ndarray) -> pa.Array:
    """Residential addresses: road, number, 栋/单元/室 in urban communities; 组/号 in villages."""
    n = len(community)
    prefix = _prefix(geo, community, with_community=True)
    road = take(geo.road_name, geo.random_roads(rng, geo.community_district[community]))
    urban = join(
        prefix,
        road,
        number(rng.integers(1, 400, n)),
        "号",
        number(rng.integers(1, 30, n)),
        "栋",
        number(rng.integers(1, 5, n)),
        "单元",
        number(rng.integers(1, 19, n)),
        number(rng.integers(1, 5, n), 2),
        "室",
    )
    rural = join(prefix, number(rng.integers(1, 13, n)), "组", number(rng.integers(1, 80, n)), "号")
    return where(geo.community_rural[community], rural, urban)


def streets(rng: np.random.Generator, geo: Geography, community: np.ndarray) -> pa.Array:
    """Street addresses (district, town, road, number) for premises such as firms and shops."""
    n = len(community)
    road = take(geo.road_name, geo.random_roads(rng, geo.community_district[community]))
    return join(_prefix(geo, community, with_community=False), road, number(rng.integers(1, 600, n)), "号")
