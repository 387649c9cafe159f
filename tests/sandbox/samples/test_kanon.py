"""k-anonymity over entities, local suppression within budget, l-diversity, hierarchies."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.samples.hierarchies import Hierarchy
from sandbox.samples.kanon import k_anonymize, l_diversity, measure_k

COMMUNITY = Hierarchy("division12", ("community", "town", "district", "city"))
DATE = Hierarchy("date", ("day", "month", "year", "5 years", "10 years", "20 years", "40 years"))
GENDER = Hierarchy("category", ("exact",))


def people(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    communities = [f"4299020{t:02d}{c:03d}" for t in range(1, 4) for c in range(1, 6)]
    entity = rng.integers(0, n // 2, n)  # about two rows per person
    return pa.table({
        "__entity": pa.array([f"p{e}" for e in entity]),
        "community_code": pa.array([communities[e % len(communities)] for e in entity]),
        "birth_date": pa.array([date(1940 + e % 60, 1 + e % 12, 1 + e % 28) for e in entity]),
        "gender": pa.array(["1" if e % 2 else "2" for e in entity]),
        "self_care": pa.array(rng.choice(["自理", "半失能", "失能"], n)),
    })  # fmt: skip


def test_k_holds_counted_in_entities():
    table = people(4000)
    hierarchies = {"community_code": COMMUNITY, "birth_date": DATE, "gender": GENDER}
    out, result = k_anonymize(
        table, hierarchies, k=5, entity="__entity", max_suppression=0.05, start={"birth_date": 1}
    )
    assert result.k >= 5 and measure_k(out, list(hierarchies), "__entity") >= 5
    assert out.num_rows == table.num_rows
    assert result.levels["birth_date"] >= 1 and result.suppressed_entities <= 0.05 * 2000
    assert l_diversity(out, list(hierarchies), ["self_care"])["self_care"] >= 1


def test_rows_of_one_person_do_not_make_a_class():
    table = pa.table({"__entity": ["a"] * 6 + ["b"], "gender": ["1"] * 6 + ["2"]})
    out, result = k_anonymize(table, {"gender": GENDER}, k=2, entity="__entity", max_suppression=0.0)
    assert result.k >= 2 and out.column("gender").null_count == 7


def test_too_few_entities_leave_nothing():
    table = pa.table({"__entity": ["a", "b"], "gender": ["1", "2"]})
    out, result = k_anonymize(table, {"gender": GENDER}, k=5, entity="__entity", max_suppression=0.05)
    assert out.num_rows == 0 and result.dropped_rows == 2


def test_hierarchies_keep_types_and_formats():
    assert COMMUNITY.apply(pa.array(["429902005003"]), 1).to_pylist() == ["429902005000"]
    assert COMMUNITY.apply(pa.array(["429902005003"]), 2).to_pylist() == ["429902000000"]
    assert DATE.apply(pa.array([date(1956, 7, 18)]), 3).to_pylist() == [date(1955, 1, 1)]
    assert COMMUNITY.apply(pa.array(["429902005003"]), COMMUNITY.top).null_count == 1


def test_a_tiny_sample_keeps_birth_dates_in_coarse_bands_rather_than_none():
    """60 people, k=5, a budget under k: no local suppression possible, so generalize; the date survives."""
    rng = np.random.default_rng(3)
    years, months = rng.integers(1941, 2025, 60), rng.integers(1, 13, 60)
    births = [date(int(y), int(m), 1) for y, m in zip(years, months, strict=True)]
    table = pa.table({
        "__entity": [f"p{i}" for i in range(60)],
        "gender": ["1" if i % 2 else "2" for i in range(60)],
        "birth_date": pa.array(births, pa.date32()),
    })  # fmt: skip
    hierarchies = {"gender": GENDER, "birth_date": DATE}
    out, result = k_anonymize(
        table, hierarchies, k=5, entity="__entity", max_suppression=0.05, start={"birth_date": 1}
    )
    assert measure_k(out, list(hierarchies), "__entity") >= 5 and result.suppressed_entities == 0
    kept = out.column("birth_date")
    assert kept.type == pa.date32() and kept.null_count == 0 and len(kept.unique()) > 1
    assert all(d.month == 1 and d.day == 1 for d in kept.to_pylist())


ADDRESS = Hierarchy("address", ("community", "town", "district"))
BAND = Hierarchy("band", ("exact", "band of 5", "band of 10", "band of 20"))


def lattice_table(n: int, seed: int, *, rows_per_entity: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    entity = rng.integers(0, max(n // rows_per_entity, 1), n)
    towns = [
        "湖北省云泽市云泽区南台街道",
        "湖北省云泽市湖滨区东峰街道",
        "湖北省云泽市松溪县金洲镇",
        "湖北省云泽市",
    ]
    addresses = [f"{towns[e % 4]}{'盛台金坝明桥'[e % 3]}{'社区' if e % 2 else '村'}" for e in entity]
    return pa.table({
        "__entity": pa.array([f"p{e}" for e in entity]),
        "community_code": pa.array([f"4299{e % 3:02d}{e % 5:03d}{e % 7:03d}" for e in entity]),
        "birth_date": pa.array([date(1930 + int(e * 7919) % 90, 1 + e % 12, 1 + e % 28) for e in entity]),
        "gender": pa.array([None if e % 11 == 0 else str(1 + e % 2) for e in entity]),
        "address": pa.array([None if e % 13 == 0 else a for e, a in zip(entity, addresses, strict=True)]),
        "age": pa.array(rng.integers(0, 100, n)),
    })  # fmt: skip


def test_pruned_search_picks_the_node_an_exhaustive_search_picks():
    """Bounds, rejected-node coverage and the early stop change how many nodes are counted, never the result."""
    hierarchies = {"community_code": COMMUNITY, "birth_date": DATE, "gender": GENDER, "address": ADDRESS,
                   "age": BAND}  # fmt: skip
    for seed, (n, per, k, share) in enumerate([(300, 1, 3, 0.05), (500, 2, 5, 0.05), (800, 1, 5, 0.0),
                                               (400, 3, 2, 0.02), (60, 1, 5, 0.05)]):  # fmt: skip
        table = lattice_table(n, seed, rows_per_entity=per)
        start = {"birth_date": 1} if seed % 2 else {}
        pruned, fast = k_anonymize(
            table, hierarchies, k=k, entity="__entity", max_suppression=share, start=start
        )
        full, slow = k_anonymize(
            table, hierarchies, k=k, entity="__entity", max_suppression=share, start=start, exhaustive=True
        )
        assert fast.levels == slow.levels, seed
        assert pruned.equals(full) and measure_k(pruned, list(hierarchies), "__entity") >= k
        assert fast.measured_nodes < slow.measured_nodes


def test_a_non_nested_hierarchy_is_searched_exhaustively(monkeypatch):
    """Pruning needs each level's classes to be unions of the level below's; without that, count every node."""
    from sandbox.samples import hierarchies as h

    # level 1 keeps bit 0 and level 2 bit 1: level 2 is no coarsening of level 1
    def scrambled(values, level, hierarchy):
        bit = pa.scalar(2 if level == 2 else 1, pa.int64())
        return pc.cast(pc.bit_wise_and(pc.cast(values, pa.int64()), bit), values.type)

    monkeypatch.setitem(h._APPLY, "band", scrambled)
    table = pa.table({"__entity": [f"p{i}" for i in range(40)], "age": list(range(40))})
    _, result = k_anonymize(table, {"age": BAND}, k=5, entity="__entity", max_suppression=0.0)
    assert result.measured_nodes == BAND.top + 1 and result.k >= 5


def test_address_levels_are_nested():
    """An address naming no town keeps its district at town level (not null below a district), and 社区 is no district."""
    values = pa.array(["湖北省云泽市云泽区南台街道盛台社区", "湖北省云泽市云泽区盛台社区", "湖北省云泽市南台街道盛台社区",
                       "盛台社区", None])  # fmt: skip
    assert ADDRESS.apply(values, 1).to_pylist() == [
        "湖北省云泽市云泽区南台街道", "湖北省云泽市云泽区", "湖北省云泽市南台街道", None, None,
    ]  # fmt: skip
    assert ADDRESS.apply(values, 2).to_pylist() == [
        "湖北省云泽市云泽区",
        "湖北省云泽市云泽区",
        None,
        None,
        None,
    ]
