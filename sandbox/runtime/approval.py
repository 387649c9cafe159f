"""What an approval allows: so many production runs, until a date, under the policy the reviewer saw.

Each production run tells the developer one bit at least (released or not, failed or not), and the
bit can depend on the data. So an approval is not a licence to run forever: the reviewer grants a
number of runs in a period, bound to the job's code hash (the submission), the gate policy in force
(by its hash) and the dataset versions at review. Every run counts, whatever its outcome. A run on
newer raw versions is allowed within those terms and recorded as such; a changed policy needs a new
review.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from sandbox.context import PlatformContext
from sandbox.domain.errors import InvalidInput, NotFoundError, ShuyuError
from sandbox.domain.job import JobManifest
from sandbox.store.models import JobRunRow, JobSubmissionRow

DEFAULT_MAX_RUNS = 10
DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 366


class ApprovalExhausted(ShuyuError):
    """The approval's runs are used up, its period is over, or the policy changed since the review."""

    code = "E825"


@dataclass(frozen=True)
class ApprovalTerms:
    max_runs: int
    valid_until: str  # ISO date, inclusive
    policy_sha256: str
    dataset_versions: dict[str, int | None]  # what the reviewer saw (None: no version yet)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ApprovalTerms | None:
        return cls(**json.loads(text)) if text else None


def policy_sha256(ctx: PlatformContext) -> str:
    """The gate policy in force, as a hash: the defaults tightened by the operator's file."""
    from sandbox.gate.policy import load_policy

    canonical = json.dumps(load_policy(ctx.settings.policy_file).as_dict(), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def terms_for(
    ctx: PlatformContext, manifest: JobManifest, *, max_runs: int, period_days: int
) -> ApprovalTerms:
    """The terms a reviewer grants now, for this job's datasets as they are now."""
    from sandbox.catalog.service import current_version

    if not 1 <= max_runs <= 1000:
        raise InvalidInput(
            "批准的运行次数须在 1 到 1000 之间", "the runs an approval allows must be between 1 and 1000"
        )
    if not 1 <= period_days <= MAX_PERIOD_DAYS:
        raise InvalidInput(f"批准的有效期须在 1 到 {MAX_PERIOD_DAYS} 天之间",
                           f"an approval's period must be between 1 and {MAX_PERIOD_DAYS} days")  # fmt: skip

    def seen(dataset: str) -> int | None:  # a dataset may have no version yet when its job is approved
        try:
            return current_version(ctx, dataset).version
        except NotFoundError:
            return None

    until = datetime.now(UTC).date() + timedelta(days=period_days)
    return ApprovalTerms(max_runs, until.isoformat(), policy_sha256(ctx),
                         {d: seen(d) for d in sorted({i.dataset for i in manifest.inputs})})  # fmt: skip


def runs_used(session, submission_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(JobRunRow).where(JobRunRow.submission_id == submission_id)
    )


def check_run_allowed(
    ctx: PlatformContext, session, submission: JobSubmissionRow, today: date
) -> ApprovalTerms:
    """The terms, if one more run fits them; else a bilingual refusal saying which term is spent."""
    terms = ApprovalTerms.from_json(submission.terms_json)
    if terms is None:
        raise ApprovalExhausted("该批准未记录运行条款（早于本版本），请重新提交审核",
                                "this approval records no run terms (it predates them); submit for review again")  # fmt: skip
    used = runs_used(session, submission.id)
    if used >= terms.max_runs:
        raise ApprovalExhausted(f"批准的 {terms.max_runs} 次运行已用完，请重新提交审核",
                                f"the {terms.max_runs} runs the approval allows are used up; submit for review again")  # fmt: skip
    if today > date.fromisoformat(terms.valid_until):
        raise ApprovalExhausted(f"批准已于 {terms.valid_until} 到期，请重新提交审核",
                                f"the approval expired on {terms.valid_until}; submit for review again")  # fmt: skip
    if policy_sha256(ctx) != terms.policy_sha256:
        raise ApprovalExhausted("审核后门控策略已变更，请重新提交审核",
                                "the gate policy changed since the review; submit for review again")  # fmt: skip
    return terms


def newer_than_reviewed(terms: ApprovalTerms, versions: dict[str, int]) -> list[str]:
    """Datasets the run reads at a newer version than the reviewer saw (allowed; recorded)."""
    reviewed = terms.dataset_versions
    return sorted(
        d for d, v in versions.items() if d in reviewed and (reviewed[d] is None or v > reviewed[d])
    )
