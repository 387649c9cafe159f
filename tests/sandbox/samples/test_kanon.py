"""k-anonymity over entities, local suppression within budget, l-diversity, hierarchies."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

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
