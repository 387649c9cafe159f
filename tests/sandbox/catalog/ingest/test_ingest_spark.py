"""The Spark engine (forced with threshold 0) accepts and refuses exactly as the Arrow engine."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from sandbox.catalog.ingest import spark_engine
from sandbox.catalog.ingest.validate import BadValue, parse_text
from sandbox.domain.catalog import Column, ColumnRole, ColumnType
from sandbox.domain.errors import IngestRejected

pytestmark = pytest.mark.spark

EDGE_ROWS = [
    'P006,"欧阳,娜娜",2000-02-29,0,-0.5,TRUE,2024-12-31T23:59:59.999999,"420281"',
    'P007,"说""好""的",1900-01-01,-12,+1.5e3,True,2024-01-01 00:00,',
    'P008,,2024-01-01,007,.5,是,2024-01-01 07,""',
    "P001,重复,1950-03-02,1,1,0,2024-01-01,420281",
]


def both(area, spark, name: str, content: str | bytes, encoding: str = "utf-8", dataset=None):
    path = area.write(name, content, encoding)
    arrow = area.ingest([path], dataset=dataset, version=f"{name}-arrow")
    on_spark = area.ingest(
        [path], dataset=dataset, version=f"{name}-spark", spark_factory=lambda: spark, spark_threshold_bytes=0
    )
    return arrow, on_spark


def rows_of(area, version: str) -> list[dict]:
    return sorted(area.table(version).to_pylist(), key=lambda r: (r["person_id"], r["name"] or ""))


def test_engines_agree_on_accepted_data(area, spark):
    dataset = dataclasses.replace(area.dataset(), max_duplicate_key_rate=0.2)
    arrow, on_spark = both(area, spark, "a.csv", area.csv(area.rows + EDGE_ROWS), dataset=dataset)
    assert (arrow.engine, on_spark.engine) == ("arrow", "spark")
    assert on_spark.row_count == arrow.row_count == 9
    assert on_spark.schema_hash == arrow.schema_hash
    assert on_spark.content_sha256 == arrow.content_sha256
    assert on_spark.duplicate_key_count == arrow.duplicate_key_count == 1
    assert on_spark.sources == arrow.sources
    assert area.table("a.csv-spark").schema.equals(area.table("a.csv-arrow").schema)
    assert rows_of(area, "a.csv-spark") == rows_of(area, "a.csv-arrow")
    assert all(name.startswith("part-") for name in on_spark.files)
    assert area.footer_min_max("a.csv-spark") == area.footer_min_max("a.csv-arrow")
    assert area.staging_left() == []


def test_engines_agree_on_gbk_with_quoted_newlines_and_glob_characters_in_the_name(area, spark):
    rows = [*area.rows, 'P009,"王\n小明",1950-01-01,1,2,否,2024-01-01,420281']
    arrow, on_spark = both(area, spark, "户籍[2024]{1}.csv", area.csv(rows), encoding="gbk")
    assert on_spark.sources[0]["encoding"] == "gb18030"
    assert rows_of(area, "户籍[2024]{1}.csv-spark") == rows_of(area, "户籍[2024]{1}.csv-arrow")
    assert "王\n小明" in area.table("户籍[2024]{1}.csv-spark")["name"].to_pylist()


def refusals(
    area, spark, name: str, content: str | bytes, dataset=None
) -> tuple[IngestRejected, IngestRejected]:
    path = area.write(name, content)
    found = []
    for kw in ({}, {"spark_factory": lambda: spark, "spark_threshold_bytes": 0}):
        with pytest.raises(IngestRejected) as info:
            area.ingest([path], dataset=dataset, **kw)
        found.append(info.value)
    assert not (area.root / "raw" / "v1").exists()
    assert area.staging_left() == []
    return found[0], found[1]


def located(err: IngestRejected) -> tuple:
    return err.reason, err.file, err.line, err.column, err.zh, err.en


def test_engines_refuse_alike(area, spark):
    bad_type = list(area.rows)
    bad_type[3] = bad_type[3].replace("0.75", "0,75")  # one field too many
    bad_value = [*area.rows[:2], 'P003,"王\n秀英",1962-07-15,,880,false,2024-02-30,420281']
    for name, rows in [("ragged.csv", bad_type), ("value.csv", bad_value)]:
        arrow, on_spark = refusals(area, spark, name, area.csv(rows))
        assert located(on_spark) == located(arrow), name
    assert arrow.line == 4 and arrow.column == "registered_at"


def test_engines_refuse_duplicates_and_empty_alike(area, spark):
    dataset = dataclasses.replace(area.dataset(), max_duplicate_key_rate=0.1)
    arrow, on_spark = refusals(area, spark, "d.csv", area.csv([*area.rows, area.rows[0]]), dataset=dataset)
    assert located(on_spark) == located(arrow) and arrow.reason == "duplicate_keys"
    arrow, on_spark = refusals(area, spark, "e.csv", area.csv([]))
    assert located(on_spark) == located(arrow) and arrow.reason == "empty"


def test_spark_scan_refuses_bad_bytes_past_the_sample(area, spark):
    filler = [f"Q{i:05d},某某,1950-01-01,1,1,0,2024-01-01,420281" for i in range(3000)]
    content = area.csv(filler).encode() + b"P9,\xff\xfe,1950-01-01,1,1,0,2024-01-01,420281\n"
    arrow, on_spark = refusals(area, spark, "u.csv", content)
    assert located(on_spark) == located(arrow) and arrow.line == 3002


def test_failure_in_a_later_split_is_located(area, spark):
    rows = [f"Q{i:05d},某某,1950-01-01,{i},1,0,2024-01-01,420281" for i in range(4000)]
    rows[2999] = rows[2999].replace(",1950-01-01,", ",1950-1-1,")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")
    try:
        arrow, on_spark = refusals(area, spark, "s.csv", area.csv(rows))
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert located(on_spark) == located(arrow)
    assert (arrow.line, arrow.column) == (3001, "birth_date")


GRAMMAR = {
    ColumnType.INTEGER: [
        "0",
        "-7",
        "007",
        "+1",
        "1.0",
        " 1",
        "1e3",
        "0x1F",
        "9223372036854775807",
        "9223372036854775808",
    ],
    ColumnType.DOUBLE: [
        "1",
        "-0.5",
        ".5",
        "5.",
        "+1.5e3",
        "1E-2",
        "NaN",
        "inf",
        "-Infinity",
        "1,5",
        "1.5d",
        " 1",
        "1e",
    ],
    ColumnType.DATE: [
        "2024-02-29",
        "2023-02-29",
        "2024-1-2",
        "2024-01-02 00:00:00",
        "20240102",
        " 2024-01-02",
    ],
    ColumnType.TIMESTAMP: [
        "2024-01-02 10:00:00",
        "2024-01-02T10:00:00.123456",
        "2024-01-02T10:00:00.1234567",
        "2024-01-02",
        "2024-01-02 10",
        "2024-01-02 10:00",
        "2024-01-02T10:00:00Z",
        "2024-01-02T10:00:00+08:00",
        "2024-01-02 24:00:00",
        "2024-01-02t10:00",
        "2024/01/02 10:00:00",
        "2024-01-02 10:00:00.",
    ],
    ColumnType.BOOLEAN: ["true", "False", "TRUE", "1", "0", "是", "否", "yes", "t", "tRUE"],
}


@pytest.mark.parametrize("ctype", list(GRAMMAR))
def test_both_engines_share_one_grammar(spark, ctype):
    values = GRAMMAR[ctype]
    arrow = []
    for value in values:
        try:
            arrow.append(parse_text(pa.chunked_array([[value]]), ctype)[0].as_py())
        except BadValue:
            arrow.append("refused")
    column = Column("v", "v", ctype, ColumnRole.ATTRIBUTE)
    frame = spark.createDataFrame([(v,) for v in values], "v string")
    value, bad = spark_engine._typed(frame["v"], column)
    on_spark = [
        "refused" if r.bad else r.value
        for r in frame.select(value.alias("value"), bad.alias("bad")).collect()
    ]
    assert on_spark == arrow
    assert "refused" in arrow and any(a != "refused" for a in arrow)
