"""Refused uploads: a stable reason, a bilingual message that locates the problem without
quoting data, nothing published, and the upload kept in quarantine."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.domain.errors import IngestRejected


def refuse(area, files: list[Path], **kw) -> IngestRejected:
    with pytest.raises(IngestRejected) as info:
        area.ingest(files, **kw)
    err = info.value
    assert not (area.root / "raw" / "v1").exists()
    assert area.staging_left() == []
    assert err.quarantine_path is not None
    return err


def test_truncated_parquet_is_corrupt_and_quarantined(area):
    buf = io.BytesIO()
    pq.write_table(pa.table({"person_id": ["P1"] * 100}), buf)
    path = area.write("hukou.parquet", buf.getvalue()[:-40])
    err = refuse(area, [path])
    assert err.reason == "corrupt_file" and err.file == "hukou.parquet"
    assert "hukou.parquet" in err.zh and "hukou.parquet" in err.en and "corrupt" in err.en
    kept = Path(err.quarantine_path)
    assert kept.parent == area.quarantine / "hukou_population"
    assert (kept / "hukou.parquet").read_bytes() == path.read_bytes()
    assert path.exists()  # the original is left where it was
    reason = json.loads((kept / "reason.json").read_text(encoding="utf-8"))
    assert reason["reason"] == "corrupt_file" and reason["dataset"] == "hukou_population"
    assert reason["quarantine_path"] == err.quarantine_path
    assert reason["files"] == [
        {
            "file": "hukou.parquet",
            "stored_as": "hukou.parquet",
            "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    ]
    assert reason["quarantined_at"].endswith("Z")


def test_parquet_extension_without_parquet_content_is_corrupt(area):
    assert refuse(area, [area.write("x.parquet", area.csv())]).reason == "corrupt_file"


def test_damaged_xlsx_is_corrupt(area):
    book = openpyxl.Workbook()
    book.active.append(area.header.split(","))
    buf = io.BytesIO()
    book.save(buf)
    err = refuse(area, [area.write("a.xlsx", buf.getvalue()[: len(buf.getvalue()) // 2])])
    assert err.reason == "corrupt_file" and "XLSX" in err.en


def test_type_mismatch_names_line_and_column_not_value(area):
    rows = list(area.rows)
    rows[3] = rows[3].replace("1939-01-01", "1939-13-45")
    err = refuse(area, [area.write("a.csv", area.csv(rows))])
    assert (err.reason, err.file, err.line, err.column) == ("type_mismatch", "a.csv", 5, "birth_date")
    assert err.zh == "文件 a.csv 第 5 行列 birth_date 的值无法解析为日期（YYYY-MM-DD）"
    assert err.en == "file a.csv line 5 column birth_date: value is not a valid date (YYYY-MM-DD)"
    assert "1939-13-45" not in str(err) and "1939-13-45" not in json.dumps(err.as_dict())


@pytest.mark.parametrize(
    ("column", "good", "bad"),
    [
        ("household_size", ",3,", ",3.5,"),
        ("household_size", ",3,", ",0x1F,"),
        ("income", ",1200.5,", ",NaN,"),
        ("income", ",1200.5,", ",1,200,"),
        ("is_disabled", ",否,", ",maybe,"),
        ("registered_at", ",2024-01-02 08:00:00,", ",2024-01-02T08:00:00+08:00,"),
        ("registered_at", ",2024-01-02 08:00:00,", ",2024-01-02 25:00:00,"),
        ("household_size", ",3,", ",99999999999999999999,"),
    ],
)
def test_each_type_refuses_values_outside_its_grammar(area, column, good, bad):
    rows = list(area.rows)
    rows[0] = rows[0].replace(good, bad)
    err = refuse(area, [area.write("a.csv", area.csv(rows))])
    if bad == ",1,200,":  # an unquoted thousands separator adds a field
        assert (err.reason, err.line) == ("malformed_row", 2)
    else:
        assert (err.reason, err.line, err.column) == ("type_mismatch", 2, column)


def test_earliest_bad_row_is_reported(area):
    rows = list(area.rows)
    rows[4] = rows[4].replace("P005,陈静,,2", "P005,陈静,,x")
    rows[2] = rows[2].replace(",880,", ",abc,")
    err = refuse(area, [area.write("a.csv", area.csv(rows))])
    assert (err.line, err.column) == (4, "income")


def test_line_numbers_count_quoted_newlines_and_blank_lines(area):
    rows = [
        area.rows[0],
        'P002,"李\n娜",1948-11-30,1,,是,2024-01-03 09:30:00,420202',
        "",
        area.rows[2].replace("880", "八百"),
    ]
    err = refuse(area, [area.write("a.csv", area.csv(rows))])
    assert (err.line, err.column) == (6, "income")
    assert "第 6 行" in err.zh
    crlf = refuse(area, [area.write("b.csv", area.csv(rows).replace("\n", "\r\n"), encoding="gbk")])
    assert (crlf.line, crlf.column) == (6, "income")


def test_parquet_value_errors_name_the_record(area):
    table = pa.table(
        {
            "person_id": ["P1", "P2"],
            "name": ["甲", "乙"],
            "birth_date": ["1950-01-01", "1950-02-30"],
            "household_size": [1, 2],
            "income": [1.0, 2.0],
            "is_disabled": [True, False],
            "registered_at": ["2024-01-01", None],
            "district_code": ["420281", "420281"],
        }
    )
    path = area.write("a.parquet", b"")
    pq.write_table(table, path)
    err = refuse(area, [path])
    assert (err.reason, err.line, err.column) == ("type_mismatch", None, "birth_date")
    assert "第 2 条记录" in err.zh and "record 2" in err.en


def test_parquet_column_of_wrong_kind(area):
    table = pa.table(
        {c.name: pa.array([[1]] if c.name == "income" else ["x"]) for c in area.dataset().columns}
    )
    path = area.write("a.parquet", b"")
    pq.write_table(table, path)
    err = refuse(area, [path])
    assert (err.reason, err.column) == ("type_mismatch", "income")
    assert "list<" in err.en


def test_missing_and_unexpected_columns(area):
    header = area.header.replace("income", "salary").replace(",district_code", "")
    rows = [r.rsplit(",", 1)[0] for r in area.rows]
    err = refuse(area, [area.write("a.csv", area.csv(rows, header))])
    assert err.reason == "schema_mismatch" and err.column == "income"
    assert "缺少列 income、district_code" in err.zh and "多出列 salary" in err.zh
    assert "missing income, district_code" in err.en and "unexpected salary" in err.en


def test_duplicated_column(area):
    err = refuse(area, [area.write("a.csv", area.csv([r + ",x" for r in area.rows], area.header + ",name"))])
    assert err.reason == "schema_mismatch" and "duplicated name" in err.en


def test_headerless_file_does_not_echo_its_first_row(area):
    err = refuse(area, [area.write("a.csv", "\n".join(area.rows) + "\n")])
    assert err.reason == "schema_mismatch"
    assert "张伟" not in str(err) and "P001" not in str(err)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n"])
def test_empty_file(area, content):
    err = refuse(area, [area.write("a.csv", content)])
    assert err.reason == "empty" and err.file == "a.csv"


def test_header_only_is_empty(area):
    for name, content in [("a.csv", area.header + "\n"), ("b.jsonl", "\n")]:
        err = refuse(area, [area.write(name, content)])
        assert err.reason == "empty" and err.file == name


def test_header_only_xlsx_and_parquet_are_empty(area):
    book = openpyxl.Workbook()
    book.active.append(area.header.split(","))
    xlsx = area.root / "uploads" / "a.xlsx"
    xlsx.parent.mkdir(parents=True)
    book.save(xlsx)
    assert refuse(area, [xlsx]).reason == "empty"
    parquet = area.write("a.parquet", b"")
    pq.write_table(pa.table({c: pa.array([], pa.string()) for c in area.header.split(",")}), parquet)
    assert refuse(area, [parquet]).reason == "empty"


def test_ragged_row(area):
    rows = list(area.rows)
    rows[2] = rows[2].rsplit(",", 2)[0]
    err = refuse(area, [area.write("a.csv", area.csv(rows))])
    assert (err.reason, err.line) == ("malformed_row", 4)
    assert err.en == "file a.csv line 4 has 6 fields, the header has 8"


def test_ragged_xlsx_row(area):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(area.header.split(","))
    sheet.append(area.rows[0].split(",") + ["extra"])
    xlsx = area.root / "uploads" / "a.xlsx"
    xlsx.parent.mkdir(parents=True)
    book.save(xlsx)
    err = refuse(area, [xlsx])
    assert (err.reason, err.line) == ("malformed_row", 2)


def test_jsonl_bad_line(area):
    good = json.dumps(
        dict(zip(area.header.split(","), area.rows[0].split(","), strict=True)), ensure_ascii=False
    )
    err = refuse(area, [area.write("a.jsonl", f"{good}\n\n{good[:-5]}\n")])
    assert (err.reason, err.line) == ("malformed_row", 3)


def test_undecodable_utf8_beyond_the_sample(area):
    filler = [f"Q{i:05d},某某,1950-01-01,1,1,0,2024-01-01,420281" for i in range(3000)]
    body = area.csv(filler).encode()
    path = area.write("a.csv", body + b"P9," + "李".encode("gbk") + b",1950-01-01,1,1,0,2024-01-01,420281\n")
    err = refuse(area, [path])
    assert (err.reason, err.line) == ("undecodable", 3002)
    assert f"字节偏移 {len(body) + 3}" in err.zh


def test_invalid_gbk_bytes(area):
    body = area.csv().encode("gbk")
    err = refuse(area, [area.write("a.csv", body + b"P9,\x81\x20,1950-01-01,1,1,0,2024-01-01,420281\n")])
    assert (err.reason, err.line) == ("undecodable", 7)
    assert "GB18030" in err.en


def test_foreign_encoding_is_refused(area):
    err = refuse(area, [area.write("a.csv", area.csv().encode("utf-16"))])
    assert err.reason == "undecodable" and "utf-16" in err.en


def test_unsupported_format(area):
    err = refuse(area, [area.write("a.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)])
    assert err.reason == "unsupported_format"


def test_duplicate_keys_above_policy(area):
    rows = [*area.rows, area.rows[0], area.rows[1]]
    dataset = dataclasses.replace(area.dataset(), max_duplicate_key_rate=0.2)
    err = refuse(area, [area.write("a.csv", area.csv(rows))], dataset=dataset)
    assert err.reason == "duplicate_keys" and err.column == "person_id"
    assert err.en == (
        "dataset hukou_population: 2 row(s) (28.57%) repeat an earlier key (person_id), above the allowed 20.00%"
    )
    assert "P001" not in str(err)


def test_one_bad_file_refuses_the_whole_upload(area):
    good = area.write("a.csv", area.csv())
    bad = area.write("b.csv", area.csv(area.rows[:1], area.header.replace("name", "姓名")))
    err = refuse(area, [good, bad])
    assert err.file == "b.csv"
    kept = Path(err.quarantine_path)
    assert sorted(p.name for p in kept.iterdir()) == ["a.csv", "b.csv", "reason.json"]
