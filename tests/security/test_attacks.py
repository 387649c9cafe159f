"""The attack corpus: adversarial jobs, each trying one way out, each blocked — by a named layer.

Every test states the layer that must stop the attack and checks that what the attacker wanted
(identifiers, single people's values, raw rows) is absent from anything that would leave.
"""

from __future__ import annotations

import json

import pytest

from .conftest import raw_values

pytestmark = pytest.mark.slow

POPULATION = """
[inputs.population]
dataset = "hukou_population"
columns = ["id_number", "birth_date", "gender", "district_code", "community_code"]
"""
HEAD = 'id = "attack"\ntitle = "attack"\nscenario = "elderly-care"\nentry = "job.py"\n' + POPULATION
IMPORTS = "from pyspark.sql import functions as F\n\n\n"


def output(
    name: str, dims: str, measures: str = '{ name = "people", agg = "count" }', extra: str = ""
) -> str:
    return (
        f'\n[outputs.{name}]\nentity = "id_number"\ndimensions = [{dims}]\nmeasures = [{measures}]\n{extra}\n'
    )


DISTRICT_DOMAIN = '[outputs.{0}.domains]\ndistrict_code = {{ code_table = "division_district" }}\n'


def test_identifier_as_a_dimension_is_refused_by_the_manifest(attack):
    outcome = attack.run(
        HEAD + output("o", '"id_number"'),
        IMPORTS + "def build(ctx):\n    return {'o': ctx.input('population')}\n",
    )
    assert outcome.blocked_by == "manifest" and "can never be a dimension" in outcome.error.en


def test_pseudonym_copy_of_the_identifier_as_a_dimension_is_refused_by_the_gate(attack, raw_county):
    toml = HEAD + output(
        "o", '"who"', extra='[outputs.o.domains]\nwho = { code_table = "division_community" }\n'
    )
    code = (
        IMPORTS
        + "def build(ctx):\n    df = ctx.input('population')\n    return {'o': df.withColumn('who', F.col('id_number'))}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate"
    for value in raw_values(raw_county, "hukou_population", "id_number"):
        assert value not in outcome.released_text


def test_one_entity_per_cell_is_suppressed_by_threshold(attack):
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    code = IMPORTS + (
        "def build(ctx):\n    df = ctx.input('population')\n"
        "    crowd = df.where(F.col('district_code') == '429902').limit(30)\n"
        "    alone = df.where(F.col('district_code') == '429903').limit(1)\n"
        "    return {'o': crowd.unionByName(alone)}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate"
    cells = {c.key: c for c in outcome.gate.outputs["o"].cells}
    assert cells[("429903",)].decision.value == "suppressed"
    assert "threshold" in {r.rule.value for r in cells[("429903",)].reasons}
    assert cells[("429902",)].values["people"] == 30


def test_a_dimension_unique_per_person_is_refused(attack, raw_county):
    toml = HEAD + output("o", '"born"', extra='[outputs.o.domains]\nborn = ["x"]\n')
    code = IMPORTS + (
        "def build(ctx):\n    df = ctx.input('population')\n"
        "    return {'o': df.withColumn('born', F.concat_ws('|', 'birth_date', 'id_number'))}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate"
    assert outcome.gate.outputs["o"].released == [] or outcome.gate.refused_outputs
    for value in raw_values(raw_county, "hukou_population", "id_number"):
        assert value not in outcome.released_text


def test_undeclared_domain_is_refused(attack):
    toml = HEAD + output("o", '"birth_date"')
    code = IMPORTS + "def build(ctx):\n    return {'o': ctx.input('population')}\n"
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate" and outcome.gate.refused_outputs["o"].value == "undeclared_domain"


@pytest.mark.parametrize("declared", [False, True], ids=["window-undeclared", "window-declared"])
def test_a_measure_encoding_an_identifier_is_suppressed_by_dominance(attack, raw_county, declared):
    """One victim per district carries their ID digits as a number; everyone else contributes 0.

    The victim is chosen by a window over the district: the verifier refuses it unless the manifest
    declares the district a key (the reviewer read that); declared, the gate's dominance rule holds."""
    measures = '{ name = "people", agg = "count" }, { name = "code", agg = "sum", column = "secret", bounds = [0, 1e18] }'
    head = (
        HEAD.replace('"community_code"]\n', '"community_code"]\njoin_keys = ["district_code"]\n')
        if declared
        else HEAD
    )
    toml = head + output("o", '"district_code"', measures, DISTRICT_DOMAIN.format("o"))
    code = (
        "from pyspark.sql import functions as F\nfrom pyspark.sql.window import Window\n\n\n"
        "def build(ctx):\n    df = ctx.input('population')\n"
        "    first = F.row_number().over(Window.partitionBy('district_code').orderBy('id_number'))\n"
        "    digits = F.substring('id_number', 1, 17).cast('double')\n"
        "    ranked = df.withColumn('rank', first)\n"
        "    return {'o': ranked.withColumn('secret', F.when(F.col('rank') == 1, digits).otherwise(F.lit(0.0)))}\n"
    )
    outcome = attack.run(toml, code)
    if not declared:
        assert outcome.blocked_by == "runtime" and outcome.job.phase == "verify"
        assert {f["rule"] for f in outcome.job.findings} == {"window"}
        return
    assert outcome.blocked_by == "gate"
    for cell in outcome.gate.outputs["o"].cells:
        assert cell.decision.value == "suppressed"
        assert "dominance" in {r.rule.value for r in cell.reasons} or cell.values == {}
    for value in raw_values(raw_county, "hukou_population", "id_number", limit=5000):
        assert value[:17] not in outcome.released_text


def test_min_and_max_are_refused_by_the_manifest(attack):
    toml = HEAD + output(
        "o",
        '"district_code"',
        '{ name = "oldest", agg = "min", column = "birth_date" }',
        DISTRICT_DOMAIN.format("o"),
    )
    outcome = attack.run(toml, IMPORTS + "def build(ctx):\n    return {'o': ctx.input('population')}\n")
    assert outcome.blocked_by == "manifest" and "'min' is not allowed" in outcome.error.en


def test_differencing_two_outputs_one_person_apart_is_blocked(attack):
    toml = (
        HEAD
        + output("everyone", '"district_code"', extra=DISTRICT_DOMAIN.format("everyone"))
        + output("all_but_one", '"district_code"', extra=DISTRICT_DOMAIN.format("all_but_one"))
    )
    code = IMPORTS + (
        "def build(ctx):\n    df = ctx.input('population')\n"
        "    target = F.col('id_number') != F.lit('__never__')\n"
        "    victim = df.where(F.col('district_code') == '429902').agg(F.min('id_number').alias('victim_id'))\n"
        "    rest = df.join(victim, df.id_number == victim.victim_id, 'left_anti')\n"
        "    return {'everyone': df.where(target), 'all_but_one': rest}\n"
    )
    outcome = attack.run(toml, code)
    # The plan verifier stops it first: the anti-join's key is a computed value (the victim's id as an
    # aggregate), not a column the manifest declares as a join key. The gate's own defence against
    # differencing is tried on frames directly in tests/sandbox/gate/test_suppression.py.
    assert outcome.blocked_by == "runtime" and outcome.job.phase == "verify"
    assert {f["rule"] for f in outcome.job.findings} == {"join"}


def test_free_text_in_an_output_is_refused(attack):
    toml = HEAD.replace('"community_code"]', '"community_code"]') + output(
        "o", '"note"', extra='[outputs.o.domains]\nnote = ["a"]\n'
    )
    code = (
        IMPORTS
        + "def build(ctx):\n    df = ctx.input('population')\n    return {'o': df.withColumn('note', F.concat(F.lit('联系'), F.col('id_number')))}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate"
    assert "4299" not in "".join(str(c.key) for c in outcome.gate.outputs["o"].released)


def test_writing_a_file_is_blocked_statically_and_at_run_time(attack, tmp_path):
    target = tmp_path / "stolen.csv"
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    code = (
        IMPORTS
        + f"def build(ctx):\n    df = ctx.input('population')\n    df.write.csv('{target}')\n    return {{'o': df}}\n"
    )
    assert attack.run(toml, code).blocked_by == "static"
    deeper = attack.run(toml, code, skip_static=True)
    assert deeper.blocked_by == "runtime" and deeper.job.error_type == "PolicyViolation"
    assert not target.exists()


def test_opening_a_socket_is_blocked_statically_and_at_run_time(attack):
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    code = (
        "import socket\n\n\ndef build(ctx):\n    socket.create_connection(('192.0.2.1', 80))\n    return {}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "static" and {f.rule for f in outcome.findings} == {"import"}
    assert attack.run(toml, code, skip_static=True).job.error_type == "PolicyViolation"


def test_printing_raw_rows_is_blocked(attack):
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    code = (
        IMPORTS
        + "def build(ctx):\n    df = ctx.input('population')\n    print(df.take(5))\n    return {'o': df}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "static" and {"builtin", "action"} <= {f.rule for f in outcome.findings}
    assert attack.run(toml, code, skip_static=True).blocked_by == "runtime"


def test_an_exception_message_never_carries_values(attack, raw_county):
    """The job process holds plans, not rows: asking its client for a row behind the guard's back meets
    the plan endpoint, which executes nothing, so no message can carry a value."""
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    victim = raw_values(raw_county, "hukou_population", "id_number", 1)[0]
    code = IMPORTS + (
        "def build(ctx):\n    frame = ctx.input('population').limit(1)\n    client = frame.sparkSession.client\n"
        "    raise ValueError(str(client.to_table(frame._plan.to_proto(client), {})))\n"
    )  # fmt: skip
    outcome = attack.run(toml, code, skip_static=True)
    assert outcome.blocked_by == "runtime" and outcome.job.phase == "build"
    assert "executes nothing" in outcome.job.message
    assert victim not in json.dumps(outcome.job.as_dict()) and victim not in (outcome.job.traceback or "")


def test_monkeypatching_the_sdk_or_the_gate_is_blocked(attack):
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    patch_sdk = "from sandbox.runtime.sdk import JobContext\n\n\ndef build(ctx):\n    JobContext.input = None\n    return {}\n"
    assert {f.rule for f in attack.run(toml, patch_sdk).findings} >= {"mutation"}
    patch_gate = (
        "import sandbox.gate.rules as rules\n\n\ndef build(ctx):\n    rules.THRESHOLD = 0\n    return {}\n"
    )
    outcome = attack.run(toml, patch_gate)
    assert outcome.blocked_by == "static" and {"import", "mutation"} <= {f.rule for f in outcome.findings}
    assert attack.run(toml, patch_gate, skip_static=True).job.error_type == "PolicyViolation"


def test_reaching_os_or_builtins_through_attribute_tricks_is_blocked(attack):
    toml = HEAD + output("o", '"district_code"', extra=DISTRICT_DOMAIN.format("o"))
    tricks = [
        "def build(ctx):\n    return ().__class__.__base__.__subclasses__()\n",
        "def build(ctx):\n    return ctx.input.__globals__['__builtins__']\n",
        "def build(ctx):\n    return F.col.__module__\n",
        "def build(ctx):\n    b = __builtins__\n    return b\n",
    ]
    for code in tricks:
        outcome = attack.run(toml, IMPORTS + code)
        assert outcome.blocked_by == "static", code
        assert {f.rule for f in outcome.findings} & {"dunder", "builtin"}
    deeper = attack.run(toml, IMPORTS + tricks[0], skip_static=True)
    assert deeper.blocked_by == "runtime"


def test_an_output_too_large_to_be_aggregate_is_refused(attack):
    toml = HEAD + output(
        "o", '"community_code", "birth_year"',
        extra='[outputs.o.domains]\ncommunity_code = { code_table = "division_community" }\nbirth_year = ['
        + ", ".join(f'"{y}"' for y in range(1920, 2027)) + "]\n",
    )  # fmt: skip
    code = (
        IMPORTS
        + "def build(ctx):\n    df = ctx.input('population')\n    return {'o': df.withColumn('birth_year', F.year('birth_date').cast('string'))}\n"
    )
    outcome = attack.run(toml, code)
    assert outcome.blocked_by == "gate" and outcome.gate.refused_outputs["o"].value == "too_large"
