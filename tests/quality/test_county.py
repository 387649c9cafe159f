"""The county's ground truth against the tickets: every injected defect found, no clean record named.

One platform runs every dataset's suite once (as of the county's reference date); the tests
then read what came out — tickets with their keys, reports, scorecards, Data Docs, the audit.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from sandbox.domain.quality import MANUAL_RULE, Check, Dimension
from sandbox.governance.access import principal_for
from sandbox.quality.failing_keys import KeysRef, read_keys
from sandbox.quality.reports import report_for_dataset, report_for_provider
from sandbox.quality.runner import run_quality
from sandbox.quality.scorecard import scorecard
from sandbox.quality.suites import suite_for
from sandbox.quality.tickets import list_tickets
from tests.conftest import make_context
from tests.quality.conftest import county_as_of, deliver

pytestmark = pytest.mark.slow

#: The ground truth's defect kind each check finds.
KIND = {
    Check.RESIDENT_ID: "invalid_check_digit",
    Check.USCC: "invalid_check_digit",
    Check.NOT_NULL: "missing_required",
    Check.BIRTH_DATE_MATCHES_ID: "birth_date_mismatch",
    Check.UNIQUE_KEY: "duplicate_key",
    Check.REFERENCES: "orphan_reference",
    Check.IN_RANGE: "out_of_range",
    Check.FRESH: "stale_record",
    Check.IN_CODE_TABLE: "code_not_in_table",
    Check.FIELD_ORDER: "field_order",
}


@pytest.fixture(scope="module")
def checked(county, spark, tmp_path_factory):
    ctx = make_context(tmp_path_factory.mktemp("quality-home"))
    deliver(ctx, county)
    operator = principal_for(ctx, "operator-1")
    summaries = {}
    with ctx.sessions() as session:
        from sandbox.store.catalog_repo import list_datasets

        datasets = [row.id for row in list_datasets(session)]
    for dataset in datasets:
        summaries[dataset] = run_quality(ctx, operator, dataset, as_of=county_as_of(county))
    yield ctx, summaries
    ctx.engine.dispose()


def _ticketed(ctx) -> set[tuple[str, str, str, str]]:
    from sandbox.catalog.service import get_dataset

    found = set()
    for ticket in list_tickets(ctx, principal_for(ctx, "operator-1")):
        assert ticket.rule_id != MANUAL_RULE
        dataset = get_dataset(ctx, ticket.dataset_id)
        rule = suite_for(ctx, dataset).rule(ticket.rule_id)
        for row in read_keys(KeysRef(ctx.settings.home_dir / ticket.keys_path, ticket.rule_id)):
            key = "|".join(str(row[k]) for k in dataset.keys)
            found.add((ticket.dataset_id, key, ticket.column_label, KIND[rule.check]))
    return found


def test_every_defect_is_found_and_no_clean_record_is_named(checked, county):
    ctx, _ = checked
    with (county / "ground_truth.csv").open(encoding="utf-8") as handle:
        truth = {
            (r["dataset"], r["key"], r["column"], r["kind"])
            for r in csv.DictReader(handle)
            if r["kind"] != "planted_pii"
        }
    found = _ticketed(ctx)
    assert {kind for *_, kind in truth} == set(KIND.values())  # every kind was injected
    missed, wrong = truth - found, found - truth
    recall, precision = 1 - len(missed) / len(truth), 1 - len(wrong) / len(found)
    assert (recall, precision) == (1.0, 1.0), (
        f"missed {sorted(missed)[:5]}, wrongly named {sorted(wrong)[:5]}"
    )


def test_scores_by_dimension_and_one_ticket_per_failing_rule(checked):
    ctx, summaries = checked
    tickets = Counter((t.dataset_id, t.rule_id) for t in list_tickets(ctx, principal_for(ctx, "operator-1")))
    for dataset, summary in summaries.items():
        failing = {(dataset, o.rule.id) for o in summary.outcomes if not o.success}
        assert set(k for k in tickets if k[0] == dataset) == failing
        assert all(n == 1 for k, n in tickets.items() if k[0] == dataset)
        assert set(summary.dimension_scores) <= {d.value for d in Dimension}
        assert 90 < summary.score < 100
    hukou = summaries["hukou_population"]
    assert set(hukou.dimension_scores) == {d.value for d in Dimension}  # all six GB/T 36344 dimensions


def test_reports_carry_counts_not_keys(checked):
    ctx, _ = checked
    operator = principal_for(ctx, "operator-1")
    json_path, html_path = report_for_dataset(ctx, operator, "hukou_population")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["run"]["version"] == 1 and report["top_failing"]
    assert [d["dimension"] for d in report["dimensions"]] == [d.value for d in Dimension]
    html = html_path.read_text(encoding="utf-8")
    assert "<svg" in html and "规范性" in html and "conformity" in html and "Data Docs" in html
    assert "https://" not in html  # self-contained: nothing fetched when opened
    docs = ctx.settings.home_dir / report["run"]["data_docs"]
    assert docs.is_file() and "GB 11643" in docs.read_text(encoding="utf-8")
    ticket = next(t for t in list_tickets(ctx, operator, dataset_id="hukou_population") if t.key_count)
    for key in json.loads(ticket.examples_json):
        assert key not in html and key not in json_path.read_text(encoding="utf-8")
    index_json, index_html = report_for_provider(ctx, operator, "gongan")
    assert json.loads(index_json.read_text(encoding="utf-8"))["datasets"][0]["id"] == "hukou_population"
    assert "provider scorecard" in index_html.read_text(encoding="utf-8")


def test_scorecard_and_audit(checked):
    ctx, _ = checked
    card = scorecard(ctx, principal_for(ctx, "provider-minzheng"), "minzheng")
    assert {q.dataset_id for q in card.quality} == {
        "marriage_registration",
        "elderly_care_institutions",
        "elderly_people",
    }
    assert card.tickets > 0 and card.answered == 0 and card.median_response_hours is None
    assert all(q.latest is not None for q in card.quality)
    assert ctx.verify_audit().ok
