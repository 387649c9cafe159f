"""Cell hygiene: control characters and oversized text cells are refused, in every format and on
both engines, with file, line (or record) and column, never the value; line breaks and tabs are text."""

from __future__ import annotations

import io
import json

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox.catalog.ingest.hygiene import MAX_FIELD_CHARS, has_control_bytes
from sandbox.domain.errors import IngestRejected

NAME_ROW = 2  # rows[2] holds 王秀英: line 4 of a CSV (header first), line 3 of JSON Lines, record 3


def _with_name(area, name: str) -> list[str]:
    rows = list(area.rows)
    rows[NAME_ROW] = rows[NAME_ROW].replace("王秀英", name)
    return rows


def _records(area, name: str) -> list[dict]:
    header = area.header.split(",")
    records = [dict(zip(header, row.split(","), strict=True)) for row in area.rows]
    records[NAME_ROW]["name"] = name
    return records


def csv_upload(area, name: str, encoding: str = "utf-8", bom: bool = False) -> tuple[str, bytes]:
    data = area.csv(_with_name(area, name)).encode(encoding)
    return "a.csv", (b"\xef\xbb\xbf" if bom else b"") + data


def jsonl_upload(area, name: str) -> tuple[str, bytes]:
    lines = [json.dumps(r, ensure_ascii=False) for r in _records(area, name)]  # control characters as \\u00XX
    return "a.jsonl", "\n".join(lines).encode()


def xlsx_upload(area, excel_text: str) -> tuple[str, bytes]:
    """``excel_text`` as Excel stores it: a control character as ``_xHHHH_``."""
    book = openpyxl.Workbook()
    book.active.append(area.header.split(","))
    for record in _records(area, excel_text):
        book.active.append(list(record.values()))
    buf = io.BytesIO()
    book.save(buf)
    return "a.xlsx", buf.getvalue()


def parquet_upload(area, name: str) -> tuple[str, bytes]:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(_records(area, name)), buf)
    return "a.parquet", buf.getvalue()


#: upload kind -> (make(area, cell value) -> (file name, bytes), line of the value's row)
UPLOADS = {
    "csv-utf8": (lambda area, v: csv_upload(area, v), 4),
    "csv-utf8-bom": (lambda area, v: csv_upload(area, v, bom=True), 4),
    "csv-gb18030": (lambda area, v: csv_upload(area, v, encoding="gb18030"), 4),
    "jsonl": (jsonl_upload, 3),
    "xlsx": (xlsx_upload, 4),
    "parquet": (parquet_upload, None),
}


def as_stored(upload: str, value: str) -> str:
    """``value`` as each format writes it: CSV quotes a value with line breaks; Excel escapes
    control characters and CR as ``_xHHHH_`` (LF and TAB stay)."""
    if upload.startswith("csv") and ("\n" in value or "\r" in value):
        return f'"{value}"'
    if upload == "xlsx":
        return "".join(f"_x{ord(c):04X}_" if ord(c) < 0x20 and c not in "\t\n" else c for c in value)
    return value


def refuse(area, name: str, content: bytes, **kw) -> IngestRejected:
    with pytest.raises(IngestRejected) as info:
        area.ingest([area.write(name, content)], **kw)
    err = info.value
    assert err.quarantine_path is not None
    assert not (area.root / "raw" / "v1").exists() and area.staging_left() == []
    assert "秀英" not in err.zh + err.en  # located, never quoted
    return err


@pytest.mark.parametrize("upload", sorted(UPLOADS))
@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_control_characters_are_refused_in_every_format(area, upload, char):
    make, line = UPLOADS[upload]
    err = refuse(area, *make(area, as_stored(upload, f"王{char}秀英")))
    assert (err.reason, err.line, err.column) == ("control_character", line, "name")
    assert err.file in err.en and "control character" in err.en and "控制字符" in err.zh
    assert (f"line {line}" if line else f"record {NAME_ROW + 1}") in err.en


@pytest.mark.parametrize("upload", sorted(UPLOADS))
def test_tab_and_line_breaks_are_text_and_kept_exactly(area, upload):
    make, _ = UPLOADS[upload]
    area.ingest([area.write(*make(area, as_stored(upload, "王\t秀\r\n英")))])
    assert area.table().column("name").to_pylist()[NAME_ROW] == "王\t秀\r\n英"


def test_a_control_character_in_a_typed_column_is_a_type_mismatch(area):
    rows = list(area.rows)
    rows[0] = rows[0].replace(",3,", ",3\x00,")
    err = refuse(area, "a.csv", area.csv(rows).encode())
    assert (err.reason, err.line, err.column) == ("type_mismatch", 2, "household_size")


def test_earliest_cell_wins_whatever_its_fault(area):
    rows = _with_name(area, "王\x00秀英")
    rows[1] = rows[1].replace("1948-11-30", "1948-11-31")
    err = refuse(area, "a.csv", area.csv(rows).encode())
    assert (err.reason, err.line, err.column) == ("type_mismatch", 3, "birth_date")


@pytest.mark.parametrize("upload", ["csv-utf8", "csv-gb18030", "jsonl", "parquet"])
def test_oversized_field_names_its_line_and_column(area, upload):
    make, line = UPLOADS[upload]
    err = refuse(area, *make(area, "长" * 22), max_field_chars=21)
    assert (err.reason, err.line, err.column) == ("oversized_field", line, "name")
    assert "21" in err.en and "longer than" in err.en and "超过" in err.zh
    area.ingest([area.write(*make(area, "长" * 21))], max_field_chars=21)


def test_default_limit_is_excels_cell_limit(area):
    assert MAX_FIELD_CHARS == 32_767
    rows = list(area.rows)
    rows[3] = rows[3].replace("刘强", "x" * (MAX_FIELD_CHARS + 1))
    err = refuse(area, "a.csv", area.csv(rows).encode())
    assert (err.reason, err.line, err.column) == ("oversized_field", 5, "name")
    rows[3] = rows[3].replace("x" * (MAX_FIELD_CHARS + 1), "x" * MAX_FIELD_CHARS)
    area.ingest([area.write("b.csv", area.csv(rows))])


def test_unclosed_quote_is_refused_at_the_line_it_opens(area):
    """A quote left open in the last column swallows every following line into one field."""
    rows = [*area.rows, *(f"Q{i:03d},某某,1950-01-01,1,1,0,2024-01-01,420281" for i in range(40))]
    rows[1] = rows[1].replace(",420202", ',"420202')
    err = refuse(area, "a.csv", area.csv(rows).encode(), max_field_chars=1000)
    assert (err.reason, err.line, err.column) == ("oversized_field", 3, "district_code")


def test_byte_scan_finds_exactly_the_refused_characters():
    allowed = '数据\t\r\n,"x'.encode() + "数据".encode("gb18030")
    assert not has_control_bytes(allowed * 100_000)
    for code in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]:
        assert has_control_bytes(allowed * 70_000 + bytes([code]) + allowed)


# -- the Spark engine (threshold 0) refuses alike ---------------------------------------------

SPARK = {"spark_threshold_bytes": 0}


def both_refuse(area, spark, name: str, content: bytes, **kw) -> IngestRejected:
    arrow = refuse(area, name, content, **kw)
    on_spark = refuse(area, name, content, spark_factory=lambda: spark, **SPARK, **kw)
    located = [(e.reason, e.file, e.line, e.column, e.zh, e.en) for e in (arrow, on_spark)]
    assert located[0] == located[1]
    return on_spark


@pytest.mark.spark
@pytest.mark.parametrize("upload", ["csv-utf8", "csv-utf8-bom", "csv-gb18030"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1f"])
def test_spark_refuses_control_characters_alike(area, spark, upload, char):
    make, line = UPLOADS[upload]
    err = both_refuse(area, spark, *make(area, f"王{char}秀英"))
    assert (err.reason, err.line, err.column) == ("control_character", line, "name")


@pytest.mark.spark
def test_spark_refuses_oversized_fields_and_unclosed_quotes_alike(area, spark):
    err = both_refuse(area, spark, *csv_upload(area, "长" * 22), max_field_chars=21)
    assert (err.reason, err.line, err.column) == ("oversized_field", 4, "name")
    rows = [*area.rows, *(f"Q{i:03d},某某,1950-01-01,1,1,0,2024-01-01,420281" for i in range(40))]
    rows[1] = rows[1].replace(",420202", ',"420202')
    err = both_refuse(area, spark, "q.csv", area.csv(rows).encode(), max_field_chars=1000)
    assert (err.reason, err.line, err.column) == ("oversized_field", 3, "district_code")


@pytest.mark.spark
def test_spark_keeps_tabs_and_quoted_line_breaks(area, spark):
    rows = _with_name(area, '"王\t秀\r\n英"')
    version = area.ingest([area.write("a.csv", area.csv(rows))], spark_factory=lambda: spark, **SPARK)
    assert version.engine == "spark"
    assert "王\t秀\r\n英" in area.table().column("name").to_pylist()
