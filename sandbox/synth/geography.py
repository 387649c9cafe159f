"""The fictional city 云泽市: district, town and community codes with Chinese names.

The city is modelled on a county-level city such as Daye, split into six district-level
units so that district codes vary. The prefix 4299 is not assigned in GB/T 2260 (Hubei's
prefecture codes stop at 4213, plus 4228 and 4290), so no code here can be mistaken for a
real place. Codes follow 统计用区划代码: six digits for a district, nine for a town or street
(街道 001-099, 镇 100-199, 乡 200-299) and twelve for a community or village
(居委会 001-199, 村委会 200-399).

The geography is the same for every seed: products, jobs and documents can name its codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

CITY = "云泽市"
PROVINCE = "湖北省"
CITY_CODE = "429900"
#: The city's fictional telephone area code (0729 is not assigned in Hubei).
AREA_CODE = "0729"

# code, name, population weight, streets, towns, townships
_DISTRICTS = (
    ("429902", "云泽区", 0.32, 10, 0, 0),
    ("429903", "湖滨区", 0.22, 6, 4, 0),
    ("429904", "金山区", 0.16, 4, 5, 1),
    ("429921", "青石县", 0.13, 1, 6, 3),
    ("429922", "白鹭县", 0.10, 1, 5, 3),
    ("429923", "松溪县", 0.07, 1, 4, 4),
)
_FIRST = "金银青白红黄东西南北新长大小龙凤桂兴和安平福康宁春秋湖山石泉松柳梅竹兰荷阳光明华盛丰永云清溪双三高"
_SECOND = "湖山港湾岭坪岗冲塘畈铺店桥河园林泉口洲堤坝田庄台岩峰源沟家垴嘴咀铺湾场"
_ROAD_SUFFIXES = ("路", "大道", "街", "路", "巷")
_ROAD_STEMS = (
    "建设", "人民", "解放", "新华", "光明", "和平", "胜利", "文化", "青年", "东风", "团结", "幸福", "长江",
    "黄河", "湖滨", "桂花", "工业", "民主", "中山", "迎宾", "滨江", "振兴", "健康", "育才", "金湖", "铁山",
    "矿冶", "铜都", "府前", "北京", "湛月", "罗桥", "东岳", "城北", "城南", "沿湖", "环城", "创业",
)  # fmt: skip


@dataclass(frozen=True)
class Geography:
    """Parallel arrays for districts, towns and communities; children point at parents by index."""

    district_code: np.ndarray
    district_name: np.ndarray
    district_weight: np.ndarray
    town_code: np.ndarray
    town_name: np.ndarray
    town_district: np.ndarray
    community_code: np.ndarray
    community_name: np.ndarray
    community_town: np.ndarray
    community_district: np.ndarray
    community_rural: np.ndarray  # True for 村委会: addresses use 组/号 instead of 栋/单元/室
    community_weight: np.ndarray  # share of the city's population living there
    road_name: np.ndarray  # roads, each in one district
    road_district: np.ndarray

    def random_roads(self, rng: np.random.Generator, district: np.ndarray) -> np.ndarray:
        """A uniformly chosen road of each row's district (roads are stored grouped by district)."""
        count = np.bincount(self.road_district, minlength=len(self.district_code))
        start = np.r_[0, np.cumsum(count)[:-1]]
        return start[district] + (rng.random(len(district)) * count[district]).astype(np.int64)


def _stems(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        stem = _FIRST[rng.integers(len(_FIRST))] + _SECOND[rng.integers(len(_SECOND))]
        if stem not in taken:
            taken.add(stem)
            out.append(stem)
    return out


@cache
def city() -> Geography:
    """Build the city from a fixed stream so the code tables never change."""
    rng = np.random.Generator(np.random.PCG64(4299))
    towns: list[tuple[str, str, int]] = []
    communities: list[tuple[str, str, int, int, bool, float]] = []
    roads: list[tuple[str, int]] = []
    town_stems: set[str] = set()
    for d, (dcode, _, weight, streets, zhen, xiang) in enumerate(_DISTRICTS):
        kinds = [("街道", 1 + i) for i in range(streets)]
        kinds += [("镇", 100 + i) for i in range(zhen)] + [("乡", 200 + i) for i in range(xiang)]
        stems = _stems(rng, len(kinds), town_stems)
        town_weights = rng.lognormal(0.0, 0.5, len(kinds)) * np.array(
            [2.0 if s == "街道" else 1.0 for s, _ in kinds]
        )
        town_weights = weight * town_weights / town_weights.sum()
        for (suffix, number), stem, tw in zip(kinds, stems, town_weights, strict=True):
            tcode = f"{dcode}{number:03d}"
            t = len(towns)
            towns.append((tcode, stem + suffix, d))
            if suffix == "街道":
                units = [("社区", 1 + i, False) for i in range(int(rng.integers(8, 19)))]
            elif suffix == "镇":
                units = [("社区", 1 + i, False) for i in range(int(rng.integers(2, 5)))]
                units += [("村", 200 + i, True) for i in range(int(rng.integers(10, 21)))]
            else:
                units = [("村", 200 + i, True) for i in range(int(rng.integers(8, 16)))]
            unit_stems = _stems(rng, len(units), set())
            cw = rng.lognormal(0.0, 0.6, len(units)) * np.array(
                [0.6 if rural else 1.5 for *_, rural in units]
            )
            cw = tw * cw / cw.sum()
            for (csuffix, cnum, rural), cstem, w in zip(units, unit_stems, cw, strict=True):
                communities.append((f"{tcode}{cnum:03d}", cstem + csuffix, t, d, rural, float(w)))
        road_stems = rng.choice(len(_ROAD_STEMS), size=12, replace=False)
        for k, s in enumerate(road_stems):
            roads.append((_ROAD_STEMS[s] + _ROAD_SUFFIXES[k % len(_ROAD_SUFFIXES)], d))
    weights = np.array([c[5] for c in communities])
    return Geography(
        district_code=np.array([d[0] for d in _DISTRICTS]),
        district_name=np.array([d[1] for d in _DISTRICTS]),
        district_weight=np.array([d[2] for d in _DISTRICTS]),
        town_code=np.array([t[0] for t in towns]),
        town_name=np.array([t[1] for t in towns]),
        town_district=np.array([t[2] for t in towns]),
        community_code=np.array([c[0] for c in communities]),
        community_name=np.array([c[1] for c in communities]),
        community_town=np.array([c[2] for c in communities]),
        community_district=np.array([c[3] for c in communities]),
        community_rural=np.array([c[4] for c in communities]),
        community_weight=weights / weights.sum(),
        road_name=np.array([r[0] for r in roads]),
        road_district=np.array([r[1] for r in roads]),
    )
