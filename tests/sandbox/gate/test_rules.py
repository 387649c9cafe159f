"""Primary rules at their boundaries, contribution bounding, zero cells, domains, exact aggregates — on real Spark."""

from __future__ import annotations

import math

import pytest

from sandbox.gate import load_policy
from tests.sandbox.gate.conftest import count, gate, manifest, measure, output, policy_file, write_frame

SCHEMA = "pid string, case string, amount double"
CASES = ("t10", "t9", "dom90", "dom89", "nullm", "clip", "empty")


def _people(case: str, amounts: list[float | None]) -> list[tuple]:
    return [(f"{case}-{i}", case, a) for i, a in enumerate(amounts)]


def _rows() -> list[tuple]:
    rows = _people("t10", [10.0] * 10) + _people("t9", [10.0] * 9)
    rows += _people("dom90", [45.0, 45.0] + [1.25] * 8) + _people("dom89", [44.5, 44.5] + [1.375] * 8)
    rows += _people("nullm", [10.0] * 9 + [None])
    rows += _people("clip", [300.0] * 10) * 2  # every entity twice: summed to 600, clipped to 500
    rows += [
        ("x-1", "bogus", 1.0),
        ("x-2", "bogus", 1.0),
        ("x-3", None, 1.0),
        (None, "t10", 5.0),
        (None, "t9", 5.0),
    ]
    return rows


@pytest.fixture(scope="module")
def ruled(spark, module_dir):
    amount = measure("amount", "sum", "amount", (0, 500))
    write_frame(spark, module_dir / "staging", "cases", _rows(), SCHEMA)
    # another privacy unit's column, so the two outputs are not taken for the same people (see suppression)
    write_frame(spark, module_dir / "staging", "cases_public", _rows(), SCHEMA.replace("pid", "person"))
    stats_rows = [(f"g-{v}", "g", float(v)) for v in range(1, 12)] + [
        (f"h-{v}", "h", float(v)) for v in range(1, 11)
    ]
    write_frame(spark, module_dir / "staging", "stats", stats_rows, "pid string, grp string, v double")
    job = manifest(
        output("cases", {"case": CASES}, (count(), amount)),
        output("cases_public", {"case": CASES}, (count(), amount), public=True, entity="person"),
        output("stats", {"grp": ("g", "h")}, (count(), measure("med", "median", "v", (0, 100)),
               measure("sd", "std", "v", (0, 100)), measure("avg", "mean", "v", (0, 100)))),
    )  # fmt: skip
    return gate(spark, module_dir, job)


def test_threshold_releases_ten_and_suppresses_nine(ruled):
    assert ruled.released("cases", ("t10",))
    assert ruled.cell("cases", ("t10",)).values == {"people": 10, "amount": 100.0}
    assert ruled.rules("cases", ("t9",)) == {"threshold"}


def test_dominance_fires_at_exactly_ninety_percent(ruled):
    assert ruled.rules("cases", ("dom90",)) == {"dominance"}
    assert ruled.released("cases", ("dom89",))


def test_measure_with_too_few_contributors_suppresses_the_cell(ruled):
    cell = ruled.cell("cases", ("nullm",))
    assert {r.rule.value for r in cell.reasons} == {"threshold"}
    assert "amount" in cell.reasons[0].en


def test_contributions_are_summed_per_entity_then_clipped(ruled):
    assert ruled.cell("cases", ("clip",)).values == {"people": 10, "amount": 5000.0}


def test_zero_cell_suppressed_unless_domain_is_public(ruled):
    assert ruled.rules("cases", ("empty",)) == {"threshold"}
    public = ruled.cell("cases_public", ("empty",))
    assert public.values == {"people": 0, "amount": 0}
    assert ruled.rules("cases_public", ("t9",)) == {"threshold"}


def test_rows_outside_the_domain_or_without_entity_are_dropped_and_counted(ruled):
    rows = ruled.report["outputs"]["cases"]["rows"]
    assert rows == {"read": 74, "dropped_without_entity": 2, "dropped_outside_domain": {"case": 3}}


def test_median_is_exact_and_std_is_the_sample_std(ruled):
    """Of 1..10 the median 5.5 is nobody's value and is released; of 1..11 it is person 6's, withheld."""
    assert ruled.rules("stats", ("g",)) == {"median"}
    even = ruled.cell("stats", ("h",)).values
    assert even["med"] == 5.5 and math.isclose(even["sd"], math.sqrt(55 / 6), abs_tol=1e-6)
    assert even["avg"] == 5.5 and even["people"] == 10
    assert "exact" in ruled.report["outputs"]["stats"]["methods"]["median"]


def test_p_ratio_at_its_boundary(spark, tmp_path):
    """Under the defaults the nk rule implies the p-ratio; a stricter p = 0.5 shows it on its own."""
    rows = _people("p50", [40.0, 10.0] + [2.5] * 8) + _people("p49", [40.0, 10.0] + [2.4375] * 8)
    write_frame(spark, tmp_path / "staging", "pr", rows, SCHEMA)
    policy = load_policy(policy_file(tmp_path, "p_ratio: 0.5\n"))
    run = gate(spark, tmp_path, manifest(output("pr", {"case": ("p50", "p49")}, (measure("amount", "sum", "amount"),))),
               policy=policy)  # fmt: skip
    assert run.released("pr", ("p50",))
    assert run.rules("pr", ("p49",)) == {"p_ratio"}


def test_job_threshold_raises_the_bar(spark, tmp_path):
    write_frame(spark, tmp_path / "staging", "cases", _rows(), SCHEMA)
    run = gate(spark, tmp_path, manifest(output("cases", {"case": ("t10",)}, threshold=11)))
    assert run.rules("cases", ("t10",)) == {"threshold"}


def test_an_empty_frame_gives_empty_cells_not_a_refusal(spark, tmp_path):
    """Spark optimises an empty input away and reports no metrics; the gate counts them itself."""
    write_frame(spark, tmp_path / "staging", "nobody", [], SCHEMA)
    run = gate(spark, tmp_path, manifest(output("nobody", {"case": ("t10", "t9")}, totals=True)))
    assert run.outcome.outputs["nobody"].refusal is None
    assert {r.rule.value for c in run.outcome.outputs["nobody"].cells for r in c.reasons} == {"threshold"}
    assert run.report["outputs"]["nobody"]["rows"]["read"] == 0


@pytest.mark.parametrize(
    "largest, dominated",
    [("0.6", True), ("0.599999999999999", False), ("0.600000000000001", True)],
    ids=["exact-tie", "1e-15-below", "1e-15-above"],
)
def test_dominance_at_the_boundary_is_exact_and_a_tie_is_suppressed(spark, tmp_path, largest, dominated):
    """The top two (largest and 0.3) against ten people at 0.01: at 0.6 they are exactly 90 % of the
    total. Summed as doubles, 0.3 + 0.6 falls short of 0.9 in binary and the cell would be released in
    every summation order; summed exactly, the tie is found and suppressed, and 1e-15 either side of
    the boundary decides as it should."""
    rows = [("top1", "a", float(largest)), ("top2", "a", 0.3)] + [(f"p{i}", "a", 0.01) for i in range(10)]
    write_frame(spark, tmp_path / "staging", "o", rows, "pid string, d string, amount double")
    spec = output("o", {"d": ("a",)}, (measure("total", "sum", "amount", (0, 1)),), public=True)
    run = gate(spark, tmp_path, manifest(spec))
    assert ("dominance" in run.rules("o", ("a",))) is dominated
    assert run.released("o", ("a",)) is not dominated


def test_a_share_of_everyone_or_no_one_is_suppressed_as_a_group_attribute(spark, tmp_path):
    """The attack: a share of 100 % (or 0 %) over twelve people tells each of them they have (or lack)
    the attribute, though no single person was singled out; the layer is the group-attribute rule."""
    rows = [(f"all-{i}", "all", 1.0) for i in range(12)] + [(f"none-{i}", "none", 0.0) for i in range(12)]
    rows += [(f"mixed-{i}", "mixed", float(i % 2)) for i in range(12)]
    write_frame(spark, tmp_path / "staging", "o", rows, "pid string, d string, flag double")
    spec = output("o", {"d": ("all", "none", "mixed")}, (count(), measure("share", "mean", "flag", (0, 1))),
                  public=True)  # fmt: skip
    run = gate(spark, tmp_path, manifest(spec))
    assert run.rules("o", ("all",)) == {"group_attribute"} and run.rules("o", ("none",)) == {
        "group_attribute"
    }
    assert run.released("o", ("mixed",))
    assert run.report["policy"]["group_attribute"] is True  # the report shows the rule that was in force


def test_a_median_that_is_one_persons_value_is_withheld(spark, tmp_path):
    """The attack: the median of an odd-sized cell is exactly one person's value. The median rule holds
    it back, unless that value is common (held by at least the threshold's number of entities)."""
    odd = [(f"odd-{i}", "odd", float(100 + i)) for i in range(11)]  # distinct: the median is person 5's value
    even = [(f"even-{i}", "even", float(100 + i)) for i in range(12)]  # 105.5: nobody's value
    common = [(f"common-{i}", "common", 500.0) for i in range(10)] + [
        (f"common-x{i}", "common", 9.0) for i in range(3)
    ]
    write_frame(spark, tmp_path / "staging", "o", odd + even + common, "pid string, d string, capital double")
    spec = output("o", {"d": ("odd", "even", "common")}, (count(), measure("mid", "median", "capital", (0, 1000))),
                  public=True)  # fmt: skip
    run = gate(spark, tmp_path, manifest(spec))
    assert run.rules("o", ("odd",)) == {"median"}
    assert run.released("o", ("even",)) and run.cell("o", ("even",)).values["mid"] == 105.5
    assert run.released("o", ("common",)) and run.cell("o", ("common",)).values["mid"] == 500.0
