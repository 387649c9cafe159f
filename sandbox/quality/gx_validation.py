"""Great Expectations on the production side: one file Data Context per provider, in its tickets zone.

Suites, validation results and the Data Docs site of a provider's datasets live together under
``<home>/tickets/<provider>/gx``, so a provider's docs never show another provider's data.
Validation asks for counts only (``BASIC`` with no partial unexpected list): values stay in the
cluster, and failing keys are extracted separately (see ``failing_keys``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from pyspark.sql import DataFrame

from sandbox.domain.quality import QualityError

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
    """A provider's GX file context: validate a frame against a suite, then render Data Docs."""

    def __init__(self, root: Path) -> None:
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)  # a server has no terminal

    def validate(
        self, suite_name: str, expectations: list, frame: DataFrame, run_name: str
    ) -> ExpectationSuiteValidationResult:
        source = self.context.data_sources.add_or_update_spark(name=DATASOURCE, persist=False)
        batch = source.add_dataframe_asset(name=suite_name).add_batch_definition_whole_dataframe(BATCH)
        suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(name=suite_name, expectations=expectations)
        )
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        return definition.run(
            batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT, run_id=run_id
        )

    def build_docs(self, result: ExpectationSuiteValidationResult) -> Path:
        """Render the result's Data Docs page (and the site index); return the page's path."""
        identifier = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=result.meta["run_id"],
            batch_identifier=result.batch_id,
        )
        self.context.build_data_docs(resource_identifiers=[identifier])
        urls = self.context.get_docs_sites_urls(resource_identifier=identifier)
        return Path(unquote(urlparse(urls[0]["site_url"]).path))


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
