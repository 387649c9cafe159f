"""Rental housing supply: released counts and sums are the true ones rounded to 5; small cells are withheld."""

from __future__ import annotations

import pandas as pd
import pytest

from sandbox.gate.rounding import round_to_base
from tests.jobs.conftest import POLICY, expected_cells, read, released_as

OUTPUT = "rental_dwellings_by_district"
BANDS = pd.IntervalIndex.from_breaks([0, 60, 90, 120, 144, float("inf")], closed="left")
LABELS = dict(zip(BANDS, ["<60", "60-90", "90-120", "120-144", "144+"], strict=True))


@pytest.fixture(scope="module")
def gated(run_job):
    return run_job("rental_housing_supply")


@pytest.fixture(scope="module")
def truth(jobs_raw) -> dict[tuple, dict]:
    units = read(jobs_raw, "housing_units")
    rented = units[(units["usage"] == "住宅") & units["rental_registered"].fillna(False).astype(bool)]
    rented = rented[rented["floor_area"] > 0]
    rented = rented.assign(area_band=pd.cut(rented["floor_area"], BANDS).map(LABELS).astype(str))
    per_owner = (
        rented.groupby(["owner_id_number", "district_code", "area_band"])
        .agg(dwellings=("floor_area", "size"), floor_area=("floor_area", "mean"))
        .reset_index()
        .assign(dwellings=lambda f: f["dwellings"].astype(float))
    )
    measures = {
        "owners": ("count",),
        "dwellings": ("sum", "dwellings", 0, 3),
        "mean_area": ("mean", "floor_area", 0, 300),
    }
    return expected_cells(per_owner, "owner_id_number", ["district_code", "area_band"], measures)


def test_released_cells_are_true_values_rounded_to_five(gated, truth):
    released = {k: v for k, v in gated.released(OUTPUT).items() if v["owners"]}
    assert released
    for key, values in released.items():
        assert values["owners"] == round_to_base(truth[key]["owners"], 5)
        assert values["dwellings"] == round_to_base(truth[key]["dwellings"], 5)
        assert values["mean_area"] == released_as(truth[key]["mean_area"])


def test_cells_under_the_threshold_are_withheld(gated, truth):
    decisions = gated.decisions(OUTPUT)
    small = [key for key, values in truth.items() if values["owners"] < POLICY.threshold]
    assert small and all(decisions[key] for key in small)
