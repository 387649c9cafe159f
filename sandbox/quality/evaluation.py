"""One suite on one raw version, in Spark: one pass for keys and counts, GX's verdict, re-checks of earlier tickets.

The pass (``failing_keys.extract``) writes the failing keys and tallies what GX needs; GX judges
every expectation from that tally (``GxWorkspace.record``). With ``cross_check`` GX's Spark engine
validates the version itself as well, and the run is void unless GX's counts equal the keys
extracted. No database here: the runner hands in what earlier runs left (exceptions, keys on
open tickets) and records what comes out. The benchmark times exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from pyspark.sql import SparkSession

from sandbox.domain.catalog import Dataset
from sandbox.domain.quality import KEYED_CHECKS, Check, QualityIntegrityError, RuleOutcome, Suite
from sandbox.quality.checks import RunParameters
from sandbox.quality.expectations import expectation_for
from sandbox.quality.failing_keys import FAILING, KeysRef, RuleKeys, extract, still_failing
from sandbox.quality.gx_validation import GxWorkspace, counts_by_rule
from sandbox.quality.prepare import prepared_frame


@dataclass(frozen=True)
class EarlierKeys:
    """What earlier runs left for this dataset: exception keys, keys on open tickets, tickets to re-check."""

    exceptions: tuple[KeysRef, ...] = ()
    on_tickets: tuple[KeysRef, ...] = ()
    recheck: dict[tuple[str, str], Path] | None = None  # (run id, rule id) -> the run's failing keys


@dataclass(frozen=True)
class Evaluation:
    outcomes: list[RuleOutcome]
    remaining: dict[tuple[str, str], int]  # re-checked ticket -> keys still failing
    result: ExpectationSuiteValidationResult
    row_count: int


def evaluate(
    spark: SparkSession,
    workspace: GxWorkspace,
    dataset: Dataset,
    suite: Suite,
    params: RunParameters,
    raw_path: Path,
    targets: dict[str, Path],
    out: Path,
    run_name: str,
    earlier: EarlierKeys = EarlierKeys(),
    *,
    cross_check: bool = False,
) -> Evaluation:
    prepared = prepared_frame(spark, suite, dataset, raw_path, targets, row_by_row=cross_check)
    try:
        tally, keys = extract(spark, prepared, dataset, suite.rules, params, out, earlier.exceptions,
                              earlier.on_tickets)  # fmt: skip
        expectations = [expectation_for(rule, dataset, params) for rule in suite.rules]
        if cross_check:
            result = workspace.validate(dataset.id, expectations, prepared.frame, run_name)
        else:
            # the batch by name, never by path: Data Docs print it, and the raw zone's layout is the platform's
            batch = {"dataset": dataset.id, "run": run_name}
            result = workspace.record(dataset.id, expectations, tally, run_name, batch)
        remaining = still_failing(spark, dataset, out / FAILING, earlier.recheck or {})
    finally:
        prepared.release()
    counts = counts_by_rule(result)
    records = tally.rows - _extra_rows(suite, dataset, keys)
    outcomes = []
    for rule in suite.rules:
        count = counts[rule.id]
        found = keys.get(rule.id, RuleKeys())
        if (
            rule.check in KEYED_CHECKS
            and not count.unexpected_rows == found.rows == tally.failing_rows[rule.id]
        ):
            raise QualityIntegrityError(
                f"规则 {rule.id}：GX 统计 {count.unexpected_rows} 行不合格，扫描计数 {tally.failing_rows[rule.id]} 行，"
                f"提取到 {found.rows} 行，本次结果作废",
                f"rule {rule.id}: GX counted {count.unexpected_rows} failing rows, the pass "
                f"{tally.failing_rows[rule.id]}, and {found.rows} were extracted; the run is void",
            )
        outcomes.append(
            RuleOutcome(
                rule,
                count.success,
                count.element_count,
                count.unexpected_rows,
                failing_keys=found.keys,
                excepted_keys=found.excepted_keys,
                excepted_rows=found.excepted_rows,
                new_keys=found.new_keys,
                examples=found.examples,
                records=records,
                failing_records=found.records,
                excepted_records=found.excepted_records,
            )
        )
    return Evaluation(outcomes, remaining, result, max((o.element_count for o in outcomes), default=0))


def _extra_rows(suite: Suite, dataset: Dataset, keys: dict[str, RuleKeys]) -> int:
    """Rows beyond the first of each duplicated key: the uniqueness rule's failing rows less its keys."""
    unique = [
        r for r in suite.rules if r.check == Check.UNIQUE_KEY and sorted(r.columns) == sorted(dataset.keys)
    ]
    return max((keys[r.id].rows - keys[r.id].keys for r in unique if r.id in keys), default=0)
