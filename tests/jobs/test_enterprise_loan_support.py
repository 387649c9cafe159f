"""Loan-support statistics: the released cells are the true ones, and dominance bites on capital."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.jobs.conftest import POLICY, contributions, read, released_as

OUTPUT = "credit_by_industry_district"
DIMS = ["industry_code", "district_code"]


@pytest.fixture(scope="module")
def gated(run_job):
    return run_job("enterprise_loan_support")


@pytest.fixture(scope="module")
def truth(jobs_raw) -> pd.DataFrame:
    """Per enterprise and cell: penalty flag and registered capital, bounded as the manifest declares."""
    enterprises = read(jobs_raw, "enterprises")
    operating = enterprises[enterprises["status"].isin(["存续", "在业"])]
    penalised = set(read(jobs_raw, "admin_penalties")["uscc"])
    frame = operating.assign(
        has_penalty=operating["uscc"].isin(penalised).astype(float), capital=operating["registered_capital"]
    )
    return contributions(frame, "uscc", DIMS, {"has_penalty": (0, 1), "capital": (0, 1_000_000)})


def test_released_cells_equal_an_independent_computation(gated, truth):
    released = gated.released(OUTPUT)
    assert released, "nothing released on the county: the comparison would be empty"
    cells = truth.groupby(DIMS)
    for key, values in released.items():
        cell = cells.get_group(key)
        assert values["enterprises"] == cell["uscc"].nunique()
        assert values["penalty_rate"] == released_as(cell["has_penalty"].mean())
        assert values["median_capital"] == released_as(cell["capital"].median())
        assert values["total_capital"] == released_as(cell["capital"].sum())


def _withheld(cell: pd.DataFrame) -> list[str]:
    """Why the policy must withhold a cell, computed here from the entities' own contributions."""
    if cell["uscc"].nunique() < POLICY.threshold:
        return ["threshold"]
    why = []
    # the measures under dominance: penalty_rate (a mean) and total_capital (a sum)
    for column in ("has_penalty", "capital"):
        values = cell[column].dropna().abs().sort_values(ascending=False).tolist()
        total = sum(values)
        if len(values) < POLICY.threshold:
            why.append(f"{column}: few contributors")
        elif total > 0 and sum(values[: POLICY.dominance.n]) >= POLICY.dominance.k * total:
            why.append(f"{column}: dominance")
        elif values and values[0] > 0 and total - sum(values[:2]) < POLICY.p_ratio * values[0]:
            why.append(f"{column}: p-ratio")
    return why


def test_no_released_cell_breaks_threshold_dominance_or_p_ratio(gated, truth):
    released = gated.released(OUTPUT)
    withheld = {key: _withheld(cell) for key, cell in truth.groupby(DIMS)}
    for key, why in withheld.items():
        if why:
            assert key not in released, (key, why)
    assert any(why for why in withheld.values()) and any(not why for why in withheld.values())


def test_dominance_bites_on_registered_capital(gated):
    """Heavy-tailed capital: some cells with enough enterprises are withheld because one or two dominate."""
    bitten = [key for key, rules in gated.decisions(OUTPUT).items() if rules & {"dominance", "p_ratio"}]
    assert bitten
    assert all(not math.isnan(v) for values in gated.released(OUTPUT).values() for v in values.values())
