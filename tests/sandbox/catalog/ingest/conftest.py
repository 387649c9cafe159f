"""Fixtures for ingest tests: a registered household dataset, an upload area per test, and one
Spark session for the whole run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sandbox.catalog.ingest import ConvertedVersion, ingest_files
from sandbox.domain.catalog import Column, ColumnRole, ColumnType, Dataset, ProvisionMethod, UpdateCycle

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

HEADER = "person_id,name,birth_date,household_size,income,is_disabled,registered_at,district_code"
ROWS = [
    "P001,张伟,1950-03-02,3,1200.5,否,2024-01-02 08:00:00,420281",
    "P002,李娜,1948-11-30,1,,是,2024-01-03T09:30:00,420202",
    "P003,王秀英,1962-07-15,,880,false,2024-02-01 10:15:30.25,420281",
    "P004,刘强,1939-01-01,5,0.75,1,2024-03-04,420203",
    "P005,陈静,,2,3000,0,,420281",
]


def household() -> Dataset:
    col = Column
    return Dataset(
        id="hukou_population",
        title="户籍人口",
        provider="dy_police",
        update_cycle=UpdateCycle.MONTHLY,
        provision=(ProvisionMethod.FILE,),
        keys=("person_id",),
        columns=(
            col("person_id", "人员编号", ColumnType.STRING, ColumnRole.DIRECT_ID),
            col("name", "姓名", ColumnType.STRING, ColumnRole.DIRECT_ID),
            col("birth_date", "出生日期", ColumnType.DATE, ColumnRole.QUASI_ID),
            col("household_size", "户内人数", ColumnType.INTEGER, ColumnRole.ATTRIBUTE),
            col("income", "月收入", ColumnType.DOUBLE, ColumnRole.SENSITIVE),
            col("is_disabled", "是否残疾", ColumnType.BOOLEAN, ColumnRole.SENSITIVE),
            col("registered_at", "登记时间", ColumnType.TIMESTAMP, ColumnRole.ATTRIBUTE),
            col("district_code", "行政区划", ColumnType.STRING, ColumnRole.QUASI_ID),
        ),
    )


def csv_text(rows: list[str] = ROWS, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@dataclass
class Area:
    """An upload directory plus the raw, quarantine and work roots of one test."""

    root: Path
    header = HEADER
    rows = ROWS

    @staticmethod
    def dataset() -> Dataset:
        return household()

    @staticmethod
    def csv(rows: list[str] = ROWS, header: str = HEADER) -> str:
        return csv_text(rows, header)

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def write(self, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.root / "uploads" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    def ingest(
        self, files: list[Path], dataset: Dataset | None = None, version: str = "v1", **kw
    ) -> ConvertedVersion:
        return ingest_files(
            dataset or household(),
            files,
            target_dir=self.root / "raw" / version,
            quarantine_root=self.quarantine,
            work_dir=self.root / "work",
            **kw,
        )

    def table(self, version: str = "v1"):
        return pq.read_table(self.root / "raw" / version)

    def chunks(self, version: str = "v1"):
        """The Parquet column chunks' metadata of every row group of every file of a version."""
        for part in sorted((self.root / "raw" / version).iterdir()):
            meta = pq.ParquetFile(part).metadata
            for g in range(meta.num_row_groups):
                yield from (meta.row_group(g).column(c) for c in range(meta.num_columns))

    def footer_min_max(self, version: str = "v1") -> set[str]:
        """Columns whose min/max appear in the Parquet footers of a version."""
        return {
            c.path_in_schema
            for c in self.chunks(version)
            if c.statistics is not None and c.statistics.has_min_max
        }

    def dictionary_encoded(self, version: str = "v1") -> set[str]:
        """Columns stored with a Parquet dictionary in some row group of a version."""
        return {
            c.path_in_schema
            for c in self.chunks(version)
            if {"RLE_DICTIONARY", "PLAIN_DICTIONARY"} & set(c.encodings)
        }

    def staging_left(self) -> list[Path]:
        work = self.root / "work"
        return [p for p in work.iterdir() if p.name.startswith(".ingest-")] if work.exists() else []


@pytest.fixture
def area(tmp_path) -> Area:
    return Area(tmp_path)
