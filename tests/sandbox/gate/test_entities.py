"""Real entities only: a staged entity found in no input's subject column refuses its output.

The attack: staging that names people who are not in the data (a forged or compromised frame; the
plan verifier already refuses a made-up entity column, so these frames are written by hand), which
would let a few real people pass as a crowd. The layer asserted is the gate's own membership check.
"""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from sandbox.domain.gate import Refusal
from sandbox.engines.staged_entity import entity_hash
from sandbox.gate.entities import EntitySource
from tests.sandbox.gate.conftest import gate, manifest, output

PEOPLE = [f"4299{i:014d}" for i in range(40)]


@pytest.fixture
def raw(spark, tmp_path):
    """An input's raw version: the subject column ``id_number`` beside another column."""
    path = tmp_path / "raw" / "people"
    spark.createDataFrame([(p, "x") for p in PEOPLE], "id_number string, other string").write.parquet(
        str(path)
    )
    return [EntitySource(path, "id_number")]


def _stage(spark, tmp_path, entities: list[str], *, hashed: bool) -> None:
    rows = [(e, "a" if i % 2 else "b") for i, e in enumerate(entities)]
    frame = spark.createDataFrame(rows, "pid string, d string")
    if hashed:  # as production stages text entities
        frame = frame.select(entity_hash(F.col("pid")).alias("pid"), "d")
    frame.coalesce(1).write.parquet(str(tmp_path / "staging" / "o"))


@pytest.mark.parametrize("hashed", [False, True], ids=["dev", "production"])
def test_real_entities_pass(spark, tmp_path, raw, hashed):
    _stage(spark, tmp_path, PEOPLE[:30], hashed=hashed)
    run = gate(spark, tmp_path, manifest(output("o", {"d": ("a", "b")})), entity_sources=raw)
    assert run.outcome.outputs["o"].refusal is None


@pytest.mark.parametrize("hashed", [False, True], ids=["dev", "production"])
def test_strangers_refuse_the_output_with_their_number_never_their_values(spark, tmp_path, raw, hashed):
    """Five real people staged beside 25 made-up ones: each cell would clear the threshold."""
    strangers = [f"invented-{i}" for i in range(25)]
    _stage(spark, tmp_path, PEOPLE[:5] + strangers, hashed=hashed)
    run = gate(spark, tmp_path, manifest(output("o", {"d": ("a", "b")})), entity_sources=raw)
    refused = run.outcome.outputs["o"]
    assert refused.refusal is Refusal.UNKNOWN_ENTITIES and "25 entities" in refused.refusal_en
    assert not list(run.out_dir.glob("*.parquet"))
    report = (run.out_dir / "gate_report.json").read_text(encoding="utf-8")
    assert all(s not in report for s in strangers) and "invented" not in report


def test_a_renamed_column_is_checked_against_the_subject_not_its_name(spark, tmp_path, raw):
    """The subject column is the catalog's, whatever the output calls its entity."""
    _stage(spark, tmp_path, ["x"] + PEOPLE[:29], hashed=False)
    run = gate(spark, tmp_path, manifest(output("o", {"d": ("a", "b")})), entity_sources=raw)
    assert run.outcome.outputs["o"].refusal is Refusal.UNKNOWN_ENTITIES
    assert "1 entities" in run.outcome.outputs["o"].refusal_en


def test_an_entity_source_parses_from_the_gate_process_argument(tmp_path):
    source = EntitySource.parse(f"{tmp_path}/raw/v1=id_number")
    assert source.column == "id_number" and str(source) == f"{tmp_path}/raw/v1=id_number"
    with pytest.raises(ValueError):
        EntitySource.parse("no-column")
