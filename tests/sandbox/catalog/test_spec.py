"""Catalog parsing: valid entries load; every malformed entry is a clear error naming it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from sandbox.catalog.spec import dataset_to_dict, parse_catalog, parse_dataset
from sandbox.domain.catalog import ColumnRole, DataGrade, PiiKind
from sandbox.domain.errors import CatalogError

MINI = Path(__file__).parents[2] / "fixtures" / "mini_catalog.yaml"


@pytest.fixture
def document() -> dict:
    return yaml.safe_load(MINI.read_text(encoding="utf-8"))


def test_parses_roles_kinds_and_grades(document):
    catalog = parse_catalog(document)
    people = catalog.datasets[0]
    assert people.column("id_number").role is ColumnRole.DIRECT_ID
    assert people.column("id_number").pii is PiiKind.CN_RESIDENT_ID
    assert people.column("id_number").grade is DataGrade.CORE
    assert people.column("income").value_range == (0.0, 1_000_000.0)
    assert catalog.code_tables["gender"] == ("1", "2")


def test_round_trip(document):
    for dataset in parse_catalog(document).datasets:
        assert parse_dataset(dataset_to_dict(dataset)) == dataset


@pytest.mark.parametrize(
    ("mutate", "zh", "en"),
    [
        (
            lambda d: d["datasets"][0]["columns"][2].update(role="identifier"),
            "people 的列 gender",
            "unknown role 'identifier'",
        ),
        (
            lambda d: d["datasets"][0]["columns"][0].update(pii="ssn"),
            "people 的列 id_number",
            "unknown pii 'ssn'",
        ),
        (
            lambda d: d["datasets"][1]["columns"][2].update(grade="绝密"),
            "disability 的列 level",
            "unknown grade '绝密'",
        ),
        (lambda d: d["datasets"][0].update(update_cycle="hourly"), "数据集 people", "unknown update_cycle"),
        (
            lambda d: d["datasets"].append(copy.deepcopy(d["datasets"][0])),
            "people 在目录中重复",
            "appears twice",
        ),
        (lambda d: d["datasets"][0].update(keys=["nope"]), "people", "keys names unknown column nope"),
        (
            lambda d: d["datasets"][0]["columns"][2].update(code_table="sex"),
            "gender",
            "code table sex is not defined",
        ),
        (lambda d: d["datasets"][1]["columns"][1].update(references="people.pid"), "id_number", "people.pid"),
        (lambda d: d["datasets"][1].update(provider="nobody"), "nobody", "provider nobody is not declared"),
        (lambda d: d["datasets"][0]["columns"][1].pop("title"), "people 的列 name", "missing field title"),
        (
            lambda d: d["datasets"][0]["columns"][1].update(colour="red"),
            "people 的列 name",
            "unknown field(s) colour",
        ),
        (
            lambda d: d["providers"].append({"id": "gongan", "name": "x"}),
            "gongan 重复",
            "duplicate provider gongan",
        ),
    ],
)
def test_bad_entries_are_named(document, mutate, zh, en):
    mutate(document)
    with pytest.raises(CatalogError) as info:
        parse_catalog(document)
    assert zh in info.value.zh
    assert en in info.value.en


@pytest.mark.parametrize(
    ("mutate", "en"),
    [
        (lambda d: d["datasets"][0].update(id="../raw"), "invalid dataset id '../raw'"),
        (lambda d: d["providers"][0].update(id="gong/an"), "invalid provider id 'gong/an'"),
        (lambda d: d["code_tables"].update({"../t": ["1"]}), "invalid code table name '../t'"),
    ],
)
def test_catalog_identifiers_that_could_name_a_path_are_refused(document, mutate, en):
    from sandbox.domain.errors import InvalidInput

    mutate(document)
    with pytest.raises(InvalidInput) as info:
        parse_catalog(document)
    assert en in info.value.en
