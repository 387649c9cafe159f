"""The run's pass over a version: failing keys to the tickets zone, and every count the suite needs.

One pass over the prepared frame tags each row with the rules it breaks, keeps the key columns
only (never the other values) and writes, per rule, the distinct failing keys with how many rows
carry each. While it writes, a Spark observation counts the rows, each rule's failing rows and
each inspected column's missing values (a ``Tally``): the metrics Great Expectations needs to
judge the suite, so the version is read once. A uniqueness rule on the dataset's keys is not
judged row by row: its failing keys are the duplicated keys ``prepare`` found, with their rows,
written beside the others and counted from them (GX's own validation, with ``--cross-check``,
counts them row by row and must agree). Keys recorded as exceptions (an upheld dispute)
and keys already on an open ticket are marked: the unmarked ones are new, nobody was told about
them yet. A ticket's keys are its rule's rows of its run that no exception covers — the keys
found new when it was raised, or, once a later run has followed it up, everything its rule still
fails (one open ticket per rule). Only counts and a few examples reach the driver.

Layout under a run directory::

    failing/   every failing key: key columns, rows, excepted, on_ticket, rule

A ticket or an exception names its keys by a ``KeysRef``: that directory and its rule. The
post-shuffle tasks write their keys as they are, a file each: one directory per rule (as releases
before 2026-11-25 wrote, ``failing/rule=<id>/``, still readable) cost a further shuffle, a task
writing every file alone and Hadoop's ``chmod`` process per file and directory (5 ms each
here): a run on 1M rows 2.29 -> 2.10 s (medians of 14, alternated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import pyarrow.compute as pc
import pyarrow.dataset as pads
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from sandbox.domain.catalog import Dataset
from sandbox.domain.quality import KEYED_CHECKS, Rule, Tally
from sandbox.engines.spark import session_conf
from sandbox.quality.checks import RunParameters, failing, group_rows_column
from sandbox.quality.prepare import Prepared

EXAMPLES = 3
FAILING = "failing"
_FLAGS = ("rows", "excepted", "on_ticket")  # written beside the key columns
_NOT_KEYS = (*_FLAGS, "rule")
_NEW = "NOT excepted AND NOT on_ticket"  # a key nobody has been told about yet
_TICKETED = "NOT excepted"  # a key its rule's ticket carries
_RULE_FROM_PATH = r"/rule=([a-z0-9_]+)/"  # the older layout's rule directories
_RUN_FROM_PATH = r"/runs/([0-9a-f]+)/"
#: The pass groups by key, and nearly every key it sees is unique (each failing row, every key of a
#: uniqueness rule): Spark's partial aggregation before the shuffle only builds a hash map as large
#: as its input. Skipping it: the duplicated keys of 1M rows 1.30 s -> 0.95 s (noop, medians of 6).
_GROUPED_BY_KEY = {"spark.sql.execution.bypassPartialAggregation": "true"}


class KeysRef(NamedTuple):
    """Where a ticket's (or an exception's) keys are: a run's failing keys and the rule they fail."""

    path: Path
    rule: str


@dataclass(frozen=True)
class RuleKeys:
    rows: int = 0
    keys: int = 0
    excepted_keys: int = 0
    excepted_rows: int = 0
    new_keys: int = 0
    records: int = (
        0  # a complete key once however many rows carry it; a row whose key is incomplete on its own
    )
    excepted_records: int = 0
    examples: tuple[str, ...] = ()


def _key_condition(left: DataFrame, right: DataFrame, keys: list[str]) -> Column:
    condition = left["rule"] == right["rule"]
    for key in keys:
        condition &= left[key].eqNullSafe(right[key])
    return condition


def _ticket_keys(spark: SparkSession, refs: Iterable[KeysRef]) -> DataFrame:
    """The keys of tickets (rows of their rule in their run, not excepted), with their run and rule."""
    refs = list(refs)
    # files of the older layout have no rule column: merging the schemas gives them a null one
    frame = spark.read.option("mergeSchema", "true").parquet(*sorted({str(r.path) for r in refs}))
    run = f"regexp_extract(_metadata.file_path, '{_RUN_FROM_PATH}', 1)"
    rule = f"nullif(regexp_extract(_metadata.file_path, '{_RULE_FROM_PATH}', 1), '')"
    rule = f"coalesce(rule, {rule})" if "rule" in frame.columns else rule
    wanted = ", ".join(f"'{_run_of(r.path)}/{r.rule}'" for r in refs)  # hex run ids, [a-z0-9_] rule ids
    return (
        frame.where(_TICKETED)
        .select(
            F.expr(f"{run} AS run"),
            F.expr(f"{rule} AS rule"),
            *[c for c in frame.columns if c not in _NOT_KEYS],
        )
        .where(F.expr(f"concat(run, '/', rule) IN ({wanted})"))
    )


def _run_of(path: Path) -> str:
    found = re.search(_RUN_FROM_PATH, f"{path}/")
    if found is None:
        raise ValueError(f"{path} is no run's failing keys")
    return found.group(1)


def _key_sets(spark: SparkSession, refs: Iterable[KeysRef], keys: list[str]) -> DataFrame | None:
    """The keys of earlier tickets, with their rule, distinct."""
    refs = list(refs)
    if not refs:
        return None
    return _ticket_keys(spark, refs).select("rule", *keys).distinct()


def _mark(frame: DataFrame, known: DataFrame | None, flag: str, keys: list[str]) -> DataFrame:
    if known is None:
        return frame.withColumn(flag, F.lit(False))
    known = known.withColumn(flag, F.lit(True)).alias("known")
    joined = frame.alias("run").join(
        F.broadcast(known), _key_condition(frame.alias("run"), known, keys), "left"
    )
    return joined.select("run.*", F.coalesce(F.col(f"known.{flag}"), F.lit(False)).alias(flag))


def _any(flags: list[str]) -> str:
    """SQL that is true where any of the boolean columns ``flags`` is (``greatest`` wants two or more)."""
    if not flags:
        return "false"
    return f"greatest({', '.join(flags)})" if len(flags) > 1 else flags[0]


def _duplicated(rule: Rule, repeated: DataFrame, keys: list[str]) -> DataFrame:
    """A uniqueness rule's failing keys, from its duplicated keys: those with every key column present."""
    return repeated.dropna(subset=keys).select(
        F.lit(rule.id).alias("rule"), *keys, F.col(group_rows_column(rule)).alias("rows")
    )


def extract(
    spark: SparkSession,
    prepared: Prepared,
    dataset: Dataset,
    rules: Iterable[Rule],
    params: RunParameters,
    out: Path,
    exceptions: Iterable[KeysRef],
    on_tickets: Iterable[KeysRef],
) -> tuple[Tally, dict[str, RuleKeys]]:
    """Write the failing keys of every keyed rule under ``out``; return the pass's tally and per-rule keys."""
    keyed = [r for r in rules if r.check in KEYED_CHECKS]
    by_row = [r for r in keyed if r.id not in prepared.duplicates]  # the others' keys are found already
    keys = list(dataset.keys)
    inspected = sorted({r.columns[0] for r in keyed if r.columns})
    fails = [f"__shuyu_fails_{i}" for i in range(len(by_row))]
    missing = [f"__shuyu_missing_{i}" for i in range(len(inspected))]
    # plain boolean columns: every condition stays in generated code and is evaluated once per row
    # (a higher-order function such as ``filter`` over them would make Spark interpret them all).
    # The bookkeeping around them is SQL text, one gateway call an expression instead of one a
    # function: about 800 calls instead of 2,700 to build the pass (0.47 s -> 0.40 s from Python)
    tagged = prepared.frame.select(
        *keys,
        *[failing(r, dataset, params).alias(flag) for r, flag in zip(by_row, fails, strict=True)],
        *[F.col(c).isNull().alias(flag) for c, flag in zip(inspected, missing, strict=True)],
    )
    observation = Observation()
    # the observation is a barrier: the filter below cannot be pushed under it to re-evaluate the conditions
    tagged = tagged.observe(
        observation,
        F.count(F.lit(1)).alias("rows"),
        *[F.expr(f"count_if({flag}) AS {flag}") for flag in fails + missing],
    )
    failing_rows = tagged.where(F.expr(_any(fails)))
    tags = ", ".join(f"CASE WHEN {flag} THEN '{r.id}' END" for r, flag in zip(by_row, fails, strict=True))
    grouped = (
        failing_rows.select(F.expr(f"explode(array({tags})) AS rule"), *keys)
        .where(F.col("rule").isNotNull())
        .groupBy("rule", *keys)
        .agg(F.count(F.lit(1)).alias("rows"))
    )
    for r in keyed:
        if r.id in prepared.duplicates:
            grouped = grouped.unionByName(_duplicated(r, prepared.duplicates[r.id], keys))
    grouped = _mark(grouped, _key_sets(spark, exceptions, keys), "excepted", keys)
    grouped = _mark(grouped, _key_sets(spark, on_tickets, keys), "on_ticket", keys)
    found = Observation()
    grouped = grouped.observe(found, _per_rule_stats(keyed, keys))
    with session_conf(spark, _GROUPED_BY_KEY):
        grouped.select(*keys, *_FLAGS, "rule").write.parquet(str(out / FAILING))
    counted, stats, per_rule = observation.get, json.loads(found.get["stats"]), {}
    judged_by_row = {r.id: int(counted[flag]) for r, flag in zip(by_row, fails, strict=True)}
    tally = Tally(
        rows=int(counted["rows"]),
        failing_rows={r.id: judged_by_row.get(r.id, stats.get(f"rows_{i}", 0)) for i, r in enumerate(keyed)},
        nulls={c: int(counted[flag]) for c, flag in zip(inspected, missing, strict=True)},
    )
    for i, r in enumerate(keyed):
        if stats[f"keys_{i}"]:
            counts = {name: stats.get(f"{name}_{i}", 0) for name in _STATS}
            ticketed = counts["keys"] > counts["excepted_keys"]
            examples = _examples(KeysRef(out / FAILING, r.id), keys) if ticketed else ()
            per_rule[r.id] = RuleKeys(**counts, examples=examples)
    return tally, per_rule


_STATS = tuple(f.name for f in fields(RuleKeys) if f.name != "examples")  # observed per rule


def _per_rule_stats(rules: list[Rule], keys: list[str]) -> Column:
    """Aggregates over the grouped keys, per rule: the numbers of ``RuleKeys`` (``<field>_<rule index>``).

    One JSON text rather than a column each: handing an observed row to Python costs Spark about
    a third of a millisecond a column (44 ms for these 131), one text well under one. A sum over
    no rows is null and left out of the text.
    """
    stats = ["'pairs', count(1)"]  # an observation needs one aggregate even with no rule
    complete = " AND ".join(f"`{k}` IS NOT NULL" for k in keys) or "false"
    record = f"CASE WHEN {complete} THEN 1 ELSE rows END"
    for i, r in enumerate(rules):
        mine = f"rule = '{r.id}'"  # rule ids are [a-z0-9_] (suites._RULE_ID)
        stats += [
            f"'rows_{i}', sum(CASE WHEN {mine} THEN rows END)",
            f"'keys_{i}', count_if({mine})",
            f"'excepted_keys_{i}', count_if({mine} AND excepted)",
            f"'excepted_rows_{i}', sum(CASE WHEN {mine} AND excepted THEN rows END)",
            f"'new_keys_{i}', count_if({mine} AND {_NEW})",
            f"'records_{i}', sum(CASE WHEN {mine} THEN {record} END)",
            f"'excepted_records_{i}', sum(CASE WHEN {mine} AND excepted THEN {record} END)",
        ]
    return F.expr(f"to_json(named_struct({', '.join(stats)})) AS stats")


def _examples(ref: KeysRef, keys: list[str]) -> tuple[str, ...]:
    """The first few keys a ticket of the rule carries, read from the written files (only as many rows as needed)."""
    head = _ticketed_keys(ref).head(EXAMPLES).to_pylist()
    return tuple("|".join("" if row[k] is None else str(row[k]) for k in keys) for row in head)


def _ticketed_keys(ref: KeysRef) -> pads.Scanner:
    """A ticket's keys: its rule's rows in its run that no exception covers (Arrow, no cluster)."""
    dataset = pads.dataset(str(ref.path), format="parquet")
    names = dataset.schema.names
    ticketed = ~pc.field("excepted")
    if "rule" in names:  # else a directory of the rule's keys alone, as older releases wrote
        ticketed &= pc.field("rule") == ref.rule
    return dataset.scanner(columns=[n for n in names if n not in _NOT_KEYS], filter=ticketed)


def still_failing(
    spark: SparkSession, dataset: Dataset, failing_dir: Path, ticket_keys: dict[tuple[str, str], Path]
) -> dict[tuple[str, str], int]:
    """For tickets named by (run id, rule id): how many of their keys fail again in this run."""
    if not ticket_keys:
        return {}
    keys = list(dataset.keys)
    earlier = _ticket_keys(spark, [KeysRef(path, rule) for (_, rule), path in ticket_keys.items()])
    schema = StructType([*(earlier.schema[k] for k in keys), StructField("rule", StringType())])
    current = spark.read.schema(schema).parquet(str(failing_dir)).alias("now")
    joined = earlier.alias("then").join(current, _key_condition(earlier.alias("then"), current, keys))
    remaining = {
        (r["run"], r["rule"]): int(r["n"])
        for r in joined.groupBy("then.run", "then.rule").agg(F.count(F.lit(1)).alias("n")).collect()
    }
    return {ticket: remaining.get(ticket, 0) for ticket in ticket_keys}


def read_keys(ref: KeysRef) -> list[dict]:
    """A ticket's keys as rows, for the provider's export."""
    return _ticketed_keys(ref).to_table().to_pylist()
