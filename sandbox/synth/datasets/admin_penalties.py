"""行政处罚信息 (市发改局 信用平台, 双公示): penalty decisions against firms by several authorities."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.domain.catalog import DataGrade, Dataset, UpdateCycle
from sandbox.synth import defects as d
from sandbox.synth import identifiers as ids
from sandbox.synth.datasets.common import PROVISION, negative
from sandbox.synth.freetext import remarks
from sandbox.synth.strings import join, number, take
from sandbox.synth.table import Table, col
from sandbox.synth.timeline import AS_OF, between
from sandbox.synth.world import World

DATASET = Dataset(
    id="admin_penalties",
    title="行政处罚信息",
    provider="fagai",
    update_cycle=UpdateCycle.WEEKLY,
    provision=PROVISION,
    keys=("penalty_id",),
    entity="uscc",
    grade=DataGrade.GENERAL,
    columns=(
        col("penalty_id", "行政处罚决定书文号", "string", "attribute", pii="record_id", required=True),
        col("uscc", "统一社会信用代码", "string", "direct_id", pii="cn_uscc", required=True,
            references="enterprises.uscc"),
        col("decision_date", "处罚决定日期", "date", "attribute", required=True),
        col("penalty_type", "处罚类别", "string", "attribute", code_table="penalty_type", required=True),
        col("amount", "罚没金额（元）", "double", "sensitive", value_range=(0, 100_000_000), required=True),
        col("authority", "处罚机关", "string", "attribute", required=True),
        col("reason", "违法事实及处罚依据", "string", "free_text", required=True),
    ),
)  # fmt: skip
PENALTY_TYPES = ("警告", "罚款", "没收违法所得", "责令停产停业", "暂扣许可证件", "吊销许可证件")
CODE_TABLES = {"penalty_type": PENALTY_TYPES}
DEFECTS = (
    d.MissingRequired(("authority", "decision_date")),
    d.DuplicateKey(),
    d.OrphanReference(("uscc",)),
    d.OutOfRange("amount", negative),
    d.CodeNotInTable(
        "penalty_type", lambda rng, old: np.array(["罚金", "其他"])[rng.integers(0, 2, len(old))]
    ),
)
_AUTHORITIES = (
    ("云泽市市场监督管理局", "云市监罚"),
    ("云泽市生态环境局", "云环罚"),
    ("云泽市应急管理局", "云应急罚"),
    ("云泽市城市管理执法局", "云城管罚"),
    ("云泽市交通运输局", "云交罚"),
)
# illegal act, statute, article, index of the authority that enforces it
_FACTS = (
    ("销售不合格产品", "中华人民共和国产品质量法", 49, 0),
    ("未按规定公示年度报告", "企业信息公示暂行条例", 18, 0),
    ("发布虚假广告", "中华人民共和国广告法", 55, 0),
    ("无证经营食品", "中华人民共和国食品安全法", 122, 0),
    ("超标排放大气污染物", "中华人民共和国大气污染防治法", 99, 1),
    ("未按规定开展安全生产教育培训", "中华人民共和国安全生产法", 97, 2),
    ("占道经营", "城市市容和环境卫生管理条例", 36, 3),
    ("超限运输", "公路安全保护条例", 64, 4),
)
_TYPE_SHARES = (0.25, 0.55, 0.08, 0.05, 0.04, 0.03)


def build(world: World) -> Table:
    rng = world.rng(DATASET.id)
    firms = world.firms
    n = max(20, round(len(firms) * 0.1))
    candidates = np.flatnonzero(firms.referenceable)
    weight = np.where(firms.kind[candidates] == "91", 2.0, 1.0)
    firm = candidates[rng.choice(len(candidates), n, p=weight / weight.sum())]
    decision = between(
        rng, np.maximum(firms.established[firm], np.datetime64("2016-01-01")), np.full(n, AS_OF - 1)
    )
    kind = rng.choice(len(PENALTY_TYPES), n, p=_TYPE_SHARES)
    fined = np.isin(kind, (1, 2))
    amount = np.where(fined, np.round(np.clip(rng.lognormal(np.log(5000), 1.3, n), 100, 5e7), 2), 0.0)
    fact = rng.integers(0, len(_FACTS), n)
    authority = np.array([f[3] for f in _FACTS])[fact]
    base = join(
        "当事人", take([f[0] for f in _FACTS], fact), "，违反了《", take([f[1] for f in _FACTS], fact),
        "》第", number(np.array([f[2] for f in _FACTS])[fact]), "条规定",
    )  # fmt: skip
    text, planted = remarks(
        world, rng, "reason", n, ("",), 0.0, {"cn_mobile": 0.4, "cn_resident_id": 0.4, "cn_uscc": 0.2}
    )
    reason = join(base, pc.coalesce(join("；", text), pa.scalar("", pa.string())))
    return Table(
        {
            "penalty_id": _decision_numbers(rng, authority, decision),
            "uscc": firms.uscc.take(pa.array(firm)),
            "decision_date": pa.array(decision),
            "penalty_type": take(PENALTY_TYPES, kind),
            "amount": pa.array(amount),
            "authority": take([a[0] for a in _AUTHORITIES], authority),
            "reason": reason,
        },
        [planted],
    )


def _decision_numbers(rng: np.random.Generator, authority: np.ndarray, decision: np.ndarray) -> pa.Array:
    """云市监罚〔2024〕37号: numbered per authority and year."""
    year = decision.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = ids.serials(rng, authority * 10_000 + year)
    return join(take([a[1] for a in _AUTHORITIES], authority), "〔", number(year), "〕", number(serial), "号")
