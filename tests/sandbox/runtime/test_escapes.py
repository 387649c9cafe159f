"""A job written by an adversary who passed review tries every way out; each is stopped, and we assert where.

The layers, outermost first: the static policy check (not run here: these jobs would fail it), the
runtime guard in the job process (restricted builtins, actions refused), the jail (bubblewrap: no
home, no network, nothing writable), the plan endpoint (executes nothing), the Connect message check
(``protocheck``) and the analyzed-plan verifier (``verify``). Each test names the layer that held.
Every job here defeats the earlier layers on purpose (``_OS`` climbs out of the restricted builtins),
so a pass means the named layer alone stopped it.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from sandbox.runtime.execute import execute
from sandbox.runtime.manifest import load_manifest

JOBS = Path(__file__).parents[3] / "jobs"
AS_OF = date(2026, 6, 30)

#: Out of the restricted builtins into the real ``__import__``: the guard is not a boundary.
_OS = """
from pyspark.sql import functions as F

def _import(name):
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == 'catch_warnings':
            return cls()._module.__builtins__['__import__'](name)
"""
_OUTPUTS = "{'elderly_by_district': frame, 'oldest_old_by_community': frame}"


def _run(
    spark, raw: dict[str, Path], tmp_path: Path, body: str, *, production: bool = False, refused: bool = True,
    join_keys: str | None = None,
):  # fmt: skip
    job = tmp_path / "job"
    shutil.copytree(JOBS / "elderly_care_hotspots", job)
    (job / "job.py").write_text(body, encoding="utf-8")
    if join_keys:  # population may be joined on these too
        toml = (job / "job.toml").read_text(encoding="utf-8")
        declared = f'dataset = "hukou_population"\njoin_keys = {join_keys}\n'
        (job / "job.toml").write_text(
            toml.replace('dataset = "hukou_population"\n', declared), encoding="utf-8"
        )
    manifest = load_manifest(job)
    inputs = {i.alias: raw[i.dataset] for i in manifest.inputs}
    staging = tmp_path / "staging"
    staging.mkdir()
    result = execute(spark, job, manifest, inputs, staging, AS_OF,                      hash_entities=production)  # fmt: skip
    assert not refused or not list(staging.iterdir()), "a refused job wrote nothing to staging"
    return result


#: The columns both outputs need, so that only the attempt itself can be refused.
_COMPLETE = (".withColumn('age_band', F.lit('60-69')).withColumn('is_disabled', F.lit(0.0))"
             ".withColumn('is_severe', F.lit(0.0))")  # fmt: skip


def _body(statements: str, frame: str = "ctx.input('population')") -> str:
    indented = "".join(f"    {line}\n" for line in statements.strip().splitlines())
    return f"{_OS}\ndef build(ctx):\n{indented}    frame = ({frame}){_COMPLETE}\n    return {_OUTPUTS}\n"


# --- the jail: what the job process can reach once out of the restricted builtins -------------------


@pytest.mark.parametrize("production", [False, True], ids=["dev", "production"])
def test_reading_the_raw_data_meets_an_empty_filesystem(spark, raw_county, tmp_path, production):
    target = raw_county["hukou_population"]
    result = _run(spark, raw_county, tmp_path, _body(f"_import('os').listdir({str(target)!r})"),
                  production=production)  # fmt: skip
    assert (result.phase, result.error_type) == ("build", "FileNotFoundError"), result
    assert target.exists(), "the path exists outside the jail"


def test_the_home_and_the_platform_secrets_are_not_there(spark, raw_county, tmp_path):
    home = raw_county["hukou_population"].parents[1]
    result = _run(spark, raw_county, tmp_path, _body(f"_import('os').listdir({str(home)!r})"))
    assert (result.phase, result.error_type) == ("build", "FileNotFoundError")


def test_nothing_is_writable(spark, raw_county, tmp_path):
    result = _run(spark, raw_county, tmp_path, _body("_import('os').open('/job/dropped', 65)"))
    assert result.phase == "build" and result.error_type in ("OSError", "PermissionError"), result
    assert not (tmp_path / "job" / "dropped").exists()


def test_no_network_not_even_loopback_to_the_database(spark, raw_county, tmp_path):
    result = _run(spark, raw_county, tmp_path,
                  _body("_import('socket').create_connection(('127.0.0.1', 5432), timeout=2)"))  # fmt: skip
    assert result.phase == "build" and result.error_type in ("OSError", "ConnectionRefusedError"), result


def test_the_job_runs_as_nobody_without_capabilities(spark, raw_county, tmp_path):
    result = _run(spark, raw_county, tmp_path, _body("assert _import('os').getuid() != 65534, 'nobody'"))
    assert (result.phase, result.error_type, result.message) == ("build", "AssertionError", "nobody")


# --- the plan endpoint: the job's client may ask schemas, never run anything ----------------------


def test_the_endpoint_executes_nothing(spark, raw_county, tmp_path):
    result = _run(
        spark,
        raw_county,
        tmp_path,
        _body(
            "rows = ctx.input('population')._plan\nctx.input('population').sparkSession.sql('select 1').collect()"
        ),
    )
    assert result.phase == "build" and "executes nothing" in (result.message or ""), result


# --- the Connect message check: what the planner must not even see --------------------------------


@pytest.mark.parametrize(
    ("frame", "rule"),
    [
        ("ctx.input('population').sparkSession.read.parquet('/etc')", "data_source"),
        ("ctx.input('population').sparkSession.range(10)", "range"),
        ("ctx.input('population').sparkSession.read.table('disability_other')", "data_source"),
        (
            "ctx.input('population').groupBy('district_code').pivot('community_code').count()",
            "pivot_without_values",
        ),
    ],
    ids=["path", "range", "undeclared-table", "pivot-without-values"],
)
def test_sources_a_job_chose_itself_are_refused_before_planning(spark, raw_county, tmp_path, frame, rule):
    result = _run(spark, raw_county, tmp_path, _body("", frame))
    assert result.phase == "verify" and rule in {f["rule"] for f in result.findings}, result


def test_a_python_udf_is_refused_before_planning(spark, raw_county, tmp_path):
    frame = "ctx.input('population').withColumn('x', F.udf(lambda v: v)('id_number'))"
    result = _run(spark, raw_county, tmp_path, _body("", frame))
    assert result.phase == "verify", result
    assert {f["rule"] for f in result.findings} == {"common_inline_user_defined_function"}


# --- the analyzed-plan verifier: SQL strings and functions, after Spark parsed them -----------------


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("F.expr(\"reflect('java.lang.System', 'getenv', 'HOME')\")", "CallMethodViaReflection"),
        ("F.expr(\"java_method('java.lang.System', 'getenv', 'HOME')\")", "CallMethodViaReflection"),
        ("F.raise_error(F.col('id_number'))", "RaiseError"),
        ("F.expr(\"assert_true(district_code <> '420281')\")", "RaiseError"),
        ("F.input_file_name()", "InputFileName"),
        ("F.expr('(select max(id_number) from population)')", "ScalarSubquery"),
        ("F.sha2(F.col('id_number'), 256)", "Sha2"),
        ("F.col('district_code').rlike(F.col('community_code'))", "raise"),
    ],
    ids=[
        "reflect",
        "java_method",
        "raise_error",
        "assert_true",
        "input_file",
        "subquery",
        "hash",
        "data-regex",
    ],
)
def test_expressions_that_reach_the_jvm_or_fail_on_a_value_are_refused(
    spark, raw_county, tmp_path, expression, rule
):
    frame = f"ctx.input('population').withColumn('x', {expression})"
    result = _run(spark, raw_county, tmp_path, _body("", frame))
    assert result.phase == "verify", result
    assert rule in {f["rule"] for f in result.findings}, result.findings
    assert all(f["zh"] and f["en"] for f in result.findings)


def test_a_refusal_names_the_job_line(spark, raw_county, tmp_path):
    body = _body("people = ctx.input('population')", "people.withColumn('x', F.input_file_name())")
    line = body.splitlines().index(next(x for x in body.splitlines() if "input_file_name" in x)) + 1
    result = _run(spark, raw_county, tmp_path, body)
    assert {(f["rule"], f["line"]) for f in result.findings} == {("InputFileName", line)}


@pytest.mark.parametrize(
    "frame",
    [
        "ctx.input('population').withColumn('id_number', F.concat('id_number', F.lit('-1')))",
        "ctx.input('population').withColumn('id_number', F.col('district_code'))",
        "ctx.input('population').withColumn('id_number', F.lit('420281199001010011'))",
    ],
    ids=["rewritten", "another-column", "made-up"],
)
def test_an_entity_column_not_passed_through_is_refused(spark, raw_county, tmp_path, frame):
    result = _run(spark, raw_county, tmp_path, _body("", frame))
    assert result.phase == "verify" and {f["rule"] for f in result.findings} == {"entity"}, result


def test_a_cross_join_is_refused(spark, raw_county, tmp_path):
    frame = "ctx.input('population').crossJoin(ctx.input('disability').select('disability_level'))"
    result = _run(spark, raw_county, tmp_path, _body("", frame))
    assert result.phase == "verify" and "join" in {f["rule"] for f in result.findings}, result


# --- what data cannot decide ------------------------------------------------------------------------


def test_bad_casts_and_division_by_zero_become_nulls_not_failures(spark, raw_county, tmp_path):
    frame = ("ctx.input('population').withColumn('x', F.col('community_code').cast('int') / F.lit(0))"
             ".withColumn('y', F.to_date(F.col('community_code'), 'yyyy-MM-dd'))"
             ".withColumn('z', F.col('id_number').cast('decimal(3,0)') + 1)")  # fmt: skip
    result = _run(spark, raw_county, tmp_path, _body("", frame), refused=False)
    assert result.ok, result


def test_a_join_on_a_column_that_is_not_a_declared_key_is_refused(spark, raw_county, tmp_path):
    """Joining on something other than a key moves other people's values onto a person's rows."""
    others = "ctx.input('population').select('district_code', F.col('birth_date').alias('neighbour_birth'))"
    result = _run(
        spark, raw_county, tmp_path, _body("", f"ctx.input('population').join({others}, 'district_code')")
    )
    assert result.phase == "verify" and {f["rule"] for f in result.findings} == {"join"}, result
    assert any("district_code" in f["en"] and "join_keys" in f["en"] for f in result.findings)


def test_the_same_join_runs_once_the_manifest_declares_the_key(spark, raw_county, tmp_path):
    """Declared in job.toml, the key is in the review packet: the reviewer saw what it lets through."""
    others = "ctx.input('population').select('district_code', F.col('birth_date').alias('neighbour_birth'))"
    body = _body("", f"ctx.input('population').join({others}, 'district_code')")
    job = tmp_path / "declared"
    job.mkdir()
    result = _run(spark, raw_county, job, body, refused=False, join_keys='["district_code"]')
    assert result.ok, result


# --- moving one subject's values onto another's rows --------------------------------------------------


@pytest.mark.parametrize(
    "statements, frame, function",
    [
        ("neighbour = Window.partitionBy('district_code').orderBy('birth_date')",
         "ctx.input('population').withColumn('next_birth', F.lead('birth_date').over(neighbour))", "lead"),
        ("everyone = Window.orderBy('birth_date')",
         "ctx.input('population').withColumn('previous_id', F.lag('id_number').over(everyone))", "lag"),
        ("everyone = Window.partitionBy(F.lit(1))",
         "ctx.input('population').withColumn('oldest', F.min('birth_date').over(everyone))", "min"),
    ],
    ids=["lead-within-district", "lag-over-everyone", "aggregate-over-everyone"],
)  # fmt: skip
def test_a_window_across_subjects_is_refused_with_its_line(
    spark, raw_county, tmp_path, statements, frame, function
):
    """``lead``/``lag``/``min`` over other subjects puts their values on a subject's row, where the gate
    would count that subject for them; only the verifier sees it (the frame's entity is passed through)."""
    body = _body(statements, frame).replace("from pyspark.sql import functions as F\n",
                                            "from pyspark.sql import functions as F\nfrom pyspark.sql.window import Window\n")  # fmt: skip
    result = _run(spark, raw_county, tmp_path, body)
    line = body.splitlines().index(next(x for x in body.splitlines() if f"F.{function}(" in x)) + 1
    assert result.phase == "verify" and {(f["rule"], f["line"]) for f in result.findings} == {
        ("window", line)
    }, result


def test_a_window_over_a_declared_key_runs(spark, raw_county, tmp_path):
    """Declared in job.toml (the reviewer reads it), a key may partition a window as it may join."""
    body = _body("household = Window.partitionBy('district_code')",
                 "ctx.input('population').withColumn('n', F.count('*').over(household))")  # fmt: skip
    body = "from pyspark.sql.window import Window\n" + body
    result = _run(spark, raw_county, tmp_path, body, refused=False, join_keys='["district_code"]')
    assert result.ok, result


@pytest.mark.parametrize(
    "other",
    [
        "ctx.input('population').select(F.col('community_code').alias('id_number'), 'district_code', 'community_code', 'birth_date')",
        "ctx.input('disability').select(F.col('disability_level').cast('string').alias('id_number'), F.lit('x').alias('district_code'), F.lit('x').alias('community_code'), F.lit(None).cast('date').alias('birth_date'))",
    ],
    ids=["same-input", "another-input"],
)  # fmt: skip
def test_a_union_passing_another_column_off_as_the_subject_is_refused(spark, raw_county, tmp_path, other):
    """A union's columns carry the first side's names: the second side must not slip in a non-subject."""
    people = "ctx.input('population').select('id_number', 'district_code', 'community_code', 'birth_date')"
    result = _run(spark, raw_county, tmp_path, _body("", f"{people}.unionByName({other})"))
    assert result.phase == "verify" and {f["rule"] for f in result.findings} == {"entity"}, result
