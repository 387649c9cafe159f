"""Failing keys of a uniqueness rule on the dataset's keys: taken from the duplicated keys, not row by row.

The pass does not judge such a rule per row: it writes the duplicated keys ``prepare`` found.
These tests pin what that must equal — the rows GX's own validation counts one by one — on a
compound key with the cases that differ: duplicates, unique keys, and keys with one or every column
missing (not judged: a key with a missing part is no key, and the key's not-null rules report it).
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from sandbox.domain.catalog import Column, ColumnRole, ColumnType, Dataset, ProvisionMethod, UpdateCycle
from sandbox.domain.quality import Check, Dimension, Rule, Severity, Suite
from sandbox.quality.checks import RunParameters
from sandbox.quality.evaluation import evaluate
from sandbox.quality.failing_keys import FAILING
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
    written = pads.dataset(str(out / FAILING / "rule=key_unique"), format="parquet").to_table()
    found = sorted(((r["area"], r["seq"], r["rows"]) for r in written.to_pylist()), key=str)
    assert found == sorted([("x", 1, 2), ("y", 1, 3)], key=str)
