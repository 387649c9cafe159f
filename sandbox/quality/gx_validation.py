"""Great Expectations on the production side: one file Data Context per provider, in its tickets zone.

Suites, validation results and the Data Docs site of a provider's datasets live together under
``<home>/tickets/<provider>/gx``, so a provider's docs never show another provider's data.

A run's results come from GX in one of two ways. ``record`` (every run): GX plans the metrics
each expectation needs and judges it with its own ``metrics_validate``, but the metric values come
from the tally of Shuyu's single pass (``failing_keys``), so the version is read once.
``validate`` (``--cross-check``, and the tests): GX's Spark engine computes the metrics itself, an
independent count that the run compares with the extracted keys. Both ask for counts only
(``BASIC`` with no partial unexpected list): values stay in the cluster.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import great_expectations as gx
from great_expectations.compatibility.pydantic import ValidationError as PydanticValidationError
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.validator.validator import calc_validation_statistics
from pyspark.sql import DataFrame

from sandbox.domain.quality import QualityError, Tally
from sandbox.quality.data_docs import finish_site, install_styles

DATASOURCE = "shuyu_raw"
BATCH = "whole_version"
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}

logging.getLogger("great_expectations").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ExpectationCounts:
    success: bool
    element_count: int
    unexpected_rows: int


class GxWorkspace:
    """A provider's GX file context: judge a suite (from a tally, or by validating a frame), render Data Docs."""

    def __init__(self, root: Path) -> None:
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)  # a server has no terminal
        install_styles(Path(self.context.plugins_directory))

    def validate(
        self, suite_name: str, expectations: list, frame: DataFrame, run_name: str
    ) -> ExpectationSuiteValidationResult:
        source = self.context.data_sources.add_or_update_spark(name=DATASOURCE, persist=False)
        batch = source.add_dataframe_asset(name=suite_name).add_batch_definition_whole_dataframe(BATCH)
        suite = self._stored(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        return definition.run(
            batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT, run_id=run_id
        )

    def record(
        self, suite_name: str, expectations: list, tally: Tally, run_name: str, batch_spec: dict
    ) -> ExpectationSuiteValidationResult:
        """Judge the suite on the pass's tally with GX's own logic, and store the result as a run would."""
        suite = self._stored(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        results = [_judged(expectation, tally) for expectation in suite.expectations]
        statistics = calc_validation_statistics(results)
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        batch_id = f"{DATASOURCE}-{suite_name}"
        result = ExpectationSuiteValidationResult(
            results=results,
            success=statistics.success,
            suite_name=suite_name,
            statistics={
                "evaluated_expectations": statistics.evaluated_expectations,
                "successful_expectations": statistics.successful_expectations,
                "unsuccessful_expectations": statistics.unsuccessful_expectations,
                "success_percent": statistics.success_percent,
            },
            meta={
                "great_expectations_version": gx.__version__,
                "batch_spec": batch_spec,
                "active_batch_definition": {
                    "datasource_name": DATASOURCE,
                    "data_connector_name": "fluent",
                    "data_asset_name": suite_name,
                    "batch_identifiers": {},
                },
                "run_id": run_id,
                "validation_time": run_id.run_time,
                "metrics_from": "shuyu single pass",
            },
            batch_id=batch_id,
        )
        self.context.validation_results_store.store_validation_results(
            suite_validation_result=result,
            suite_validation_result_identifier=_identifier(result),
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        )
        return result

    def _stored(self, suite: gx.ExpectationSuite) -> gx.ExpectationSuite:
        """Save the suite, replacing a stored copy this release cannot read.

        The YAML suite is the source; GX's stored suite is derived from it on every run. A copy
        stored by an earlier release whose custom expectations had other fields no longer
        validates (pydantic), and GX would refuse to update it.
        """
        try:
            return self.context.suites.add_or_update(suite)
        except PydanticValidationError:
            store = self.context.expectations_store
            store.remove_key(store.get_key(name=suite.name, id=None))
            return self.context.suites.add(suite)

    def build_docs(self, result: ExpectationSuiteValidationResult, private: Iterable[Path] = ()) -> Path:
        """Render the result's Data Docs page (and the site index), self-contained with ``private``
        paths masked (``data_docs``); return the page's path."""
        identifier = _identifier(result)
        self.context.build_data_docs(resource_identifiers=[identifier])
        finish_site(_path(self.context.get_docs_sites_urls()).parent, private)
        return _path(self.context.get_docs_sites_urls(resource_identifier=identifier))


def _path(site_urls: list[dict]) -> Path:
    return Path(unquote(urlparse(site_urls[0]["site_url"]).path))


def _identifier(result: ExpectationSuiteValidationResult) -> ValidationResultIdentifier:
    """Where the store keeps a result, and what Data Docs render it by."""
    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
        run_id=result.meta["run_id"],
        batch_identifier=result.batch_id,
    )


def _judged(expectation, tally: Tally) -> ExpectationValidationResult:
    """GX's verdict on one expectation, from the metrics GX itself says it needs, answered by the tally."""
    runtime = {"result_format": dict(RESULT_FORMAT)}
    needed = expectation.get_validation_dependencies(runtime_configuration=runtime)
    metrics = {
        config.id: _metric(expectation, config, tally) for config in needed.get_metric_configurations()
    }
    return expectation.metrics_validate(metrics, runtime_configuration=runtime)


def _metric(expectation, config, tally: Tally):
    """One GX metric value: the table's rows, a column's missing values, or the rule's failing rows."""
    name, column = config.metric_name, config.metric_domain_kwargs.get("column")
    rule_id = expectation.meta["rule_id"]
    if name == "table.row_count":
        return tally.rows
    if name == "column_values.nonnull.unexpected_count" and column in tally.nulls:
        return tally.nulls[column]
    if (
        name == f"{getattr(expectation, 'map_metric', None)}.unexpected_count"
        and rule_id in tally.failing_rows
    ):
        return tally.failing_rows[rule_id]
    if name.endswith(".unexpected_values"):
        return []  # no partial unexpected list is asked for: values never leave the cluster
    raise QualityError(
        f"规则 {rule_id}：单次扫描未计算 GX 指标 {name}",
        f"rule {rule_id}: the single pass does not compute GX metric {name}",
    )


def _error_class(info: dict | None) -> str | None:
    """The error class of an expectation that raised (e.g. ``UNRESOLVED_COLUMN``), never its message."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception") or entry.get("exception_traceback"):
            found = re.search(r"\[([A-Z][A-Z_.]+)\]", str(entry.get("exception_message") or ""))
            return found.group(1) if found else "error"
    return None


def counts_by_rule(result: ExpectationSuiteValidationResult) -> dict[str, ExpectationCounts]:
    """Per rule id: did its expectation pass, on how many rows, and how many failed.

    An expectation that raised is an error of the run, never a pass; the message names the rule
    and Spark's error class only, because an error message may quote a data value.
    """
    counts: dict[str, ExpectationCounts] = {}
    for item in result.results:
        rule_id = item.expectation_config.meta["rule_id"]
        error = _error_class(item.exception_info)
        if error:
            raise QualityError(
                f"规则 {rule_id} 的校验执行失败（{error}）",
                f"rule {rule_id} could not be evaluated ({error})",
            )
        outcome = item.result or {}
        element_count = outcome.get("element_count", outcome.get("observed_value", 0)) or 0
        counts[rule_id] = ExpectationCounts(
            bool(item.success), int(element_count), int(outcome.get("unexpected_count") or 0)
        )
    return counts
