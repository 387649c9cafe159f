"""A dataset's quality over its versions, rule by rule: each rule's pass rate (its score, the share of
the version's records that pass) in the latest run on each version. Counts and scores only, to the
dataset's own provider and the staff (``check_may_read_provider``), like the reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.context import PlatformContext
from sandbox.governance.access import Principal
from sandbox.quality.access import readable_dataset
from sandbox.store.models import QualityRuleResultRow, QualityRunRow


def rule_history(ctx: PlatformContext, actor: Principal, dataset_id: str) -> dict[str, Any]:
    """``{"dataset", "versions": [v…], "rules": [{"rule", "column", "dimension", "points": [{"version",
    "pass_rate"}…]}…]}``, versions oldest first; a rule appears from the first version checked with it."""
    readable_dataset(ctx, actor, dataset_id)
    with ctx.sessions() as session:
        runs = session.scalars(
            select(QualityRunRow)
            .where(QualityRunRow.dataset_id == dataset_id)
            .order_by(QualityRunRow.finished_at)
        ).all()
        latest = {run.version: run.id for run in runs}  # the last run on each version wins
        results = session.scalars(
            select(QualityRuleResultRow)
            .where(QualityRuleResultRow.run_id.in_(latest.values()))
            .order_by(QualityRuleResultRow.id)
        ).all()
    version_of = {run_id: version for version, run_id in latest.items()}
    rules: dict[str, dict[str, Any]] = {}
    for r in sorted(results, key=lambda r: (version_of[r.run_id], r.id)):
        entry = rules.setdefault(r.rule_id, {"rule": r.rule_id, "column": r.column_label, "dimension": r.dimension,
                                             "points": []})  # fmt: skip
        entry["points"].append({"version": version_of[r.run_id], "pass_rate": r.score})
    return {"dataset": dataset_id, "versions": sorted(latest), "rules": list(rules.values())}
