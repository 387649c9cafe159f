"""Running a job's build on real Spark: frames as declared, errors reduced to type and line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from sandbox.runtime.execute import _staged_entity, execute
from sandbox.runtime.manifest import load_manifest

JOBS = Path(__file__).parents[3] / "jobs"
AS_OF = date(2026, 6, 30)


def _run(
    spark, job_dir: Path, raw: dict[str, Path], tmp_path: Path, staging_name: str = "staging", **options
):
    manifest = load_manifest(job_dir)
    inputs = {i.alias: raw[i.dataset] for i in manifest.inputs}
    staging = tmp_path / staging_name
    staging.mkdir(exist_ok=True)
    return execute(spark, job_dir, manifest, inputs, staging, AS_OF, **options), staging


def _job(tmp_path: Path, body: str) -> Path:
    job = tmp_path / "job"
    shutil.copytree(JOBS / "elderly_care_hotspots", job)
    (job / "job.py").write_text(body, encoding="utf-8")
    return job


def test_elderly_job_frames_match_an_independent_computation(spark, raw_county, tmp_path):
    result, staging = _run(spark, JOBS / "elderly_care_hotspots", raw_county, tmp_path)
    assert result.ok, result
    frame = pd.read_parquet(staging / "elderly_by_district")
    assert list(frame.columns) == ["id_number", "district_code", "age_band", "is_disabled", "is_severe"]
    people = pd.read_parquet(raw_county["hukou_population"]).dropna(subset=["birth_date"])
    birth = pd.to_datetime(people["birth_date"])
    age = (AS_OF.year - birth.dt.year) - (
        (birth.dt.month > AS_OF.month) | ((birth.dt.month == AS_OF.month) & (birth.dt.day > AS_OF.day))
    )
    elderly = people[age >= 60]
    assert len(frame) == len(elderly)
    disabled_ids = set(pd.read_parquet(raw_county["disability_records"])["id_number"])
    expected = elderly["id_number"].isin(disabled_ids).sum()
    assert frame["is_disabled"].sum() == expected
    assert set(frame["age_band"]) <= {"60-69", "70-79", "80+"}


def test_production_stages_text_entities_as_their_hashes(spark, raw_county, tmp_path):
    job = JOBS / "elderly_care_hotspots"
    _, plain = _run(spark, job, raw_county, tmp_path)
    result, hashed = _run(spark, job, raw_county, tmp_path, "hashed", hash_entities=True)
    assert result.ok, result
    for output in ("elderly_by_district", "oldest_old_by_community"):
        ids = spark.read.parquet(str(plain / output))
        staged = spark.read.parquet(str(hashed / output))
        assert staged.schema["id_number"].dataType.simpleString() == "bigint"
        expected = sorted(r[0] for r in ids.select(F.xxhash64("id_number")).collect())
        assert sorted(r[0] for r in staged.select("id_number").collect()) == expected
        assert staged.select("id_number").distinct().count() == ids.select("id_number").distinct().count()


def test_a_missing_entity_stays_missing_and_integers_stay_as_they_are(spark):
    frame = spark.createDataFrame([("a", 1), (None, None), ("a", 1), ("b", 2)], "e string, n long")
    hashed = [r[0] for r in frame.select(_staged_entity(frame, "e")).collect()]
    assert hashed[1] is None and hashed[0] == hashed[2] != hashed[3]
    assert [r[0] for r in frame.select(_staged_entity(frame, "n")).collect()] == [1, None, 1, 2]


def test_only_declared_columns_reach_the_job(spark, raw_county, tmp_path):
    job = _job(tmp_path, "def build(ctx):\n    df = ctx.input('population')\n"
               "    return {'elderly_by_district': df.select('id_number', 'name'), 'oldest_old_by_community': df}\n")  # fmt: skip
    result, _ = _run(spark, job, raw_county, tmp_path)
    assert (result.ok, result.phase) == (False, "verify")
    [finding] = result.findings
    assert (finding["rule"], finding["line"]) == ("analysis", 3) and "`name`" in finding["en"]


def test_a_build_failure_is_shown_whole_for_nothing_in_the_job_process_saw_data(spark, raw_county, tmp_path):
    job = _job(tmp_path, "def build(ctx):\n    why = 'no such band'\n    raise ValueError(why)\n")
    result, _ = _run(spark, job, raw_county, tmp_path)
    assert (result.ok, result.phase, result.error_type, result.error_line) == (
        False,
        "build",
        "ValueError",
        3,
    )
    assert result.message == "no such band" and 'File "/job/job.py", line 3' in result.job_traceback


def test_actions_are_refused_at_run_time_too(spark, raw_county, tmp_path):
    job = _job(tmp_path, "def build(ctx):\n    rows = ctx.input('population').collect()\n    return {}\n")
    result, _ = _run(spark, job, raw_county, tmp_path)
    assert (result.error_type, result.error_line) == ("PolicyViolation", 2)
    assert ctx_actions_restored(spark)


def ctx_actions_restored(spark) -> bool:
    return spark.range(3).count() == 3


def test_imports_outside_the_allowlist_fail_at_run_time(spark, raw_county, tmp_path):
    job = _job(tmp_path, "def build(ctx):\n    import os\n    return {}\n")
    result, _ = _run(spark, job, raw_county, tmp_path)
    assert (result.error_type, result.error_line) == ("PolicyViolation", 2)


def test_open_is_not_even_a_name_at_run_time(spark, raw_county, tmp_path):
    job = _job(tmp_path, "def build(ctx):\n    open('/etc/hostname')\n    return {}\n")
    result, _ = _run(spark, job, raw_county, tmp_path)
    assert (result.error_type, result.error_line) == ("NameError", 2)


@pytest.mark.parametrize("job", ["enterprise_loan_support", "rental_housing_supply"])
def test_other_jobs_run(spark, raw_county, tmp_path, job):
    result, staging = _run(spark, JOBS / job, raw_county, tmp_path)
    assert result.ok, result
    for output in result.outputs:
        assert len(pd.read_parquet(staging / output)) > 0
