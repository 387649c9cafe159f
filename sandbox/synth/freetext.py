"""Free-text remarks, some with a phone number, resident ID or USCC buried in the Chinese text.

Clerks write identifiers straight into remarks with no spaces around them ("联系电话13812345678请回访").
Every planted identifier is returned with its row, kind and exact value, so ground truth can
say what a desensitiser must find. Plain remarks never contain a digit run a detector could
mistake for an identifier.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.synth.strings import join, take, where
from sandbox.synth.table import Planted
from sandbox.synth.world import World

PLANTED_SHARE = 0.07
_TEMPLATES = {
    "cn_mobile": (
        ("联系电话", "请回访"),
        ("本人手机", "已核实"),
        ("核查时拨打", "无人接听"),
        ("经办人电话", ""),
    ),
    "cn_resident_id": (
        ("身份证号", "与户籍一致"),
        ("原登记证件号码", "已注销"),
        ("代办人身份证", "已留存复印件"),
    ),
    "cn_uscc": (
        ("就业单位统一社会信用代码", "已核验"),
        ("关联企业", "存在同一联系人"),
        ("信用代码", "待补正"),
    ),
}


def remarks(
    world: World,
    rng: np.random.Generator,
    column: str,
    n: int,
    phrases: tuple[str, ...],
    plain_share: float,
    kinds: dict[str, float],
) -> tuple[pa.Array, Planted]:
    """A free-text column of ``n`` rows: mostly empty, some stock phrases, ~7 % with an identifier.

    ``kinds`` weights which identifier kinds are planted (keys of the templates).
    """
    u = rng.random(n)
    planted = np.flatnonzero(u < PLANTED_SHARE)
    plain = (u >= PLANTED_SHARE) & (u < PLANTED_SHARE + plain_share)
    names = list(kinds)
    weights = np.array([kinds[k] for k in names])
    kind = np.array(names)[rng.choice(len(names), len(planted), p=weights / weights.sum())]
    values = pa.nulls(len(planted), pa.string())
    texts = pa.nulls(len(planted), pa.string())
    for name in names:
        rows = kind == name
        k = int(rows.sum())
        if not k:
            continue
        value = _values(world, rng, name, k)
        templates = _TEMPLATES[name]
        t = rng.integers(0, len(templates), k)
        text = join(take([p for p, _ in templates], t), value, take([s for _, s in templates], t))
        values = _scatter(values, rows, value)
        texts = _scatter(texts, rows, text)
    text_all = where(plain, take(phrases, rng.integers(0, len(phrases), n)), None)
    text_all = _scatter(text_all, np.isin(np.arange(n), planted), texts)
    return text_all, Planted(column, planted, kind, values)


def _values(world: World, rng: np.random.Generator, kind: str, k: int) -> pa.Array:
    if kind == "cn_mobile":
        return world.mobiles(rng, k)
    if kind == "cn_resident_id":
        return world.known_resident_ids(rng, k)
    return world.known_usccs(rng, k)


def _scatter(base: pa.Array, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``base`` with the masked rows replaced, in order, by ``values``."""
    return pc.replace_with_mask(base, pa.array(mask), values) if mask.any() else base
