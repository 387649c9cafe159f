"""Protection intervals: an attacker who solves a linear program over the published report cannot pin a
suppressed cell; the audit (``gate/intervals.py``) is the layer that stops it, and refuses when it cannot."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import optimize

from sandbox.domain.gate import Refusal
from sandbox.gate import load_policy
from tests.sandbox.gate.conftest import count, gate, manifest, measure, output, write_frame

D1, D2 = ("a", "b", "c"), ("x", "y", "z")
SCHEMA = "pid string, d1 string, d2 string, amount double"
PROTECTION = "linear-programming audit"


def _rows(sizes: dict[tuple[str, str], int], amount=lambda cell, i: 1000.0 + i) -> list[tuple]:
    return [(f"{d1}{d2}-{i}", d1, d2, amount((d1, d2), i)) for (d1, d2), n in sizes.items() for i in range(n)]


def attacker_interval(
    report: dict, name: str, target: tuple, measure: str, high: float
) -> tuple[float, float]:
    """Written apart from the gate: the least and greatest value of ``measure`` in cell ``target`` that the
    released cells of output ``name`` allow, given its lines, non-negative counts and sums within
    [0, high] per entity. Reads the published report only."""
    out = report["outputs"][name]
    cells = {tuple(None if v == "合计" else v for v in c["key"].values()): c for c in out["cells"]}
    unknown = [k for k, c in cells.items() if c["decision"] == "suppressed"]
    column = {(k, m): i for i, (k, m) in enumerate((k, m) for k in unknown for m in ("people", "amount"))}
    equalities, rhs = [], []
    width = len(out["dimensions"])
    for i in range(width):
        for parent in {k for k in cells if k[i] is None}:
            children = [
                k for k in cells if k[i] is not None and k[:i] + k[i + 1 :] == parent[:i] + parent[i + 1 :]
            ]
            for m in ("people", "amount"):
                row, constant = np.zeros(len(column)), 0.0
                for key, sign in [(c, 1.0) for c in children] + [(parent, -1.0)]:
                    if (key, m) in column:
                        row[column[(key, m)]] += sign
                    else:
                        constant -= sign * cells[key]["values"][m]
                if row.any():
                    equalities.append(row)
                    rhs.append(constant)
    upper = []
    for k in unknown:  # amount <= high * people
        row = np.zeros(len(column))
        row[column[(k, "amount")]], row[column[(k, "people")]] = 1.0, -high
        upper.append(row)
    found = []
    for sense in (1.0, -1.0):
        objective = np.zeros(len(column))
        objective[column[(target, measure)]] = sense
        result = optimize.linprog(objective, A_ub=np.array(upper), b_ub=np.zeros(len(upper)),
                                  A_eq=np.array(equalities) if equalities else None, b_eq=rhs or None,
                                  bounds=[(0, None)] * len(column), method="highs")  # fmt: skip
        found.append(sense * result.fun if result.status == 0 else -sense * math.inf)
    return found[0], found[1]


def _as_released(report: dict, name: str, cells: list, truth: dict) -> dict:
    """The report as it would have been without the audit's extra suppressions: those cells shown."""
    copy = {**report, "outputs": {**report["outputs"]}}
    out = dict(copy["outputs"][name])
    out["cells"] = [
        dict(c, decision="released", values=truth[k]) if (k := tuple(None if v == "合计" else v
                                                          for v in c["key"].values())) in cells else c
        for c in out["cells"]
    ]  # fmt: skip
    copy["outputs"][name] = out
    return copy


def _truth(rows: list[tuple]) -> dict[tuple, dict[str, float]]:
    truth: dict[tuple, dict[str, float]] = {}
    for _, d1, d2, amount in rows:
        for key in ((d1, d2), (d1, None), (None, d2), (None, None)):
            cell = truth.setdefault(key, {"people": 0, "amount": 0.0})
            cell["people"] += 1
            cell["amount"] += amount
    return truth


@pytest.fixture(scope="module")
def small_row(spark, module_dir):
    """Row a holds two small cells (3 and 4 people) beside a large one: line-by-line suppression hides both
    and stops, yet a + b = 7 tells the attacker each is under the threshold."""
    sizes = {("a", "x"): 3, ("a", "y"): 4, ("a", "z"): 40, ("b", "x"): 15, ("b", "y"): 25, ("b", "z"): 30,
             ("c", "x"): 12, ("c", "y"): 18, ("c", "z"): 22}  # fmt: skip
    rows = _rows(sizes)
    write_frame(spark, module_dir / "staging", "small_row", rows, SCHEMA)
    job = manifest(output("small_row", {"d1": D1, "d2": D2},
                          (count(), measure("amount", "sum", "amount", (0, 5000))), totals=True))  # fmt: skip
    return gate(spark, module_dir, job), rows


def test_no_threshold_cell_can_be_pinned_below_the_threshold(small_row):
    run, _ = small_row
    for key in (("a", "x"), ("a", "y")):
        assert run.rules("small_row", key) == {"threshold"}
        low, high = attacker_interval(run.report, "small_row", key, "people", 5000.0)
        assert low <= 9 and high >= 10, (key, low, high)


def test_the_audit_is_the_layer_that_widened_the_interval(small_row):
    """The cells the audit added, shown again, let the same attacker pin (a, x) under the threshold."""
    run, rows = small_row
    added = [
        c.key for c in run.outcome.outputs["small_row"].cells if any(PROTECTION in r.en for r in c.reasons)
    ]
    assert added
    without_audit = _as_released(run.report, "small_row", added, _truth(rows))
    low, high = attacker_interval(without_audit, "small_row", ("a", "x"), "people", 5000.0)
    assert high < 10, (low, high)
    assert "protection_intervals" in run.report["outputs"]["small_row"]["methods"]


def test_a_dominated_sum_keeps_p_percent_either_way(spark, tmp_path):
    """(a, x) is one large contribution and nineteen small ones: its sum must stay uncertain by ±10 %."""
    sizes = {(d1, d2): 20 + 3 * i for i, (d1, d2) in enumerate((d1, d2) for d1 in D1 for d2 in D2)}
    rows = _rows(sizes, lambda cell, i: 4800.0 if (cell, i) == (("a", "x"), 0) else 10.0 + i)
    write_frame(spark, tmp_path / "staging", "dominated", rows, SCHEMA)
    job = manifest(output("dominated", {"d1": D1, "d2": D2},
                          (count(), measure("amount", "sum", "amount", (0, 5000))), totals=True))  # fmt: skip
    run = gate(spark, tmp_path, job)
    assert run.outcome.outputs["dominated"].refusal is None
    assert {"dominance", "p_ratio"} <= run.rules("dominated", ("a", "x"))
    truth = _truth(rows)
    value = truth[("a", "x")]["amount"]
    low, high = attacker_interval(run.report, "dominated", ("a", "x"), "amount", 5000.0)
    assert low <= 0.9 * value and high >= 1.1 * value, (low, value, high)
    added = [
        c.key for c in run.outcome.outputs["dominated"].cells if any(PROTECTION in r.en for r in c.reasons)
    ]
    without_audit = _as_released(run.report, "dominated", added, truth)
    low, high = attacker_interval(without_audit, "dominated", ("a", "x"), "amount", 5000.0)
    assert high < 1.1 * value, (low, value, high)


def test_an_audit_out_of_time_refuses_the_output_and_writes_nothing(spark, small_row, tmp_path):
    _, rows = small_row
    write_frame(spark, tmp_path / "staging", "small_row", rows, SCHEMA)
    job = manifest(output("small_row", {"d1": D1, "d2": D2}, totals=True),
                   output("public_total", {"d1": ("a", "b", "c")}, entity="other"))  # fmt: skip
    write_frame(spark, tmp_path / "staging", "public_total", rows, SCHEMA.replace("pid", "other"))
    policy = dataclasses.replace(load_policy(), protection_max_seconds=0.0)
    run = gate(spark, tmp_path, job, policy=policy)
    refused = run.outcome.outputs["small_row"]
    assert refused.refusal is Refusal.PROTECTION_INTERVAL and "time budget" in refused.refusal_en
    assert not (run.out_dir / "small_row.parquet").exists()
    # a table with nothing suppressed needs no audit and is released
    assert run.outcome.outputs["public_total"].refusal is None
