"""Market entities: companies, sole proprietors (个体工商户) and farmers' cooperatives.

Registered capital is heavy-tailed on purpose: a handful of group companies hold a large
share of the city's capital, so dominance rules in the gate have something to bite on.
Legal representatives are residents; most firms sit in their representative's community.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.synth import identifiers as ids
from sandbox.synth.addresses import streets
from sandbox.synth.geography import AREA_CODE, CITY, Geography
from sandbox.synth.people import Population
from sandbox.synth.strings import join, take, where
from sandbox.synth.timeline import AS_OF, add_years, between

#: GB/T 4754-2017 sections
INDUSTRIES = tuple("ABCDEFGHIJKLMNOPQRST")
STATUSES = ("存续", "在业", "注销", "吊销")
ACTIVE = (0, 1)
# registrant kind → (share, industry weights A…T)
_KINDS = {
    "91": (0.55, [3, 1, 18, 1, 0.5, 8, 30, 5, 6, 1, 4, 6, 6, 1, 3, 2, 1, 2, 0, 0]),
    "92": (0.40, [2, 0, 3, 0, 0, 0, 55, 3, 2, 0, 0, 0, 0, 0, 15, 0, 0, 3, 0, 0]),
    "93": (0.05, [90, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
}
_BRANDS = (
    "金瑞", "鑫源", "恒通", "宏达", "华泰", "永盛", "兴旺", "利民", "天成", "昌隆", "瑞丰", "富康", "顺发", "安泰",
    "盛世", "宏远", "新桥", "楚天", "荆楚", "铜都", "明珠", "汇丰", "嘉禾", "万通", "联创", "博远", "宏图", "佳和",
)  # fmt: skip
_COMPANY_WORDS = {
    "A": "农业开发", "B": "矿业", "C": "机械制造", "D": "电力", "E": "建材", "F": "商贸", "G": "物流", "H": "餐饮管理",
    "I": "信息科技", "J": "小额贷款", "K": "房地产开发", "L": "企业管理咨询", "M": "工程技术", "N": "环保科技",
    "O": "家政服务", "P": "教育咨询", "Q": "医疗管理", "R": "文化传媒", "S": "社会服务", "T": "国际合作",
}  # fmt: skip
_SHOP_WORDS = {
    "A": "家庭农场",
    "C": "加工坊",
    "G": "便利店",
    "H": "小吃店",
    "I": "通讯店",
    "O": "理发店",
    "R": "棋牌室",
}
_GIANTS = ("云泽有色金属集团股份有限公司", "云泽城市建设投资集团有限公司", "云泽钢铁股份有限公司")


@dataclass
class Firms:
    kind: np.ndarray  # "91" company, "92" sole proprietor, "93" cooperative
    uscc_matrix: np.ndarray
    uscc: pa.Array
    name: pa.Array
    legal_rep: np.ndarray  # population row
    community: np.ndarray
    district: np.ndarray
    industry: np.ndarray  # index into INDUSTRIES
    capital: np.ndarray  # registered capital, 万元
    established: np.ndarray  # datetime64[D]
    status: np.ndarray  # index into STATUSES
    employees: np.ndarray
    phone: pa.Array
    address: pa.Array
    referenceable: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def active(self) -> np.ndarray:
        return np.isin(self.status, ACTIVE)


def build(rng: np.random.Generator, geo: Geography, people: Population) -> Firms:
    n = max(60, round(len(people) * 0.08))
    kinds = np.array(list(_KINDS))
    kind = kinds[rng.choice(len(kinds), n, p=[v[0] for v in _KINDS.values()])]
    kind[: len(_GIANTS)] = "91"
    industry = np.empty(n, dtype=np.int64)
    for k, (_, weights) in _KINDS.items():
        rows = kind == k
        w = np.array(weights, dtype=float)
        industry[rows] = rng.choice(len(INDUSTRIES), int(rows.sum()), p=w / w.sum())
    industry[: len(_GIANTS)] = [INDUSTRIES.index(x) for x in "CKC"]

    eligible = np.flatnonzero(people.referenceable & (people.age >= 25) & (people.age <= 75))
    drive = rng.lognormal(0.0, 1.0, len(eligible))
    legal_rep = eligible[rng.choice(len(eligible), n, p=drive / drive.sum())]
    elsewhere = rng.random(n) < 0.15
    community = np.where(
        elsewhere, people.community[rng.integers(0, len(people), n)], people.community[legal_rep]
    )
    district = geo.community_district[community]

    capital = _capital(rng, kind)
    established = _established(rng, kind, people.birth[legal_rep])
    status = rng.choice(len(STATUSES), n, p=[0.55, 0.27, 0.12, 0.06])
    status[: len(_GIANTS)] = 0
    scale = np.clip(capital / 100, 0.01, None) ** 0.3
    employees = np.select(
        [kind == "91", kind == "92"],
        [np.rint(rng.lognormal(np.log(8), 1.0, n) * scale), rng.integers(1, 6, n)],
        rng.integers(3, 31, n),
    ).astype(np.int64)
    employees[: len(_GIANTS)] = rng.integers(3000, 20000, len(_GIANTS))
    employees = np.where(status >= 2, 0, np.minimum(employees, 50_000))
    new_style = established >= np.datetime64("2015-10-01")
    uscc_matrix = ids.usccs(rng, kind, geo.district_code.astype(np.int64)[district], new_style)
    return Firms(
        kind=kind,
        uscc_matrix=uscc_matrix,
        uscc=ids.to_strings(uscc_matrix),
        name=_names(rng, geo, kind, industry, community, people.name, legal_rep),
        legal_rep=legal_rep,
        community=community,
        district=district,
        industry=industry,
        capital=capital,
        established=established,
        status=status,
        employees=employees,
        phone=ids.to_strings(ids.landlines(rng, n, AREA_CODE)),
        address=streets(rng, geo, community),
        referenceable=np.ones(n, dtype=bool),
    )


def _capital(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """万元: lognormal bodies, a Pareto tail for 2 % of companies, three group companies on top."""
    n = len(kind)
    company = np.where(
        rng.random(n) < 0.02, 3000 * (1 + rng.pareto(1.1, n)), rng.lognormal(np.log(100), 1.2, n)
    )
    capital = np.select(
        [kind == "91", kind == "92"],
        [company, rng.lognormal(np.log(5), 0.9, n)],
        rng.lognormal(np.log(50), 1.0, n),
    )
    capital[: len(_GIANTS)] = rng.uniform(300_000, 1_500_000, len(_GIANTS))
    capital = np.clip(capital, 0.5, 50_000_000)
    return np.where(capital >= 10, np.round(capital), np.round(capital, 1))


def _established(rng: np.random.Generator, kind: np.ndarray, rep_birth: np.ndarray) -> np.ndarray:
    n = len(kind)
    years = np.select(
        [kind == "91", kind == "92"],
        [rng.exponential(8.0, n), rng.exponential(5.0, n)],
        rng.uniform(0, 17, n),
    )
    day = AS_OF - np.rint(years * 365.2425).astype(np.int64).astype("timedelta64[D]") - np.timedelta64(1, "D")
    day[: len(_GIANTS)] = between(
        rng,
        np.full(len(_GIANTS), np.datetime64("1990-01-01")),
        np.full(len(_GIANTS), np.datetime64("2005-12-31")),
    )
    earliest = np.maximum(add_years(rep_birth, 18), np.datetime64("1984-01-01"))
    return np.where(day < earliest, between(rng, earliest, np.full(n, AS_OF - 1)), day)


def _names(
    rng: np.random.Generator,
    geo: Geography,
    kind: np.ndarray,
    industry: np.ndarray,
    community: np.ndarray,
    person_name: pa.Array,
    legal_rep: np.ndarray,
) -> pa.Array:
    n = len(kind)
    brand = take(_BRANDS, rng.integers(0, len(_BRANDS), n))
    suffix = take(("有限公司", "有限责任公司", "股份有限公司"), rng.choice(3, n, p=[0.7, 0.25, 0.05]))
    company = join(CITY, brand, take([_COMPANY_WORDS[x] for x in INDUSTRIES], industry), suffix)
    surname = pc.utf8_slice_codeunits(person_name.take(pa.array(legal_rep)), 0, 1)
    shop_word = take([_SHOP_WORDS.get(x, "经营部") for x in INDUSTRIES], industry)
    shop_owner = where(rng.random(n) < 0.5, join(surname, "记"), brand)
    shop = join(take(geo.district_name, geo.community_district[community]), shop_owner, shop_word)
    coop = join(CITY, take(geo.town_name, geo.community_town[community]), brand, "种养专业合作社")
    names = where(kind == "91", company, where(kind == "92", shop, coop))
    return pa.concat_arrays([pa.array(_GIANTS, pa.string()), names.slice(len(_GIANTS))])
