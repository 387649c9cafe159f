"""Secondary suppression, linked tables and differencing, checked by an attacker who reads only the report;
and the report and tables never carry a suppressed value."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.sandbox.gate.conftest import count, gate, manifest, measure, output, write_frame

D1, D2 = ("a", "b", "c"), ("x", "y", "z")
SIZES = {("a", "x"): 20, ("a", "y"): 21, ("a", "z"): 3, ("b", "x"): 15, ("b", "y"): 25, ("b", "z"): 30,
         ("c", "x"): 12, ("c", "y"): 18, ("c", "z"): 22}  # fmt: skip
SCHEMA = "pid string, d1 string, d2 string, amount double"


def _grid_rows() -> list[tuple]:
    rows = []
    for n, ((d1, d2), size) in enumerate(SIZES.items()):
        rows += [(f"{d1}{d2}-{i}", d1, d2, 1000.0 + 7.1234 * n + 0.5 * i) for i in range(size)]
    return rows


def _truth(rows: list[tuple], dims: tuple[str, ...], all_dims=("d1", "d2")) -> dict[tuple, dict[str, float]]:
    """Ground truth per cell (margins as None), from the rows the test wrote."""
    truth: dict[tuple, dict[str, float]] = {}
    for row in rows:
        values = dict(zip(all_dims, row[1:3], strict=True))
        full = tuple(values[d] for d in dims)
        for mask in itertools.product((False, True), repeat=len(dims)):
            key = tuple(None if m else v for v, m in zip(full, mask, strict=True))
            cell = truth.setdefault(key, {"people": 0, "amount": 0.0})
            cell["people"] += 1
            cell["amount"] += row[3]
    return truth


def attack(report: dict, *, entity_outputs: list[str], known_extra: dict | None = None) -> dict[tuple, dict]:
    """Recover suppressed cells' entity counts by subtraction along every line any published table offers.

    Reads the published report only (plus ``known_extra``: values the attacker is handed, for the
    sanity check). Returns every cell of ``entity_outputs`` it could compute, keyed (output, key).
    """
    known: dict[tuple, dict] = dict(known_extra or {})
    cells_of: dict[str, dict[tuple, dict]] = {}
    for name in entity_outputs:
        spec = report["outputs"][name]
        cells_of[name] = {}
        for cell in spec["cells"]:
            key = tuple(None if v == "合计" else v for v in cell["key"].values())
            cells_of[name][key] = cell
            if cell["decision"] == "released":
                known[(name, key)] = cell["values"]
    canonical = {}
    for name, cells in cells_of.items():
        dims = report["outputs"][name]["dimensions"]
        for key in cells:
            canonical.setdefault(
                frozenset((d, v) for d, v in zip(dims, key, strict=True) if v is not None), []
            ).append((name, key))
    lines = []
    for name, cells in cells_of.items():
        dims = report["outputs"][name]["dimensions"]
        for i in range(len(dims)):
            parents = {k[:i] + (None,) + k[i + 1 :] for k in cells}
            for parent in parents:
                children = [
                    (name, k) for k in cells if k[:i] + (None,) + k[i + 1 :] == parent and k[i] is not None
                ]
                total_key = frozenset((d, v) for d, v in zip(dims, parent, strict=True) if v is not None)
                for total in canonical.get(total_key, []):
                    lines.append((children, total))
    changed = True
    while changed:
        changed = False
        for children, total in lines:
            unknown = [c for c in [*children, total] if c not in known]
            if len(unknown) != 1:
                continue
            (target,) = unknown
            if target == total:
                known[target] = {"people": sum(known[c]["people"] for c in children)}
            else:
                known[target] = {
                    "people": known[total]["people"]
                    - sum(known[c]["people"] for c in children if c != target)
                }
            changed = True
    return known


@pytest.fixture(scope="module")
def grid(spark, module_dir):
    rows = _grid_rows()
    write_frame(spark, module_dir / "staging", "grid", rows, SCHEMA)
    job = manifest(output("grid", {"d1": D1, "d2": D2}, (count(), measure("amount", "sum", "amount", (0, 5000))),
                          totals=True))  # fmt: skip
    return gate(spark, module_dir, job), rows


def test_primary_and_secondary_suppression_on_a_table_with_margins(grid):
    run, _ = grid
    assert run.rules("grid", ("a", "z")) == {"threshold"}
    secondary = [
        c.key for c in run.outcome.outputs["grid"].cells if {r.rule.value for r in c.reasons} == {"secondary"}
    ]
    assert len(secondary) >= 3  # one more in a's row, one more in z's column, and one to close the rectangle
    assert all(run.released("grid", k) for k in [(None, None), ("a", None), (None, "z")])


def test_attacker_cannot_recompute_any_suppressed_cell(grid):
    run, rows = grid
    suppressed = {("grid", c.key) for c in run.outcome.outputs["grid"].suppressed}
    recovered = attack(run.report, entity_outputs=["grid"])
    assert suppressed and not suppressed & set(recovered)
    # the attacker is real: handed the cells suppressed only for protection, it recovers the primary one
    truth = _truth(rows, ("d1", "d2"))
    handed = {("grid", k): {"people": truth[k]["people"]} for (_, k) in suppressed if k != ("a", "z")}
    assert (
        attack(run.report, entity_outputs=["grid"], known_extra=handed)[("grid", ("a", "z"))]["people"] == 3
    )


def test_report_and_tables_never_hold_a_suppressed_value(grid):
    run, rows = grid
    truth = _truth(rows, ("d1", "d2"))
    texts = [
        p.read_text(encoding="utf-8") for p in run.out_dir.iterdir() if p.suffix in (".json", ".md", ".csv")
    ]
    for cell in run.outcome.outputs["grid"].suppressed:
        amount = truth[cell.key]["amount"]
        for shown in {repr(amount), f"{amount:g}", f"{amount:.2f}", f"{amount:.1f}", json.dumps(amount)}:
            assert not any(shown in text for text in texts), (cell.key, shown)
    import pyarrow.parquet as pq

    table = pq.read_table(run.out_dir / "grid.parquet").to_pylist()
    hidden = [r for r in table if r["decision"] == "suppressed"]
    assert hidden and all(r["people"] is None and r["amount"] is None for r in hidden)
    report_cells = run.report["outputs"]["grid"]["cells"]
    assert all("values" not in c for c in report_cells if c["decision"] == "suppressed")
    summary = run.report["outputs"]["grid"]["summary"]
    assert summary["cells"] == 16 and summary["released"] + summary["suppressed"] == 16


def test_linked_tables_of_one_job_are_protected_together(spark, tmp_path):
    """A coarser table (by d1) is the total of a finer one (d1 × d2): subtraction across tables is blocked."""
    rows = _grid_rows()
    for name in ("by_d1", "by_d1_d2"):
        write_frame(spark, tmp_path / "staging", name, rows, SCHEMA)
    job = manifest(output("by_d1", {"d1": D1}), output("by_d1_d2", {"d1": D1, "d2": D2}))
    run = gate(spark, tmp_path, job)
    assert run.released("by_d1", ("a",))
    assert run.rules("by_d1_d2", ("a", "z")) == {"threshold"}
    assert "by_d1" in next(
        r.en for r in run.cell("by_d1_d2", ("a", "x")).reasons + run.cell("by_d1_d2", ("a", "y")).reasons
    )
    recovered = attack(run.report, entity_outputs=["by_d1", "by_d1_d2"])
    assert not {("by_d1_d2", c.key) for c in run.outcome.outputs["by_d1_d2"].suppressed} & set(recovered)


def test_a_cell_of_another_output_with_the_same_people_is_suppressed_along(spark, tmp_path):
    """``sums`` hides cell a (one dominant contributor); ``counts`` has the same 20 people in a: it goes too."""
    rows = [("top", "a", "x", 4000.0)] + [(f"a{i}", "a", "x", 1.0) for i in range(19)]
    rows += [(f"b{i}", "b", "x", 1.0) for i in range(15)]
    for name in ("counts", "sums"):
        write_frame(spark, tmp_path / "staging", name, rows, SCHEMA)
    job = manifest(output("counts", {"d1": ("a", "b")}),
                   output("sums", {"d1": ("a", "b")}, (count(), measure("amount", "sum", "amount", (0, 5000)))))  # fmt: skip
    run = gate(spark, tmp_path, job)
    assert run.rules("sums", ("a",)) == {"dominance", "p_ratio"}
    assert run.rules("counts", ("a",)) == {"secondary"}
    assert "sums" in run.cell("counts", ("a",)).reasons[0].en
    assert run.released("counts", ("b",)) and run.released("sums", ("b",))


def test_differencing_two_outputs_one_person_apart_is_blocked(spark, tmp_path):
    rows = _grid_rows()
    write_frame(spark, tmp_path / "staging", "everyone", rows, SCHEMA)
    write_frame(spark, tmp_path / "staging", "all_but_one", [r for r in rows if r[0] != "bx-3"], SCHEMA)
    amount = measure("amount", "sum", "amount", (0, 5000))
    job = manifest(output("everyone", {"d1": D1}, (count(), amount), totals=True),
                   output("all_but_one", {"d1": D1}, (count(), amount), totals=True))  # fmt: skip
    run = gate(spark, tmp_path, job)
    for name, other in (("everyone", "all_but_one"), ("all_but_one", "everyone")):
        for key in [("b",), (None,)]:
            assert "differencing" in run.rules(name, key)
            assert any(other in r.en for r in run.cell(name, key).reasons)
        assert run.released(name, ("c",))
    recovered = attack(run.report, entity_outputs=["everyone"]) | attack(
        run.report, entity_outputs=["all_but_one"]
    )
    assert ("everyone", ("b",)) not in recovered and ("all_but_one", ("b",)) not in recovered


def test_rounding_applies_to_counts_and_sums_after_suppression(spark, tmp_path):
    rows = [(f"p{i}", "a", "x", 2.0) for i in range(12)] + [(f"q{i}", "b", "x", 3.0) for i in range(13)]
    write_frame(spark, tmp_path / "staging", "rounded", rows, SCHEMA)
    job = manifest(output("rounded", {"d1": ("a", "b")}, (count(), measure("amount", "sum", "amount"),
                          measure("avg", "mean", "amount")), rounding=5))  # fmt: skip
    run = gate(spark, tmp_path, job)
    assert run.cell("rounded", ("a",)).values == {"people": 10, "amount": 25, "avg": 2.0}
    assert run.cell("rounded", ("b",)).values == {"people": 15, "amount": 40, "avg": 3.0}
