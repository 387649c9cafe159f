"""Failing keys of a uniqueness rule on the dataset's keys: taken from the duplicated keys, not row by row.

The pass does not judge such a rule per row: it writes the duplicated keys ``prepare`` found.
These tests pin what that must equal — the rows GX's own validation counts one by one — on a
compound key with the cases that differ: duplicates, unique keys, and keys with one or every column
missing (not judged: a key with a missing part is no key, and the key's not-null rules report it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from sandbox.domain.catalog import Column, ColumnRole, ColumnType, Dataset, ProvisionMethod, UpdateCycle
from sandbox.domain.quality import Check, Dimension, Rule, Severity, Suite
from sandbox.quality.checks import RunParameters
from sandbox.quality.evaluation import EarlierKeys, evaluate
from sandbox.quality.failing_keys import FAILING, KeysRef, read_keys
from sandbox.quality.gx_validation import GxWorkspace

KEYS = ("area", "seq")
ROWS = [  # area, seq, value
    ("x", 1, "a"), ("x", 1, "b"),  # a duplicated key: 2 failing rows
    ("x", 2, "c"),  # unique
    (None, 3, "d"), (None, 3, None),  # the first key column missing: not judged
    ("z", None, "e"), ("z", None, "f"),  # another key column missing: not judged
    (None, None, "g"), (None, None, "k"),  # no key at all: not judged
    ("y", 1, "h"), ("y", 1, "i"), ("y", 1, "j"),  # 3 failing rows
]  # fmt: skip
DATASET = Dataset(
    id="register",
    title="登记",
    provider="p",
    update_cycle=UpdateCycle.MONTHLY,
    provision=(ProvisionMethod.FILE,),
    keys=KEYS,
    columns=(
        Column("area", "区域", ColumnType.STRING, ColumnRole.ATTRIBUTE),
        Column("seq", "序号", ColumnType.INTEGER, ColumnRole.ATTRIBUTE),
        Column("value", "值", ColumnType.STRING, ColumnRole.ATTRIBUTE),
    ),
)
RULES = (
    Rule("key_unique", Check.UNIQUE_KEY, Dimension.ACCURACY, Severity.HIGH, columns=KEYS),
    Rule("value_present", Check.NOT_NULL, Dimension.COMPLETENESS, Severity.LOW, columns=("value",)),
    Rule("area_present", Check.NOT_NULL, Dimension.COMPLETENESS, Severity.LOW, columns=("area",)),
)


@pytest.fixture
def raw(tmp_path):
    area, seq, value = zip(*ROWS, strict=True)
    table = pa.table({"area": pa.array(area, pa.string()), "seq": pa.array(seq, pa.int64()),
                      "value": pa.array(value, pa.string())})  # fmt: skip
    (tmp_path / "raw").mkdir()
    pq.write_table(table, tmp_path / "raw" / "part-0.parquet")
    return tmp_path / "raw"


@pytest.mark.parametrize("cross_check", [False, True])
def test_duplicated_keys_are_the_rows_gx_counts(spark, tmp_path, raw, cross_check):
    suite = Suite(DATASET.id, RULES, "test", "0" * 64)
    out = tmp_path / "run"
    evaluation = evaluate(spark, GxWorkspace(tmp_path / "gx"), DATASET, suite, RunParameters(date(2026, 1, 1), {}),
                          raw, {}, out, "run", cross_check=cross_check)  # fmt: skip
    outcomes = {o.rule.id: o for o in evaluation.outcomes}
    unique = outcomes["key_unique"]
    assert (unique.unexpected_rows, unique.failing_keys, unique.success) == (5, 2, False)
    assert unique.element_count == len(ROWS)
    assert outcomes["value_present"].unexpected_rows == 1
    written = pads.dataset(str(out / FAILING), format="parquet").to_table(
        filter=pc.field("rule") == "key_unique"
    )
    found = sorted(((r["area"], r["seq"], r["rows"]) for r in written.to_pylist()), key=str)
    assert found == sorted([("x", 1, 2), ("y", 1, 3)], key=str)
    # scores count records: a duplicated key once (12 rows, 3 of them extra copies), a row whose key
    # is incomplete on its own (4 rows lack an area: 2 keys as grouped, 4 records)
    assert {o.records for o in evaluation.outcomes} == {len(ROWS) - 3}
    assert (unique.failing_records, outcomes["value_present"].failing_records) == (2, 1)
    area = outcomes["area_present"]
    assert (area.unexpected_rows, area.failing_keys, area.failing_records) == (4, 2, 4)


def _in_the_older_layout(failing: Path, out: Path) -> None:
    """Rewrite a run's failing keys as releases before 2026-11-25 wrote them: a directory per rule."""
    table = pads.dataset(str(failing), format="parquet").to_table()
    for rule in set(table.column("rule").to_pylist()):
        (out / f"rule={rule}").mkdir(parents=True)
        mine = table.filter(pc.field("rule") == rule).drop_columns(["rule"])
        pq.write_table(mine, out / f"rule={rule}" / "part-00000.parquet")


def test_tickets_whose_keys_an_older_release_wrote_are_still_read(spark, tmp_path, raw):
    """Exports read their keys, and a new run knows them as keys already on a ticket."""
    suite = Suite(DATASET.id, RULES, "test", "0" * 64)
    params, gx = RunParameters(date(2026, 1, 1), {}), GxWorkspace(tmp_path / "gx")
    first = tmp_path / "runs" / "0a1b" / "keys"
    evaluate(spark, gx, DATASET, suite, params, raw, {}, first, "first")
    older = tmp_path / "runs" / "2c3d" / "keys" / FAILING
    _in_the_older_layout(first / FAILING, older)

    for rule in ("key_unique", "value_present"):
        assert read_keys(KeysRef(older / f"rule={rule}", rule)) == read_keys(KeysRef(first / FAILING, rule))
    on_ticket = (KeysRef(older / "rule=key_unique", "key_unique"),)
    again = evaluate(spark, gx, DATASET, suite, params, raw, {}, tmp_path / "runs" / "4e5f" / "keys", "again",
                     EarlierKeys(on_tickets=on_ticket))  # fmt: skip
    outcomes = {o.rule.id: o for o in again.outcomes}
    assert (outcomes["key_unique"].failing_keys, outcomes["key_unique"].new_keys) == (2, 0)
    assert outcomes["value_present"].new_keys == 1  # another rule's ticket, not this one
