"""``sandbox quality run``: a dataset's suite on a raw version, on the production side, start to finish.

Evaluate in Spark (GX validation, failing keys written to the tickets zone), render the Data
Docs page, then record everything in one transaction — the run, each rule's result, new
tickets, tickets verified or reopened by this version — and finally refresh the provider's
reports and notify its webhook. Nothing but counts and a few example keys reaches the driver.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.audit.chain import utc_now_iso
from sandbox.catalog.service import current_version, get_dataset, version_path
from sandbox.context import PlatformContext
from sandbox.domain.quality import (
    KEYED_CHECKS,
    MANUAL_RULE,
    Check,
    RuleOutcome,
    Suite,
    TicketState,
)
from sandbox.engines.spark import spark_from_settings
from sandbox.governance.access import Principal, audited_refusals
from sandbox.quality import reports, scoring, webhooks, zone
from sandbox.quality.access import check_may_run
from sandbox.quality.checks import RunParameters
from sandbox.quality.evaluation import EarlierKeys, Evaluation, evaluate
from sandbox.quality.failing_keys import NEW
from sandbox.quality.gx_validation import GxWorkspace
from sandbox.quality.suites import suite_for
from sandbox.quality.tickets import active_tickets, exceptions_for, new_ticket, shanghai_today, transition
from sandbox.store import catalog_repo
from sandbox.store.models import QualityRuleResultRow, QualityRunRow, QualityTicketRow

#: A run re-checks these tickets; disputed ones wait for the operator's decision.
_RECHECKED = frozenset({TicketState.OPEN, TicketState.ACKNOWLEDGED, TicketState.FIXED, TicketState.REOPENED,
                        TicketState.REJECTED})  # fmt: skip


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    dataset_id: str
    provider_id: str
    version: int
    as_of: date
    row_count: int
    score: float
    dimension_scores: dict[str, float]
    outcomes: list[RuleOutcome]
    raised: list[int]
    verified: list[int]
    reopened: list[int]
    docs_path: Path


def run_quality(
    ctx: PlatformContext,
    actor: Principal,
    dataset_id: str,
    *,
    version: int | None = None,
    as_of: date | None = None,
) -> RunSummary:
    with audited_refusals(ctx, actor, "quality.run", "dataset", dataset_id):
        check_may_run(actor)
    dataset = get_dataset(ctx, dataset_id)
    raw = current_version(ctx, dataset_id, version)
    suite = suite_for(ctx, dataset)
    as_of = as_of or shanghai_today()
    with ctx.sessions() as session:
        params = RunParameters(as_of, catalog_repo.code_tables(session))
        earlier, rechecked = _earlier(ctx, session, suite, raw.version)
    targets = {
        target: version_path(ctx, current_version(ctx, target))
        for target in {r.target.partition(".")[0] for r in suite.rules if r.check == Check.REFERENCES}
    }
    run_id = uuid.uuid4().hex[:16]
    out = zone.run_dir(ctx.settings, dataset.provider, dataset_id, run_id)
    workspace = GxWorkspace(zone.gx_root(ctx.settings, dataset.provider))
    started = utc_now_iso()
    evaluation = evaluate(spark_from_settings(ctx.settings), workspace, dataset, suite, params,
                          version_path(ctx, raw), targets, out, f"v{raw.version:04d}-{run_id}", earlier)  # fmt: skip
    docs = workspace.build_docs(evaluation.result)
    summary = _record(ctx, actor, dataset.provider, suite, raw.version, as_of, run_id, started, evaluation,
                      rechecked, out, docs)  # fmt: skip
    reports.refresh(ctx, dataset.provider, dataset_id)
    if summary.raised:
        webhooks.notify_tickets(ctx, dataset.provider, summary.raised)
    return summary


def _earlier(
    ctx: PlatformContext, session, suite: Suite, version: int
) -> tuple[EarlierKeys, list[QualityTicketRow]]:
    """Exception keys, keys already on active tickets, and the tickets this version may verify."""
    home = ctx.settings.home_dir
    rules = {r.id for r in suite.rules}
    exceptions = tuple(
        home / e.keys_path for e in exceptions_for(session, suite.dataset_id) if e.rule_id in rules
    )
    active = [t for t in active_tickets(session, suite.dataset_id) if t.rule_id in rules]
    on_tickets = tuple(home / t.keys_path for t in active if t.keys_path)
    rechecked = [t for t in active if TicketState(t.state) in _RECHECKED and (t.version or 0) < version]
    recheck = {(t.run_id, t.rule_id): home / t.keys_path for t in rechecked if t.keys_path}
    return EarlierKeys(exceptions, on_tickets, recheck), rechecked


def _record(
    ctx: PlatformContext,
    actor: Principal,
    provider_id: str,
    suite: Suite,
    version: int,
    as_of: date,
    run_id: str,
    started: str,
    evaluation: Evaluation,
    rechecked: list[QualityTicketRow],
    out: Path,
    docs: Path,
) -> RunSummary:
    outcomes = evaluation.outcomes
    dimensions = scoring.dimension_scores(outcomes)
    score = scoring.overall_score(outcomes)
    passed = {o.rule.id for o in outcomes if o.success}
    raised, verified, reopened = [], [], []
    with ctx.transaction() as session:
        session.add(QualityRunRow(
            id=run_id, dataset_id=suite.dataset_id, provider_id=provider_id, version=version,
            as_of=as_of.isoformat(), suite_source=suite.source, suite_sha256=suite.sha256,
            row_count=evaluation.row_count, score=score, dimension_scores_json=json.dumps(dimensions, ensure_ascii=False),
            gx_success=bool(evaluation.result.success), gx_result_path=zone.relative(ctx.settings, docs),
            keys_path=zone.relative(ctx.settings, out), started_by=actor.username, started_at=started,
            finished_at=utc_now_iso(),
        ))  # fmt: skip
        session.flush()  # the run row first: rule results and tickets refer to it
        for o in outcomes:
            session.add(QualityRuleResultRow(
                run_id=run_id, rule_id=o.rule.id, check=o.rule.check.value, column_label=o.rule.column_label,
                dimension=o.rule.dimension.value, severity=o.rule.severity.value, success=o.success,
                element_count=o.element_count, unexpected_rows=o.unexpected_rows, failing_keys=o.failing_keys,
                excepted_keys=o.excepted_keys, score=scoring.rule_score(o),
            ))  # fmt: skip
        session.flush()
        for earlier in rechecked:
            ticket = session.get(QualityTicketRow, earlier.id)
            if TicketState(ticket.state) not in _RECHECKED:  # answered while this run was evaluating
                continue
            if ticket.keys_path:
                ticket.remaining_count = evaluation.remaining.get((ticket.run_id, ticket.rule_id), 0)
                clean = ticket.remaining_count == 0
            else:
                clean = ticket.rule_id in passed
            if clean:
                transition(ctx, session, ticket, "verify", actor.username, run=run_id, version=version)
                verified.append(ticket.id)
            elif TicketState(ticket.state) == TicketState.FIXED:
                transition(ctx, session, ticket, "reopen", actor.username, run=run_id, version=version,
                           remaining=ticket.remaining_count)  # fmt: skip
                reopened.append(ticket.id)
        still_open = {
            t.rule_id for t in active_tickets(session, suite.dataset_id) if t.rule_id != MANUAL_RULE
        }
        for o in outcomes:
            if not _needs_ticket(o, still_open):
                continue
            ticket = new_ticket(
                ctx, session, provider_id=provider_id, dataset_id=suite.dataset_id, rule=o.rule, actor=actor.username,
                description=o.rule.description, suggested_fix=o.rule.fix, severity=o.rule.severity,
                dimension=o.rule.dimension, column_label=o.rule.column_label, run_id=run_id, version=version,
                key_count=o.new_keys, examples=o.examples,
                keys_path=zone.relative(ctx.settings, out / NEW / f"rule={o.rule.id}") if o.new_keys else None,
            )  # fmt: skip
            raised.append(ticket.id)
        ctx.audit(session, "quality.run", "quality_run", run_id, actor=actor.username, dataset=suite.dataset_id,
                  version=version, as_of=as_of.isoformat(), score=score, rules=len(outcomes),
                  suite_sha256=suite.sha256, raised=len(raised), verified=len(verified), reopened=len(reopened))  # fmt: skip
    return RunSummary(run_id, suite.dataset_id, provider_id, version, as_of, evaluation.row_count, score,
                      dimensions, outcomes, raised, verified, reopened, docs)  # fmt: skip


def _needs_ticket(outcome: RuleOutcome, rules_with_open_tickets: set[str]) -> bool:
    """Keyed rules: when keys nobody was told about fail. Table rules: when failing and not yet ticketed."""
    if outcome.rule.check in KEYED_CHECKS:
        return outcome.new_keys > 0
    return not outcome.success and outcome.rule.id not in rules_with_open_tickets
