"""One suite on one raw version, in Spark: GX validation, failing keys, re-checks of earlier tickets.

No database here: the runner hands in what earlier runs left (exceptions, keys on open tickets)
and records what comes out. The benchmark times exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from pyspark.sql import SparkSession

from sandbox.domain.catalog import Dataset
from sandbox.domain.quality import KEYED_CHECKS, QualityIntegrityError, RuleOutcome, Suite
from sandbox.quality.checks import RunParameters
from sandbox.quality.expectations import expectation_for
from sandbox.quality.failing_keys import FAILING, RuleKeys, extract, still_failing
from sandbox.quality.gx_validation import GxWorkspace, counts_by_rule
from sandbox.quality.prepare import prepared_frame


@dataclass(frozen=True)
class EarlierKeys:
    """What earlier runs left for this dataset: exception keys, keys on open tickets, tickets to re-check."""

    exceptions: tuple[Path, ...] = ()
    on_tickets: tuple[Path, ...] = ()
    recheck: dict[tuple[str, str], Path] | None = None  # (run id, rule id) -> ticket keys


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
) -> Evaluation:
    frame, kept = prepared_frame(spark, suite, raw_path, targets)
    try:
        expectations = [expectation_for(rule, dataset, params) for rule in suite.rules]
        result = workspace.validate(dataset.id, expectations, frame, run_name)
        counts = counts_by_rule(result)
        # keys only for the rules GX found failing: on real data most rules pass, and each costs a condition per row
        failed = [rule for rule in suite.rules if counts[rule.id].unexpected_rows]
        keys = extract(spark, frame, dataset, failed, params, out, earlier.exceptions, earlier.on_tickets)
        remaining = still_failing(spark, dataset, out / FAILING, earlier.recheck or {})
    finally:
        for reduced in kept:
            reduced.unpersist()
    outcomes = []
    for rule in suite.rules:
        count = counts[rule.id]
        found = keys.get(rule.id, RuleKeys(0, 0, 0, 0, 0, ()))
        if rule.check in KEYED_CHECKS and found.rows != count.unexpected_rows:
            raise QualityIntegrityError(
                f"规则 {rule.id}：GX 统计 {count.unexpected_rows} 行不合格，提取到 {found.rows} 行，本次结果作废",
                f"rule {rule.id}: GX counted {count.unexpected_rows} failing rows but {found.rows} were extracted; "
                "the run is void",
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
            )
        )
    return Evaluation(outcomes, remaining, result, max((o.element_count for o in outcomes), default=0))
