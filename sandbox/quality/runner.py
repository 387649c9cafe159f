"""``sandbox quality run``: a dataset's suite on a raw version, on the production side, start to finish.

Evaluate in Spark (one pass writes the failing keys to the tickets zone and tallies the counts GX
judges the suite by; with ``cross_check`` GX's own validation runs too), render the Data Docs
page, then record everything in one transaction — the run, each rule's result, tickets verified
or reopened by this version, and per failing rule its one open ticket, followed up or new — and
finally refresh the provider's reports and notify its webhook. Nothing but counts and a few
example keys reaches the driver.

A run is as of the day its version was delivered unless told otherwise: a version scores the same
whenever it is checked, and timeliness is judged at delivery, not at checking.
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
from sandbox.display import shanghai_date
from sandbox.domain.progress import Stages, no_progress
from sandbox.domain.quality import (
    KEYED_CHECKS,
    MANUAL_RULE,
    RECHECKED_STATES,
    Check,
    RuleOutcome,
    Suite,
    TicketState,
    ticket_label,
)
from sandbox.engines.spark import spark_from_settings
from sandbox.governance.access import Principal, audited_refusals
from sandbox.quality import reports, scoring, webhooks, zone
from sandbox.quality.access import check_may_run
from sandbox.quality.checks import RunParameters
from sandbox.quality.evaluation import EarlierKeys, Evaluation, evaluate
from sandbox.quality.failing_keys import FAILING, KeysRef
from sandbox.quality.gx_validation import GxWorkspace
from sandbox.quality.suites import suite_for
from sandbox.quality.tickets import active_tickets, exceptions_for, follow_up, new_ticket, transition
from sandbox.store import catalog_repo
from sandbox.store.models import DatasetVersionRow, QualityRuleResultRow, QualityRunRow, QualityTicketRow


@dataclass(frozen=True)
class RunInfo:
    """What identifies a run while it is being recorded."""

    id: str
    suite: Suite
    provider_id: str
    version: int
    as_of: date
    actor: str
    started_at: str
    delivered_at: str  # the version's delivery: when a ticket it verifies was answered


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
    followed: list[int]  # open tickets that now carry this run's keys of their rule

    def view(self) -> dict:
        """What every face shows of a run: scores and the tickets it raised, verified or reopened."""
        return {
            "dataset": self.dataset_id, "version": self.version, "as_of": self.as_of.isoformat(),
            "rows": self.row_count, "score": self.score, "dimension_scores": self.dimension_scores,
            "raised": [ticket_label(t) for t in self.raised], "verified": [ticket_label(t) for t in self.verified],
            "reopened": [ticket_label(t) for t in self.reopened], "docs": str(self.docs_path),
        }  # fmt: skip


def delivery_day(version: DatasetVersionRow) -> date:
    """A run's default as-of date: the day (Asia/Shanghai) its version was delivered."""
    return shanghai_date(version.created_at)


def run_quality(
    ctx: PlatformContext,
    actor: Principal,
    dataset_id: str,
    *,
    version: int | None = None,
    as_of: date | None = None,
    cross_check: bool = False,
    stages: Stages = no_progress,
) -> RunSummary:
    with audited_refusals(ctx, actor, "quality.run", "dataset", dataset_id):
        check_may_run(actor)
    return run_suite(ctx, actor.username, dataset_id, version=version, as_of=as_of, cross_check=cross_check,
                     stages=stages)  # fmt: skip


def run_suite(
    ctx: PlatformContext,
    actor: str,
    dataset_id: str,
    *,
    version: int | None = None,
    as_of: date | None = None,
    cross_check: bool = False,
    stages: Stages = no_progress,
) -> RunSummary:
    """The run itself, for a caller entitled to it: an operator (``run_quality``) or the platform
    verifying a delivery (``verification``); ``actor`` is who the audit trail names."""
    dataset = get_dataset(ctx, dataset_id)
    raw = current_version(ctx, dataset_id, version)
    suite = suite_for(ctx, dataset)
    as_of = as_of or delivery_day(raw)
    with ctx.sessions() as session:
        params = RunParameters(as_of, catalog_repo.code_tables(session))
        earlier, rechecked = _earlier(ctx, session, suite, raw.version)
    targets = {
        target: version_path(ctx, current_version(ctx, target))
        for target in {r.target.partition(".")[0] for r in suite.rules if r.check == Check.REFERENCES}
    }
    run = RunInfo(
        uuid.uuid4().hex[:16],
        suite,
        dataset.provider,
        raw.version,
        as_of,
        actor,
        utc_now_iso(),
        raw.created_at,
    )
    out = zone.run_dir(ctx.settings, run.provider_id, dataset_id, run.id)
    workspace = GxWorkspace(zone.gx_root(ctx.settings, run.provider_id))
    stages(f"{dataset_id} v{raw.version}：在原始数据上评估 {len(suite.rules)} 条规则",
           f"{dataset_id} v{raw.version}: evaluating {len(suite.rules)} rules on the raw data", rows=raw.row_count)  # fmt: skip
    evaluation = evaluate(spark_from_settings(ctx.settings), workspace, dataset, suite, params, version_path(ctx, raw),
                          targets, out, f"v{raw.version:04d}-{run.id}", earlier, cross_check=cross_check)  # fmt: skip
    stages("记录结果、工单与报告", "recording results, tickets and reports")
    docs = workspace.build_docs(evaluation.result, private=(ctx.settings.home_dir,))
    summary = _record(ctx, run, evaluation, rechecked, out, docs)
    reports.refresh(ctx, run.provider_id, dataset_id)
    if summary.raised:
        webhooks.notify_tickets(ctx, run.provider_id, summary.raised)
    return summary


def _earlier(
    ctx: PlatformContext, session, suite: Suite, version: int
) -> tuple[EarlierKeys, list[QualityTicketRow]]:
    """Exception keys, keys already on active tickets, and the tickets this version may verify."""
    home = ctx.settings.home_dir
    rules = {r.id for r in suite.rules}
    exceptions = tuple(
        KeysRef(home / e.keys_path, e.rule_id)
        for e in exceptions_for(session, suite.dataset_id)
        if e.rule_id in rules
    )
    active = [t for t in active_tickets(session, suite.dataset_id) if t.rule_id in rules]
    on_tickets = tuple(KeysRef(home / t.keys_path, t.rule_id) for t in active if t.keys_path)
    rechecked = [t for t in active if TicketState(t.state) in RECHECKED_STATES and (t.version or 0) < version]
    recheck = {(t.run_id, t.rule_id): home / t.keys_path for t in rechecked if t.keys_path}
    return EarlierKeys(exceptions, on_tickets, recheck), rechecked


def _record(
    ctx: PlatformContext,
    run: RunInfo,
    evaluation: Evaluation,
    rechecked: list[QualityTicketRow],
    out: Path,
    docs: Path,
) -> RunSummary:
    """One transaction: the run and its rule results, re-checked tickets, new tickets, the run's audit event."""
    outcomes = evaluation.outcomes
    dimensions = scoring.dimension_scores(outcomes)
    score = scoring.overall_score(outcomes)
    with ctx.transaction() as session:
        session.add(QualityRunRow(
            id=run.id, dataset_id=run.suite.dataset_id, provider_id=run.provider_id, version=run.version,
            as_of=run.as_of.isoformat(), suite_source=run.suite.source, suite_sha256=run.suite.sha256,
            row_count=evaluation.row_count, score=score, dimension_scores_json=json.dumps(dimensions, ensure_ascii=False),
            gx_success=bool(evaluation.result.success), gx_result_path=zone.relative(ctx.settings, docs),
            keys_path=zone.relative(ctx.settings, out), started_by=run.actor, started_at=run.started_at,
            finished_at=utc_now_iso(),
        ))  # fmt: skip
        session.flush()  # the run row first: rule results and tickets refer to it
        for o in outcomes:
            session.add(QualityRuleResultRow(
                run_id=run.id, rule_id=o.rule.id, check=o.rule.check.value, column_label=o.rule.column_label,
                dimension=o.rule.dimension.value, severity=o.rule.severity.value, success=o.success,
                element_count=o.element_count, unexpected_rows=o.unexpected_rows, failing_keys=o.failing_keys,
                excepted_keys=o.excepted_keys, score=scoring.rule_score(o),
            ))  # fmt: skip
        session.flush()
        verified, reopened = _recheck(ctx, session, run, evaluation, rechecked)
        raised, followed = _ticket(ctx, session, run, outcomes, out, {t.id for t in rechecked})
        ctx.audit(session, "quality.run", "quality_run", run.id, actor=run.actor, dataset=run.suite.dataset_id,
                  version=run.version, as_of=run.as_of.isoformat(), score=score, rules=len(outcomes),
                  suite_sha256=run.suite.sha256, raised=len(raised), verified=len(verified), reopened=len(reopened),
                  followed=len(followed))  # fmt: skip
    return RunSummary(run.id, run.suite.dataset_id, run.provider_id, run.version, run.as_of, evaluation.row_count,
                      score, dimensions, outcomes, raised, verified, reopened, docs, followed)  # fmt: skip


def _recheck(
    ctx: PlatformContext, session, run: RunInfo, evaluation: Evaluation, rechecked: list[QualityTicketRow]
) -> tuple[list[int], list[int]]:
    """Verify the tickets whose keys all pass on this newer version; reopen the fixed ones that still fail."""
    passed = {o.rule.id for o in evaluation.outcomes if o.success}
    verified, reopened = [], []
    for earlier in rechecked:
        ticket = session.get(QualityTicketRow, earlier.id)
        if TicketState(ticket.state) not in RECHECKED_STATES:  # answered while this run was evaluating
            continue
        if ticket.keys_path:
            ticket.remaining_count = evaluation.remaining.get((ticket.run_id, ticket.rule_id), 0)
            clean = ticket.remaining_count == 0
        else:
            clean = ticket.rule_id in passed
        if clean:  # the provider answered by delivering this version
            transition(ctx, session, ticket, "verify", run.actor, answered_at=run.delivered_at, run=run.id,
                       version=run.version)  # fmt: skip
            verified.append(ticket.id)
        elif TicketState(ticket.state) == TicketState.FIXED:
            transition(ctx, session, ticket, "reopen", run.actor, run=run.id, version=run.version,
                       remaining=ticket.remaining_count)  # fmt: skip
            reopened.append(ticket.id)
    return verified, reopened


def _ticket(
    ctx: PlatformContext, session, run: RunInfo, outcomes: list[RuleOutcome], out: Path, rechecked: set[int]
) -> tuple[list[int], list[int]]:
    """One open ticket per failing rule: its findings go to the rule's open ticket, or to a new one.

    A ticket open for the rule (re-checked on this newer version, or with keys nobody was told
    about) follows this run: its keys become the rule's keys here. A disputed one keeps the keys
    it was disputed on; what else fails waits for the decision. Returns (raised, followed).
    """
    open_for_rule: dict[str, QualityTicketRow] = {}
    for t in active_tickets(session, run.suite.dataset_id):  # oldest first; verified ones are closed by now
        if t.rule_id != MANUAL_RULE:
            open_for_rule.setdefault(t.rule_id, t)
    keys = zone.relative(ctx.settings, out / FAILING)
    raised, followed = [], []
    for o in outcomes:
        ticket = open_for_rule.get(o.rule.id)
        if ticket is None:
            if _needs_ticket(o):
                raised.append(_raise(ctx, session, run, o, keys if o.new_keys else None).id)
        elif (
            o.rule.check in KEYED_CHECKS
            and TicketState(ticket.state) in RECHECKED_STATES
            and (o.new_keys or ticket.id in rechecked)
        ):
            follow_up(ctx, session, ticket, run.actor, run_id=run.id, version=run.version, keys_path=keys,
                      keys=o.failing_keys - o.excepted_keys, new_keys=o.new_keys, examples=o.examples)  # fmt: skip
            followed.append(ticket.id)
    return raised, followed


def _raise(ctx: PlatformContext, session, run: RunInfo, o: RuleOutcome, keys: str | None) -> QualityTicketRow:
    return new_ticket(
        ctx, session, provider_id=run.provider_id, dataset_id=run.suite.dataset_id, rule=o.rule, actor=run.actor,
        description=o.rule.description, suggested_fix=o.rule.fix, severity=o.rule.severity,
        dimension=o.rule.dimension, column_label=o.rule.column_label, run_id=run.id, version=run.version,
        key_count=o.new_keys, examples=o.examples, keys_path=keys,
    )  # fmt: skip


def _needs_ticket(outcome: RuleOutcome) -> bool:
    """For a rule with no open ticket. Keyed rules: when keys no exception covers fail. Table rules: when failing."""
    if outcome.rule.check in KEYED_CHECKS:
        return outcome.new_keys > 0
    return not outcome.success
