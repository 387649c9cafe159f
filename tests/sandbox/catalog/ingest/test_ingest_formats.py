"""Accepted uploads: every format and encoding yields the same typed Parquet version."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.catalog.ingest.validate import arrow_schema

EXPECTED_FIRST = {
    "person_id": "P001",
    "name": "张伟",
    "birth_date": dt.date(1950, 3, 2),
    "household_size": 3,
    "income": 1200.5,
    "is_disabled": False,
    "registered_at": dt.datetime(2024, 1, 2, 8, 0),
    "district_code": "420281",
}


def test_utf8_csv_is_typed_in_declared_order(area):
    path = area.write("hukou.csv", area.csv())
    version = area.ingest([path])
    table = area.table()
    assert table.schema.equals(arrow_schema(area.dataset()))
    assert table.num_rows == version.row_count == 5
    rows = table.to_pylist()
    assert rows[0] == EXPECTED_FIRST
    assert rows[1]["income"] is None and rows[1]["is_disabled"] is True
    assert rows[2]["household_size"] is None
    assert rows[2]["registered_at"] == dt.datetime(2024, 2, 1, 10, 15, 30, 250000)
    assert rows[3]["registered_at"] == dt.datetime(2024, 3, 4)
    assert rows[4]["birth_date"] is None and rows[4]["registered_at"] is None
    assert version.engine == "arrow"
    assert version.duplicate_key_count == 0
    assert version.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert version.sources == (
        {"file": "hukou.csv", "format": "csv", "encoding": "utf-8", "bytes": path.stat().st_size},
    )


def test_utf8_bom_and_gbk_with_crlf_give_identical_parquet(area):
    text = area.csv()
    plain = area.ingest([area.write("plain.csv", text)], version="plain")
    bom = area.ingest([area.write("bom.csv", b"\xef\xbb\xbf" + text.encode())], version="bom")
    gbk = area.ingest([area.write("gbk.csv", text.replace("\n", "\r\n"), encoding="gbk")], version="gbk")
    assert [s["encoding"] for s in (*plain.sources, *bom.sources, *gbk.sources)] == [
        "utf-8",
        "utf-8-sig",
        "gb18030",
    ]
    assert plain.schema_hash == bom.schema_hash == gbk.schema_hash
    assert area.table("plain").equals(area.table("bom"))
    assert area.table("plain").equals(area.table("gbk"))
    assert len({plain.content_sha256, bom.content_sha256, gbk.content_sha256}) == 3


def test_gb18030_only_characters_survive(area):
    rows = [r.replace("张伟", "𠀀䶮") for r in area.rows]  # outside GBK: GB18030 four-byte sequences
    area.ingest([area.write("gb.csv", area.csv(rows), encoding="gb18030")])
    assert area.table()["name"][0].as_py() == "𠀀䶮"


def test_parquet_jsonl_xlsx_match_csv(area):
    base = area.ingest([area.write("a.csv", area.csv())], version="csv")
    expected = area.table("csv")

    native = expected.select(
        [
            "district_code",
            "person_id",
            "name",
            "birth_date",
            "household_size",
            "income",
            "is_disabled",
            "registered_at",
        ]
    )
    native = native.set_column(4, "household_size", native["household_size"].cast(pa.int32()))
    parquet = area.write("a.parquet", b"")
    pq.write_table(native, parquet)

    def text(v):
        return (
            v.isoformat(sep=" ")
            if isinstance(v, dt.datetime)
            else v.isoformat()
            if isinstance(v, dt.date)
            else v
        )

    records = [{k: text(v) for k, v in r.items()} for r in expected.to_pylist()]
    jsonl = area.write("a.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(area.header.split(","))
    for row in expected.to_pylist():
        sheet.append([row[k] for k in area.header.split(",")])
    xlsx = area.root / "uploads" / "a.xlsx"
    book.save(xlsx)

    for name, path in [("parquet", parquet), ("jsonl", jsonl), ("xlsx", xlsx)]:
        version = area.ingest([path], version=name)
        assert version.sources[0]["format"] == name
        assert version.schema_hash == base.schema_hash, name
        assert area.table(name).equals(expected), name


def test_several_files_are_one_version(area):
    first = area.write("part1.csv", area.csv(area.rows[:2]))
    reordered = "district_code,person_id,name,birth_date,household_size,income,is_disabled,registered_at"
    moved = [",".join([r.split(",")[-1], *r.split(",")[:-1]]) for r in area.rows[2:]]
    second = area.write("part2.tsv", area.csv(moved, reordered).replace(",", "\t"))
    version = area.ingest([first, second])
    assert version.row_count == 5
    assert [s["file"] for s in version.sources] == ["part1.csv", "part2.tsv"]
    assert version.content_sha256 == hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert area.table().to_pylist()[0] == EXPECTED_FIRST
    assert area.table()["person_id"].to_pylist() == ["P001", "P002", "P003", "P004", "P005"]


def test_quoted_values_with_commas_and_newlines(area):
    rows = [*area.rows[:1], 'P002,"李,娜",1948-11-30,1,,是,2024-01-03 09:30:00,"4202\n02"']
    area.ingest([area.write("q.csv", area.csv(rows))])
    assert area.table()["name"].to_pylist() == ["张伟", "李,娜"]
    assert area.table()["district_code"][1].as_py() == "4202\n02"


def test_version_files_are_read_only_and_alone(area):
    version = area.ingest([area.write("a.csv", area.csv())])
    target = area.root / "raw" / "v1"
    assert sorted(p.name for p in target.iterdir()) == sorted(version.files)
    for name in version.files:
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o444
    assert area.staging_left() == []
    assert area.footer_min_max() == {"birth_date", "household_size", "income", "is_disabled", "registered_at"}


def test_text_of_few_values_gets_a_dictionary_and_identifiers_and_names_do_not(area):
    # 400 people in 3 districts: the district code repeats, ids and names do not
    rows = [f"P{i:04d},姓名{i},1950-03-02,{i % 7},100,否,2024-01-02,42028{i % 3}" for i in range(400)]
    area.ingest([area.write("a.csv", area.csv(rows))])
    dictionary = area.dictionary_encoded()
    assert "district_code" in dictionary
    assert {"person_id", "name"}.isdisjoint(dictionary)
    assert {"household_size", "birth_date"} <= dictionary  # numbers and dates keep pyarrow's default
    assert area.table().column("district_code").to_pylist()[:3] == ["420280", "420281", "420282"]


def test_quoted_newlines_across_parser_blocks(area):
    rows = [f'Q{i:05d},"{"王" * 40}\n{"李" * 40}",1950-01-01,1,1,0,2024-01-01,420281' for i in range(12000)]
    version = area.ingest([area.write("big.csv", area.csv(rows))])  # ≈ 3 MB: several 1 MB blocks
    assert version.row_count == 12000
    assert all("\n" in v for v in area.table()["name"].to_pylist())


def test_duplicates_within_policy_are_counted(area):
    rows = (
        area.rows
        + [f"Q{i:03d},某某,1950-01-01,1,1,0,2024-01-01,420281" for i in range(195)]
        + [area.rows[0], area.rows[0]]
    )
    version = area.ingest([area.write("d.csv", area.csv(rows))])  # 2 of 202 rows ≈ 0.99 % ≤ 1 %
    assert version.row_count == 202
    assert version.duplicate_key_count == 2


def test_missing_keys_are_not_duplicates(area):
    rows = [
        *area.rows,
        ",无名,1950-01-01,1,1,0,2024-01-01,420281",
        ",无名,1950-01-01,1,1,0,2024-01-01,420281",
    ]
    version = area.ingest([area.write("k.csv", area.csv(rows))])
    assert version.duplicate_key_count == 0


def test_jsonl_numbers_in_text_columns_and_text_in_number_columns(area):
    lines = [
        '{"person_id": "P1", "name": "张三", "birth_date": "1950-01-01", "household_size": "3", "income": 2,'
        ' "is_disabled": "是", "registered_at": "2024-01-01 08:00:00", "district_code": 420281}',
        '{"person_id": "P2", "name": "", "birth_date": null, "household_size": 4, "income": 2.5,'
        ' "is_disabled": false, "district_code": "420202"}',
    ]
    area.ingest([area.write("a.jsonl", "\n".join(lines))])
    rows = area.table().to_pylist()
    assert rows[0]["district_code"] == "420281" and rows[0]["household_size"] == 3
    assert rows[0]["is_disabled"] is True and rows[1]["is_disabled"] is False
    assert rows[1]["name"] is None and rows[1]["registered_at"] is None
    assert [r["income"] for r in rows] == [2.0, 2.5]


def test_zoned_parquet_timestamps_become_china_wall_clock(area):
    table = pa.table(
        {
            "person_id": ["P1"],
            "name": ["甲"],
            "birth_date": pa.array([dt.datetime(1950, 1, 1)], pa.timestamp("s")),
            "household_size": pa.array([2], pa.uint8()),
            "income": pa.array([1], pa.int16()),
            "is_disabled": pa.array([0], pa.int8()),
            "registered_at": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)], pa.timestamp("ms", tz="UTC")),
            "district_code": pa.array(["420281"]).dictionary_encode(),
        }
    )
    path = area.write("z.parquet", b"")
    pq.write_table(table, path)
    area.ingest([path])
    row = area.table().to_pylist()[0]
    assert row["registered_at"] == dt.datetime(2024, 1, 1, 8, 0)
    assert row["birth_date"] == dt.date(1950, 1, 1)
    assert (row["household_size"], row["income"], row["is_disabled"]) == (2, 1.0, False)
    assert row["district_code"] == "420281"
