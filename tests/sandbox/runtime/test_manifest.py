"""job.toml validation: clear, bilingual errors naming what is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sandbox.domain.job import Aggregate
from sandbox.runtime.manifest import ManifestError, parse_manifest

JOB = Path(__file__).parents[3] / "jobs" / "elderly_care_hotspots" / "job.toml"


@pytest.fixture
def doc() -> dict:
    return tomllib.loads(JOB.read_text(encoding="utf-8"))


def test_parses_the_shipped_manifest(doc):
    manifest = parse_manifest(doc)
    output = manifest.outputs[0]
    assert output.entity == "id_number" and output.dimensions == ("district_code", "age_band")
    assert output.measures[1].agg is Aggregate.MEAN and output.measures[1].bounds == (0.0, 1.0)
    assert output.domains["district_code"].code_table == "division_district"
    assert output.public_domains and output.totals
    assert manifest.inputs[0].join_keys == ()


def test_join_keys_are_read_when_declared(doc):
    doc["inputs"]["population"]["join_keys"] = ["district_code"]
    assert parse_manifest(doc).inputs[0].join_keys == ("district_code",)


@pytest.mark.parametrize(
    ("mutate", "en"),
    [
        (
            lambda d: d["outputs"]["elderly_by_district"]["measures"].append(
                {"name": "oldest", "agg": "max", "column": "age"}
            ),
            "'max' is not allowed",
        ),
        (
            lambda d: d["outputs"]["elderly_by_district"]["measures"].append(
                {"name": "s", "agg": "sum", "column": "x"}
            ),
            "needs bounds",
        ),
        (
            lambda d: d["outputs"]["elderly_by_district"].update(dimensions=["id_number"]),
            "can never be a dimension",
        ),
        (lambda d: d["outputs"]["elderly_by_district"].update(colour="red"), "unknown field(s) colour"),
        (lambda d: d.pop("scenario"), "scenario: is missing"),
        (lambda d: d["inputs"]["population"].pop("columns"), "must list the columns"),
        (lambda d: d["outputs"]["elderly_by_district"]["domains"].update(sex=["1"]), "is not a dimension"),
        (lambda d: d["outputs"]["elderly_by_district"].update(threshold=0), "positive integer"),
        (lambda d: d.update(entry="../../etc/x.py"), "must be a .py file name"),
        (
            lambda d: d["inputs"]["population"].update(join_keys=["name"]),
            "join keys must be columns this input lists",
        ),
    ],
)
def test_bad_manifests_are_named(doc, mutate, en):
    mutate(doc)
    with pytest.raises(ManifestError) as info:
        parse_manifest(doc)
    assert en in info.value.en
    assert "job.toml" in info.value.zh
