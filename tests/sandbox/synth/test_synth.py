"""The synthetic county: determinism, identifier validity, and exact agreement with its ground truth.

The rule checker here is written from the catalog and the defect kinds' definitions, not from
the generator's code: if it finds exactly the ground truth, every injected defect is real and
no clean row breaks a rule by accident.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from stdnum.cn import uscc

from sandbox.catalog.spec import parse_catalog
from sandbox.domain.catalog import STALENESS_DAYS, UpdateCycle
from sandbox.synth import generate
from sandbox.synth.defects import KINDS

PEOPLE = 3000
SEED = 11


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "a"
    generate(path, people=PEOPLE, seed=SEED, defect_rate=0.01)
    return path


@pytest.fixture(scope="module")
def catalog(out) -> dict:
    return yaml.safe_load((out / "catalog.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(out, catalog) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for ds in catalog["datasets"]:
        with (out / ds["file"]).open(encoding="utf-8", newline="") as f:
            tables[ds["id"]] = list(csv.DictReader(f))
    return tables


@pytest.fixture(scope="module")
def truth(out) -> list[dict[str, str]]:
    with (out / "ground_truth.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def _key(ds: dict, row: dict[str, str]) -> str:
    return "|".join(row[k] for k in ds["keys"])


def _valid_resident_id(value: str) -> bool:
    """GB 11643 format and ISO 7064 MOD 11-2 check character.

    Not ``stdnum.cn.ric``: it also looks the region up among real places, and the city's
    4299xx codes are deliberately unassigned (stdnum even raises KeyError on them).
    """
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(value[:17]))
    return "10X98765432"[total % 11] == value[17]


def violations(out: Path, catalog: dict, data: dict) -> set[tuple[str, str, str, str]]:
    """Every rule broken anywhere in the files, as (dataset, key, column, kind)."""
    found: set[tuple[str, str, str, str]] = set()
    field_order = json.loads((out / "synth.json").read_text(encoding="utf-8"))["field_order"]
    known: dict[str, set[str]] = {}
    for ds in catalog["datasets"]:
        for spec in ds["columns"]:
            if "references" in spec:
                target, column = spec["references"].split(".")
                known[spec["references"]] = {r[column] for r in data[target]}
    for ds in catalog["datasets"]:
        rows = data[ds["id"]]
        for name, count in Counter(_key(ds, r) for r in rows).items():
            if count > 1:
                found.add((ds["id"], name, "|".join(ds["keys"]), "duplicate_key"))
        pairs = [(r["lesser"], r["greater"]) for r in field_order if r["dataset"] == ds["id"]]
        for row in rows:
            key = _key(ds, row)
            for column, kind in _row_violations(catalog, ds, row, known, pairs):
                found.add((ds["id"], key, column, kind))
    return found


def _row_violations(catalog: dict, ds: dict, row: dict, known: dict, pairs: list) -> list[tuple[str, str]]:
    out = []
    for spec in ds["columns"]:
        name, value = spec["name"], row[spec["name"]]
        if value == "":
            if spec.get("required"):
                out.append((name, "missing_required"))
            continue
        if spec.get("pii") == "cn_resident_id" and not _valid_resident_id(value):
            out.append((name, "invalid_check_digit"))
        if spec.get("pii") == "cn_uscc" and not uscc.is_valid(value):
            out.append((name, "invalid_check_digit"))
        if "code_table" in spec and value not in catalog["code_tables"][spec["code_table"]]:
            out.append((name, "code_not_in_table"))
        if "range" in spec and not spec["range"][0] <= float(value) <= spec["range"][1]:
            out.append((name, "out_of_range"))
        if "references" in spec and value not in known[spec["references"]]:
            out.append((name, "orphan_reference"))
    ids = [c["name"] for c in ds["columns"] if c.get("pii") == "cn_resident_id"]
    if row.get("birth_date") and row[ids[0]] and row[ids[0]][6:14] != row["birth_date"].replace("-", ""):
        out.append(("birth_date", "birth_date_mismatch"))
    stamp = ds.get("timestamp_column")
    if stamp and row[stamp]:
        limit = datetime.fromisoformat(catalog["as_of"]) - timedelta(
            days=STALENESS_DAYS[UpdateCycle(ds["update_cycle"])]
        )
        if datetime.fromisoformat(row[stamp]) < limit:
            out.append((stamp, "stale_record"))
    types = {c["name"]: c["type"] for c in ds["columns"]}
    for low, high in pairs:
        if row[low] and row[high]:
            numeric = types[low] == "integer"
            if (int(row[low]) > int(row[high])) if numeric else row[low] > row[high]:
                out.append((f"{low}|{high}", "field_order"))
    return out


def test_same_seed_is_byte_identical_and_another_seed_differs(out, tmp_path):
    generate(tmp_path / "b", people=PEOPLE, seed=SEED, defect_rate=0.01)
    generate(tmp_path / "c", people=PEOPLE, seed=SEED + 1, defect_rate=0.01)
    first, again, other = _files(out), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert first == again
    assert first.keys() == other.keys()
    differing = [name for name in first if first[name] != other[name]]
    assert set(differing) >= {f"{ds}.csv" for ds in ("hukou_population", "enterprises", "social_insurance")}


def test_output_files(out, catalog):
    files = {p.name for p in out.iterdir()}
    assert files == {"catalog.yaml", "ground_truth.csv", "synth.json"} | {
        ds["file"] for ds in catalog["datasets"]
    }
    assert len(catalog["datasets"]) >= 10
    summary = json.loads((out / "synth.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == catalog["as_of"] == "2026-06-30"
    assert (summary["seed"], summary["people"], summary["defect_rate"]) == (SEED, PEOPLE, 0.01)


def test_catalog_parses_and_matches_the_files(out, catalog, data):
    parsed = parse_catalog(catalog)
    assert {d.id for d in parsed.datasets} == set(data)
    patterns = {
        "integer": r"-?\d+",
        "double": r"-?\d+\.\d{2}",
        "date": r"\d{4}-\d{2}-\d{2}",
        "timestamp": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
        "boolean": r"true|false",
    }
    for ds in catalog["datasets"]:
        with (out / ds["file"]).open(encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split(",")
        assert header == [c["name"] for c in ds["columns"]], ds["id"]
        assert ds["max_duplicate_key_rate"] >= 3 * 0.01
        assert set(ds["keys"]) <= set(header) and ds["entity"] in header
        for c in ds["columns"]:
            assert "code_table" not in c or c["code_table"] in catalog["code_tables"]
            pattern = patterns.get(c["type"])
            values = [r[c["name"]] for r in data[ds["id"]] if r[c["name"]] != ""]
            if pattern:
                bad = [v for v in values if not re.fullmatch(pattern, v)]
                assert not bad, (ds["id"], c["name"], bad[:3])
            if c["type"] in ("date", "timestamp"):
                for v in values:
                    datetime.fromisoformat(v)
    assert all(isinstance(v, str) for table in catalog["code_tables"].values() for v in table)


def test_ground_truth_is_exactly_what_the_rules_find(out, catalog, data, truth):
    defects = [t for t in truth if t["kind"] != "planted_pii"]
    assert {t["kind"] for t in defects} == set(KINDS)
    listed = {(t["dataset"], t["key"], t["column"], t["kind"]) for t in defects}
    assert len(listed) == len(defects)
    per_record = Counter((t["dataset"], t["key"]) for t in defects)
    assert max(per_record.values()) == 1, "a record carries more than one defect"
    found = violations(out, catalog, data)
    assert found - listed == set(), "clean rows break rules"
    assert listed - found == set(), "listed defects are not in the data"


def test_keys_unique_except_listed_duplicates(catalog, data, truth):
    duplicated = {(t["dataset"], t["key"]) for t in truth if t["kind"] == "duplicate_key"}
    for ds in catalog["datasets"]:
        counts = Counter(_key(ds, r) for r in data[ds["id"]])
        assert {(ds["id"], k) for k, c in counts.items() if c > 1} == {
            d for d in duplicated if d[0] == ds["id"]
        }
        assert all(c <= 2 for c in counts.values())


def test_resident_ids_agree_with_their_rows(data, truth):
    defective = {t["key"] for t in truth if t["dataset"] == "hukou_population" and t["kind"] != "planted_pii"}
    checked = 0
    for row in data["hukou_population"]:
        if row["id_number"] in defective:
            continue
        number = row["id_number"]
        assert _valid_resident_id(number)
        assert number[:6] == row["district_code"]
        assert number[6:14] == row["birth_date"].replace("-", "")
        assert int(number[16]) % 2 == (1 if row["gender"] == "1" else 0)
        checked += 1
    assert checked > 0.9 * PEOPLE


def test_usccs_validate_unless_listed(data, truth):
    bad = {(t["dataset"], t["key"]) for t in truth if t["kind"] == "invalid_check_digit"}
    for dataset, column in (("enterprises", "uscc"), ("elderly_care_institutions", "institution_uscc")):
        rows = data[dataset]
        assert all(uscc.is_valid(r[column]) != ((dataset, r[column]) in bad) for r in rows)
        assert any((dataset, r[column]) in bad for r in rows)


def test_references_resolve_for_clean_rows(catalog, data, truth):
    orphans = {(t["dataset"], t["key"], t["column"]) for t in truth if t["kind"] == "orphan_reference"}
    for ds in catalog["datasets"]:
        for c in ds["columns"]:
            if "references" not in c:
                continue
            target, column = c["references"].split(".")
            known = {r[column] for r in data[target]}
            for row in data[ds["id"]]:
                listed = (ds["id"], _key(ds, row), c["name"]) in orphans
                assert (row[c["name"]] in known) != listed or row[c["name"]] == ""


def test_people_are_consistent_across_datasets(data):
    hukou = {r["id_number"]: r for r in data["hukou_population"]}
    reps = [r for r in data["enterprises"] if r["legal_rep_id_number"] in hukou]
    assert sum(hukou[r["legal_rep_id_number"]]["name"] == r["legal_rep_name"] for r in reps) > 0.95 * len(
        reps
    )
    men = [r for r in data["marriage_registration"] if r["male_id_number"] in hukou]
    assert all(hukou[r["male_id_number"]]["gender"] == "1" for r in men)
    elderly = [r for r in data["elderly_people"] if r["id_number"] in hukou]
    assert sum(hukou[r["id_number"]]["birth_date"] <= "1966-06-30" for r in elderly) > 0.95 * len(elderly)
    share_60 = sum(r["birth_date"] <= "1966-06-30" for r in data["hukou_population"]) / len(hukou)
    assert 0.18 < share_60 < 0.32


def test_registered_capital_is_dominated_by_a_few(data):
    capital = sorted((float(r["registered_capital"]) for r in data["enterprises"]), reverse=True)
    capital = [c for c in capital if c > 0]
    top = capital[: max(1, len(capital) // 100)]
    assert sum(top) / sum(capital) > 0.4


def test_planted_pii_is_listed_and_verbatim(catalog, data, truth):
    datasets = {ds["id"]: ds for ds in catalog["datasets"]}
    planted = [t for t in truth if t["kind"] == "planted_pii"]
    assert {t["detail"] for t in planted} == {"cn_mobile", "cn_resident_id", "cn_uscc"}
    by_key = {
        (name, _key(datasets[name], r)): r
        for name in ("hukou_population", "enterprises", "admin_penalties")
        for r in data[name]
    }
    valid = {
        "cn_mobile": lambda v: re.fullmatch(r"1[3-9]\d{9}", v),
        "cn_resident_id": _valid_resident_id,
        "cn_uscc": uscc.is_valid,
    }
    for t in planted:
        text = by_key[(t["dataset"], t["key"])][t["column"]]
        at = text.index(t["value"])
        assert valid[t["detail"]](t["value"])
        before, after = text[at - 1 : at], text[at + len(t["value"]) : at + len(t["value"]) + 1]
        assert not before.isascii() and (after == "" or not after.isascii()), text  # Chinese both sides
    share = len([t for t in planted if t["dataset"] == "hukou_population"]) / PEOPLE
    assert 0.05 <= share <= 0.10
    plain = [r["remarks"] for r in data["hukou_population"] if r["remarks"]]
    listed = {t["key"] for t in planted if t["dataset"] == "hukou_population"}
    for row in data["hukou_population"]:
        if row["remarks"] and row["id_number"] not in listed:
            assert not re.search(r"\d{7,}", row["remarks"])
    assert plain


def test_no_defects_at_rate_zero(tmp_path):
    path = tmp_path / "clean"
    result = generate(path, people=PEOPLE, seed=3, defect_rate=0.0)
    assert result.defects == 0
    catalog = yaml.safe_load((path / "catalog.yaml").read_text(encoding="utf-8"))
    data = {}
    for ds in catalog["datasets"]:
        with (path / ds["file"]).open(encoding="utf-8", newline="") as f:
            data[ds["id"]] = list(csv.DictReader(f))
    assert violations(path, catalog, data) == set()
    assert result.rows == {name: len(rows) for name, rows in data.items()}


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, people=10)
    with pytest.raises(ValueError):
        generate(tmp_path, defect_rate=0.5)


def test_date_logic_is_plausible(data):
    as_of = date(2026, 6, 30).isoformat()
    for name, rows in data.items():
        for row in rows:
            for column, value in row.items():
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and column != "birth_date":
                    assert value < as_of, (name, column, value)
