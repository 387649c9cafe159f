"""One person cannot pass for many: an entity counts in at most ``max_cells_per_entity`` cells per output.

The attack: a frame that puts one person in every cell of a table, so that
the person weighs on every cell and, through the margins that sum an entity's cells, on the totals
many times over. The layer asserted is the gate's per-entity cell bound.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.domain.gate import Refusal
from tests.sandbox.gate.conftest import gate, manifest, measure, output, write_frame

CELLS = tuple(f"c{i}" for i in range(8))
SCHEMA = "pid string, d string, amount double"


def _frame(spark, tmp_path) -> None:
    """Twelve ordinary people per cell, each in one cell, and one person (worth 2) in all eight cells."""
    rows = [(f"p{c}-{i}", c, 1.0) for c in CELLS for i in range(12)]
    rows += [("everywhere", c, 2.0) for c in CELLS]
    write_frame(spark, tmp_path / "staging", "o", rows, SCHEMA)


def _spec(**settings):
    return output("o", {"d": CELLS}, (measure("total", "sum", "amount", (0, 100)),), totals=True, public=True,
                  **settings)  # fmt: skip


def test_an_entity_counts_in_at_most_the_policy_cells(spark, tmp_path):
    _frame(spark, tmp_path)
    run = gate(spark, tmp_path, manifest(_spec()))
    counted = [c for c in run.outcome.outputs["o"].cells if c.key != (None,)]
    with_the_person = [c for c in counted if c.values.get("total", 0) > 12]
    assert len(with_the_person) == 5  # the policy's default bound, not all eight
    total = next(c for c in run.outcome.outputs["o"].cells if c.key == (None,))
    assert total.values["total"] == 8 * 12 + 5 * 2  # the margin sums the bounded cells only
    assert "5" in run.report["outputs"]["o"]["methods"]["max_cells_per_entity"]


def test_a_job_may_lower_the_bound_and_the_same_cells_are_kept_every_run(spark, tmp_path):
    _frame(spark, tmp_path)
    first = gate(spark, tmp_path, manifest(_spec(max_cells_per_entity=1)), out="first")
    again = gate(spark, tmp_path, manifest(_spec(max_cells_per_entity=1)), out="again")
    kept = [
        c.key for c in first.outcome.outputs["o"].cells if c.key != (None,) and c.values.get("total", 0) > 12
    ]
    assert len(kept) == 1
    assert kept == [
        c.key for c in again.outcome.outputs["o"].cells if c.key != (None,) and c.values.get("total", 0) > 12
    ]


def test_a_job_may_not_raise_it(spark, tmp_path):
    _frame(spark, tmp_path)
    run = gate(spark, tmp_path, manifest(_spec(max_cells_per_entity=6)))
    assert run.outcome.outputs["o"].refusal is Refusal.LOOSER_THAN_POLICY
    assert "max_cells_per_entity" in run.outcome.outputs["o"].refusal_en


@pytest.mark.parametrize("value", [0, -1, "two"])
def test_a_bad_value_in_job_toml_is_refused(tmp_path, value):
    from sandbox.runtime.manifest import ManifestError, load_manifest

    job = tmp_path / "job"
    job.mkdir()
    toml = (Path(__file__).parents[3] / "jobs" / "elderly_care_hotspots" / "job.toml").read_text(
        encoding="utf-8"
    )
    toml = toml.replace(
        'entity = "id_number"\n',
        f'entity = "id_number"\nmax_cells_per_entity = {value!r}\n'.replace("'", '"'),
        1,
    )
    (job / "job.toml").write_text(toml, encoding="utf-8")
    (job / "job.py").write_text("def build(ctx):\n    return {}\n", encoding="utf-8")
    with pytest.raises(ManifestError) as refused:
        load_manifest(job)
    assert "max_cells_per_entity" in refused.value.en
