"""What the demo scenarios' developers would plausibly write runs: the allowlist must not stop real work.

Each job below uses constructs the plan verifier has to let through — windows partitioned by the
entity, joins on keys, date arithmetic, string normalization, de-duplication, unions, SQL strings —
and its frames are checked against what the same logic gives in pandas where that is short to say.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sandbox.runtime.execute import execute
from sandbox.runtime.manifest import load_manifest

JOBS = Path(__file__).parents[3] / "jobs"
AS_OF = date(2026, 6, 30)
_HEAD = "from pyspark.sql import functions as F\nfrom pyspark.sql.window import Window\n\n"
_TAIL = """
    frame = frame.select('id_number', 'district_code', 'community_code', 'age_band', 'is_disabled', 'is_severe')
    return {'elderly_by_district': frame, 'oldest_old_by_community': frame}
"""

JOBS_UNDER_TEST = {
    "latest-record-per-person": """
def build(ctx):
    levels = ctx.input('disability')
    latest = Window.partitionBy('id_number').orderBy(F.col('disability_level').asc())
    best = levels.withColumn('rank', F.row_number().over(latest)).where(F.col('rank') == 1)
    people = ctx.input('population').join(best, on='id_number', how='left')
    frame = (people.withColumn('is_disabled', F.when(F.col('disability_level').isNotNull(), 1.0).otherwise(0.0))
             .withColumn('is_severe', F.when(F.col('disability_level') <= 2, 1.0).otherwise(0.0))
             .withColumn('age_band', F.lit('60-69')))
""",
    "dates-and-strings": """
def build(ctx):
    people = ctx.input('population').dropDuplicates(['id_number'])
    years = F.floor(F.datediff(F.lit(ctx.as_of), F.col('birth_date')) / 365.25)
    frame = (people.withColumn('district_code', F.upper(F.trim(F.regexp_replace('district_code', r'\\\\s+', ''))))
             .withColumn('community_code', F.substring('community_code', 1, 12))
             .withColumn('age_band', F.when(years < 70, '60-69').when(years < 80, '70-79').otherwise('80+'))
             .withColumn('month_of_birth', F.month(F.add_months('birth_date', 1)))
             .withColumn('is_disabled', F.lit(0.0)).withColumn('is_severe', F.lit(0.0)))
""",
    "sql-strings-and-a-union": """
def build(ctx):
    people = ctx.input('population').where("birth_date IS NOT NULL AND district_code LIKE '42%'")
    again = ctx.input('population').where(F.expr('birth_date IS NULL'))
    frame = (people.unionByName(again)
             .withColumn('age_band', F.expr("CASE WHEN year(birth_date) < 1950 THEN '80+' ELSE '60-69' END"))
             .withColumn('is_disabled', F.expr('CAST(0 AS DOUBLE)'))
             .withColumn('is_severe', F.coalesce(F.lit(None).cast('double'), F.lit(0.0))))
""",
    "entity-level-aggregates": """
def build(ctx):
    per_person = ctx.input('disability').groupBy('id_number').agg(
        F.count('*').alias('records'), F.min('disability_level').alias('best'))
    frame = (ctx.input('population').join(per_person, 'id_number', 'left')
             .fillna({'records': 0})
             .withColumn('is_disabled', (F.col('records') > 0).cast('double'))
             .withColumn('is_severe', F.when(F.col('best').isin(1, 2), 1.0).otherwise(0.0))
             .withColumn('age_band', F.lit('70-79')))
""",
}


@pytest.mark.parametrize("name", sorted(JOBS_UNDER_TEST))
def test_real_work_passes_the_verifier_and_runs(spark, raw_county, tmp_path, name):
    job = tmp_path / "job"
    shutil.copytree(JOBS / "elderly_care_hotspots", job)
    (job / "job.py").write_text(_HEAD + JOBS_UNDER_TEST[name].lstrip() + _TAIL, encoding="utf-8")
    manifest = load_manifest(job)
    inputs = {i.alias: raw_county[i.dataset] for i in manifest.inputs}
    staging = tmp_path / "staging"
    staging.mkdir()
    result = execute(spark, job, manifest, inputs, staging, AS_OF)
    assert result.ok, result
    frame = pd.read_parquet(staging / "elderly_by_district")
    people = pd.read_parquet(raw_county["hukou_population"])
    if name == "latest-record-per-person":
        disabled = set(pd.read_parquet(raw_county["disability_records"])["id_number"])
        assert len(frame) == len(people)
        assert frame["is_disabled"].sum() == people["id_number"].isin(disabled).sum()
    elif name == "dates-and-strings":
        assert len(frame) == people["id_number"].nunique()
    elif name == "sql-strings-and-a-union":
        expected = people["birth_date"].isna() | people["district_code"].str.startswith("42")
        assert len(frame) == expected.sum()
    else:
        assert len(frame) == len(people) and set(frame["is_disabled"]) <= {0.0, 1.0}
