"""Elderly and disability hotspots: released cells and margins are the true ones; small communities are withheld."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.jobs.conftest import AS_OF, POLICY, expected_cells, read, released_as

SHARES = {"people": ("count",), "disabled_share": ("mean", "is_disabled", 0, 1)}


@pytest.fixture(scope="module")
def gated(run_job):
    return run_job("elderly_care_hotspots")


@pytest.fixture(scope="module")
def elderly(jobs_raw) -> pd.DataFrame:
    """Residents aged 60+ on the reference date, by calendar age, with their disability flags."""
    people = read(jobs_raw, "hukou_population").dropna(subset=["birth_date"])
    birth = pd.to_datetime(people["birth_date"])
    before_birthday = (birth.dt.month > AS_OF.month) | (
        (birth.dt.month == AS_OF.month) & (birth.dt.day > AS_OF.day)
    )
    people = people.assign(age=AS_OF.year - birth.dt.year - before_birthday.astype(int))
    people = people[people["age"] >= 60]
    levels = read(jobs_raw, "disability_records").groupby("id_number")["disability_level"].min()
    best = people["id_number"].map(levels)
    return people.assign(
        age_band=pd.cut(people["age"], [59, 69, 79, 200], labels=["60-69", "70-79", "80+"]).astype(str),
        is_disabled=best.notna().astype(float),
        is_severe=(best <= 2).astype(float),
    )


def test_cells_and_margins_by_district_and_age_band(gated, elderly):
    measures = {**SHARES, "severe_share": ("mean", "is_severe", 0, 1)}
    truth = expected_cells(elderly, "id_number", ["district_code", "age_band"], measures, totals=True)
    cells = {c.key: c for c in gated.outcome.outputs["elderly_by_district"].cells}
    assert cells[(None, None)].values["people"] == len(set(elderly["id_number"]))  # the county total
    released = [c for c in cells.values() if c.values]
    assert any(c.is_margin for c in released) and any(not c.is_margin for c in released)
    for cell in released:
        expected = truth.get(cell.key, {"people": 0, "disabled_share": None, "severe_share": None})
        assert cell.values["people"] == expected["people"], cell.key
        for share in ("disabled_share", "severe_share"):
            if expected["people"]:
                assert cell.values[share] == released_as(expected[share]), (cell.key, share)


def test_small_communities_are_withheld_and_the_rest_true(gated, elderly):
    oldest = elderly[elderly["age"] >= 80]
    truth = expected_cells(oldest, "id_number", ["community_code"], SHARES)
    decisions = gated.decisions("oldest_old_by_community")
    released = gated.released("oldest_old_by_community")
    small = [key for key, values in truth.items() if values["people"] < POLICY.threshold]
    # a code outside the code table is dropped by the gate: it has no cell to decide
    in_domain = [key for key in small if key in decisions]
    assert in_domain and all("threshold" in decisions[key] for key in in_domain)
    assert released and not set(small) & set(released)
    for key, values in released.items():
        assert values["people"] == truth[key]["people"]
        assert values["disabled_share"] == released_as(truth[key]["disabled_share"])
