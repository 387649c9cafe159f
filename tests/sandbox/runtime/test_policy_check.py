"""The static policy check: every rule fires with file, line and rule; clean jobs pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.policy_check import check_job, check_source

JOBS = Path(__file__).parents[3] / "jobs"


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(JOBS / "elderly_care_hotspots")


def rules(source: str, manifest) -> set[str]:
    return {f.rule for f in check_source(source, "job.py", manifest)}


HEADER = "from pyspark.sql import functions as F\n\n\ndef build(ctx):\n"


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ("    import os\n    return {}\n", "import"),
        ("    import socket\n    return {}\n", "import"),
        ("    from sandbox.gate import rules\n    return {}\n", "import"),
        ("    from pyspark.sql.functions import udf\n    return {}\n", "import"),
        ("    open('/etc/passwd')\n    return {}\n", "builtin"),
        ("    eval('1')\n    return {}\n", "builtin"),
        ("    getattr(ctx, 'x')\n    return {}\n", "builtin"),
        ("    print(ctx)\n    return {}\n", "builtin"),
        ("    x = ctx.__class__\n    return {}\n", "dunder"),
        ("    x = ctx._frames\n    return {}\n", "dunder"),
        ("    ctx.input('population').collect()\n    return {}\n", "action"),
        ("    ctx.input('population').toPandas()\n    return {}\n", "action"),
        ("    ctx.input('population').write.parquet('/tmp/x')\n    return {}\n", "action"),
        ("    ctx.input('population').rdd\n    return {}\n", "action"),
        ("    ctx.input('population').count()\n    return {}\n", "action"),
        ("    ctx.input('secret_table')\n    return {}\n", "input"),
        ("    alias = 'population'\n    ctx.input(alias)\n    return {}\n", "input"),
        ("    F.udf(lambda x: x)\n    return {}\n", "action"),
        ("    ctx.input = None\n    return {}\n", "mutation"),
    ],
)
def test_each_rule_fires(manifest, body, rule):
    assert rule in rules(HEADER + body, manifest)


def test_finding_names_file_line_and_rule(manifest):
    (finding,) = check_source(HEADER + "    return {}\n\n\nx = open('f')\n", "job.py", manifest)
    assert (finding.file, finding.line, finding.rule) == ("job.py", 8, "builtin")
    assert "open" in finding.en and "open" in finding.zh


def test_functions_module_aggregates_are_fine(manifest):
    source = (
        HEADER
        + "    df = ctx.input('population')\n    return {'x': df.groupBy('a').agg(F.count(F.lit(1)), F.first('b'))}\n"
    )
    assert check_source(source, "job.py", manifest) == []


def test_classes_and_decorators_are_refused(manifest):
    assert {"class"} <= rules("class A:\n    pass\n\n\ndef build(ctx):\n    return {}\n", manifest)


def test_missing_build_is_a_finding(manifest):
    assert rules("x = 1\n", manifest) == {"entry"}


@pytest.mark.parametrize("job", ["elderly_care_hotspots", "enterprise_loan_support", "rental_housing_supply"])
def test_shipped_jobs_pass(job):
    assert check_job(JOBS / job, load_manifest(JOBS / job)) == []


def test_extra_files_in_a_job_folder_are_findings(tmp_path):
    import shutil

    job = tmp_path / "job"
    shutil.copytree(JOBS / "rental_housing_supply", job)
    (job / "helper.py").write_text("import os\n")
    (job / "data.csv").write_text("a\n")
    found = {(f.file, f.rule) for f in check_job(job, load_manifest(job))}
    assert ("helper.py", "file") in found and ("data.csv", "file") in found
