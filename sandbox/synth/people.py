"""The resident population: who lives where, how old, in which household, under which ID.

Everything is drawn column-wise. Names come from Faker's zh_CN person pools (surnames with
their frequency weights, given names by sex), sampled with numpy instead of calling Faker
per row. The age pyramid follows an ageing inland county (about a quarter aged 60+, more
women than men among the oldest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from faker.providers.person.zh_CN import Provider as FakerPerson
from faker.providers.phone_number.zh_CN import Provider as FakerPhone

from sandbox.synth import identifiers as ids
from sandbox.synth.addresses import dwellings
from sandbox.synth.geography import Geography
from sandbox.synth.strings import join, take, where
from sandbox.synth.timeline import AS_OF, years_old

# share of the population per five-year age band, 0-4 … 100-104
_AGE_BANDS = np.array([
    4.0, 5.2, 5.5, 4.8, 4.2, 5.0, 7.0, 6.6, 6.2, 7.8, 8.6, 7.9, 5.8, 6.2, 4.6, 3.0, 2.0, 1.1, 0.4, 0.1, 0.02,
])  # fmt: skip
ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族",
    "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族",
    "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族",
    "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族",
    "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)  # fmt: skip
_ETHNIC_WEIGHTS = {"汉族": 0.955, "土家族": 0.03, "苗族": 0.004, "回族": 0.003, "满族": 0.002, "壮族": 0.001}
#: GB/T 4658 education, by name
EDUCATION = ("研究生", "大学本科", "大学专科", "中等专科", "高中", "初中", "小学", "文盲或半文盲")
#: GB/T 2261.2 marital status codes: 未婚, 已婚, 丧偶, 离婚
MARITAL = ("10", "20", "30", "40")
#: GB/T 4761 family relations, by name
RELATIONS = ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟姐妹", "其他")
HEAD, SPOUSE = 0, 1
MOBILE_PREFIXES = np.array(sorted(FakerPhone.phonenumber_prefixes))
_PERSONS_PER_HOUSEHOLD = 2.8


@dataclass
class Population:
    """One row per resident; households and spouses are row indices into the same arrays."""

    community: np.ndarray
    town: np.ndarray
    district: np.ndarray
    gender: np.ndarray  # 1 male, 2 female (GB/T 2261.1)
    birth: np.ndarray  # datetime64[D]
    age: np.ndarray
    id_matrix: np.ndarray  # (n, 18) ASCII
    id_number: pa.Array
    name: pa.Array
    ethnicity: np.ndarray  # index into ETHNICITIES
    education: np.ndarray  # index into EDUCATION, -1 for pre-school children
    marital: np.ndarray  # index into MARITAL
    household: np.ndarray  # household index
    household_size: np.ndarray  # per person: size of their household
    relation: np.ndarray  # index into RELATIONS
    spouse: np.ndarray  # row of the spouse in the same household, -1 if none
    household_id: pa.Array  # per household
    address: pa.Array  # per household
    mobile: pa.Array  # null for young children and a few adults
    referenceable: np.ndarray  # False for people whose ID is kept out of other datasets

    def __len__(self) -> int:
        return len(self.age)


def build(rng: np.random.Generator, geo: Geography, n: int) -> Population:
    community = rng.choice(len(geo.community_code), n, p=geo.community_weight)
    district = geo.community_district[community]
    band = rng.choice(len(_AGE_BANDS), n, p=_AGE_BANDS / _AGE_BANDS.sum())
    age_days = ((band * 5 + rng.random(n) * 5) * 365.2425).astype(np.int64)
    birth = AS_OF - age_days.astype("timedelta64[D]")
    age = years_old(birth)
    p_male = np.interp(age, [0, 40, 70, 85, 100], [0.53, 0.51, 0.49, 0.42, 0.33])
    gender = np.where(rng.random(n) < p_male, 1, 2).astype(np.int8)
    id_matrix = _resident_ids(rng, geo, district, birth, gender)
    household, relation, spouse = _households(rng, community, age, gender)
    household_size = np.bincount(household)[household]
    return Population(
        community=community,
        town=geo.community_town[community],
        district=district,
        gender=gender,
        birth=birth,
        age=age,
        id_matrix=id_matrix,
        id_number=ids.to_strings(id_matrix),
        name=_names(rng, gender),
        ethnicity=_ethnicities(rng, n),
        education=_education(rng, age, birth),
        marital=_marital(rng, age, spouse),
        household=household,
        household_size=household_size,
        relation=relation,
        spouse=spouse,
        household_id=ids.to_strings(ids.digit_matrix(ids.unique_numbers(rng, household.max() + 1, 10), 10)),
        address=_household_addresses(rng, geo, community, household),
        mobile=_mobiles(rng, age),
        referenceable=np.ones(n, dtype=bool),
    )


def _names(rng: np.random.Generator, gender: np.ndarray) -> pa.Array:
    """Surname by Faker's frequency weights plus a given name from the pool of the person's sex.

    About half the given names join two single-character entries, as two-character names are
    the commoner kind; Faker's pools alone would make names far too repetitive.
    """
    surnames = list(FakerPerson.last_names)
    weights = np.array(list(FakerPerson.last_names.values()), dtype=float)
    n = len(gender)
    out_surname = rng.choice(len(surnames), n, p=weights / weights.sum())
    given = []
    for pool, sex in ((FakerPerson.first_names_male, 1), (FakerPerson.first_names_female, 2)):
        singles = [g for g in pool if len(g) == 1]
        combined = list(pool) + [a + b for a in singles for b in singles]
        given.append((sex, combined, len(pool)))
    index = np.empty(n, dtype=np.int64)
    offset = 0
    pool_all: list[str] = []
    for sex, combined, n_pool in given:
        rows = gender == sex
        k = int(rows.sum())
        whole = rng.random(k) < 0.45
        pick = np.where(whole, rng.integers(0, n_pool, k), rng.integers(n_pool, len(combined), k))
        index[rows] = offset + pick
        offset += len(combined)
        pool_all += combined
    return join(take(surnames, out_surname), take(pool_all, index))


def _resident_ids(
    rng: np.random.Generator, geo: Geography, district: np.ndarray, birth: np.ndarray, gender: np.ndarray
) -> np.ndarray:
    """Unique IDs: within one (district, birth date, sex) the order codes are distinct by rank."""
    day = birth.astype(np.int64) + 100_000
    group = (district.astype(np.int64) * 1_000_000 + day) * 2 + (gender - 1)
    rank = ids.serials(rng, group) - 1
    if len(rank) and rank.max() >= 499:
        raise ValueError("too many people share a district, birth date and sex for unique ID numbers")
    slot = (rank + (group * 2_654_435_761) % 499) % 499
    sequence = 2 * slot + np.where(gender == 1, 1, 2)
    region = geo.district_code.astype(np.int64)[district]
    return ids.resident_ids(region, birth, sequence)


def _households(
    rng: np.random.Generator, community: np.ndarray, age: np.ndarray, gender: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heads are adults of the community; everyone else joins a random head of their community.

    Relations follow from the age gap to the head; the first opposite-sex member of similar
    age becomes the spouse.
    """
    n = len(age)
    candidate = age >= 22
    count = np.bincount(community, minlength=community.max() + 1)
    adults = np.bincount(community, weights=candidate, minlength=len(count)).astype(np.int64)
    heads = np.maximum(np.rint(count / _PERSONS_PER_HOUSEHOLD).astype(np.int64), (count > 0).astype(np.int64))
    heads = np.where(adults > 0, np.minimum(heads, adults), np.minimum(heads, count))
    head_start = np.r_[0, np.cumsum(heads)[:-1]]
    # an exponential race: middle-aged adults head households more often than the very old
    headship = np.interp(age, [22, 30, 45, 60, 75, 90], [0.6, 1.5, 2.0, 1.5, 1.0, 0.6])
    order = np.lexsort((rng.exponential(1.0, n) / headship, ~candidate, community))
    comm_sorted = community[order]
    comm_start = np.r_[0, np.cumsum(count)[:-1]]
    position = np.arange(n) - comm_start[comm_sorted]
    is_head_sorted = position < heads[comm_sorted]
    member_slot = (rng.random(n) * heads[comm_sorted]).astype(np.int64)
    household_sorted = head_start[comm_sorted] + np.where(is_head_sorted, position, member_slot)
    household = np.empty(n, dtype=np.int64)
    household[order] = household_sorted
    head_of = np.empty(heads.sum(), dtype=np.int64)
    head_of[household_sorted[is_head_sorted]] = order[is_head_sorted]

    is_head = np.zeros(n, dtype=bool)
    is_head[head_of] = True
    head = head_of[household]
    gap = age - age[head]
    spouse = np.full(n, -1, dtype=np.int64)
    could_marry = ~is_head & (np.abs(gap) < 15) & (gender != gender[head]) & (age >= 20) & (age[head] >= 20)
    rows = np.flatnonzero(could_marry)
    _, first = np.unique(household[rows], return_index=True)
    partner = rows[first]
    spouse[partner] = head[partner]
    spouse[head[partner]] = partner

    male = gender == 1
    relation = np.where(
        gap >= 15,
        np.where(male, 4, 5),
        np.where(gap <= -40, np.where(male, 6, 7), np.where(gap <= -15, np.where(male, 2, 3), 8)),
    )
    relation = np.where((relation == 8) & (rng.random(n) < 0.4), 9, relation)
    relation[is_head] = HEAD
    relation[partner] = SPOUSE
    return household, relation, spouse


def _ethnicities(rng: np.random.Generator, n: int) -> np.ndarray:
    rest = (1 - sum(_ETHNIC_WEIGHTS.values())) / (len(ETHNICITIES) - len(_ETHNIC_WEIGHTS))
    weights = np.array([_ETHNIC_WEIGHTS.get(e, rest) for e in ETHNICITIES])
    return rng.choice(len(ETHNICITIES), n, p=weights / weights.sum())


def _education(rng: np.random.Generator, age: np.ndarray, birth: np.ndarray) -> np.ndarray:
    """School-age children by age; adults by birth cohort (older cohorts had less schooling)."""
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    cohorts = np.array([
        # 研究生 本科 专科 中专 高中 初中 小学 文盲
        [0.000, 0.01, 0.02, 0.03, 0.10, 0.24, 0.40, 0.20],  # born before 1955
        [0.002, 0.03, 0.05, 0.07, 0.20, 0.40, 0.20, 0.028],  # 1955-1969
        [0.01, 0.08, 0.10, 0.10, 0.24, 0.38, 0.09, 0.0],  # 1970-1984
        [0.03, 0.20, 0.22, 0.10, 0.20, 0.23, 0.02, 0.0],  # 1985-2003
    ])  # fmt: skip
    cohort = np.digitize(year, [1955, 1970, 1985])
    cdf = np.cumsum(cohorts / cohorts.sum(axis=1, keepdims=True), axis=1)
    adult = (cdf[cohort] < rng.random(len(age))[:, None]).sum(axis=1)
    child = np.select([age < 6, age < 12, age < 15], [-1, 6, 5], 4)
    return np.where(age >= 22, np.minimum(adult, 7), child)


def _marital(rng: np.random.Generator, age: np.ndarray, spouse: np.ndarray) -> np.ndarray:
    """Spouses living together are married; others by age (many widowed among the oldest)."""
    table = np.array([
        # 未婚 已婚 丧偶 离婚
        [0.60, 0.37, 0.00, 0.03],  # 20-29
        [0.10, 0.80, 0.02, 0.08],  # 30-49
        [0.03, 0.82, 0.08, 0.07],  # 50-69
        [0.01, 0.60, 0.35, 0.04],  # 70+
    ])  # fmt: skip
    band = np.digitize(age, [30, 50, 70])
    drawn = (np.cumsum(table, axis=1)[band] < rng.random(len(age))[:, None]).sum(axis=1)
    drawn = np.minimum(drawn, 3)
    return np.where(spouse >= 0, 1, np.where(age < 20, 0, drawn))


def _household_addresses(
    rng: np.random.Generator, geo: Geography, community: np.ndarray, household: np.ndarray
) -> pa.Array:
    """One address per household: 栋/单元/室 in urban communities, 组/号 in villages."""
    h = household.max() + 1
    home = np.empty(h, dtype=np.int64)
    home[household] = community
    return dwellings(rng, geo, home)


def _mobiles(rng: np.random.Generator, age: np.ndarray) -> pa.Array:
    n = len(age)
    has = (age >= 14) & (rng.random(n) < 0.97)
    numbers = ids.to_strings(ids.mobiles(rng, n, MOBILE_PREFIXES))
    return where(has, numbers, None)


def residents_of(
    rng: np.random.Generator, people: Population, community: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """For each requested community, a random eligible resident living there (anyone eligible if none)."""
    pool = np.flatnonzero(eligible)
    pool = pool[np.argsort(people.community[pool], kind="stable")]
    count = np.bincount(people.community[pool], minlength=max(community.max(), people.community.max()) + 1)
    start = np.r_[0, np.cumsum(count)[:-1]]
    u = rng.random(len(community))
    local = start[community] + (u * count[community]).astype(np.int64)
    anywhere = (u * len(pool)).astype(np.int64)
    return pool[np.where(count[community] > 0, local, anywhere)]
