"""Who may read and clear the release register (``sandbox/gate/register.py``): operators, auditors and
administrators read it all, a provider reads and clears the releases over its own datasets."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from sandbox.catalog.service import get_dataset
from sandbox.context import PlatformContext
from sandbox.domain.errors import PermissionDenied
from sandbox.domain.identity import Role
from sandbox.gate.register import clear_dataset
from sandbox.governance.access import Principal, audited_refusals, check_role
from sandbox.store.models import ReleaseCellRow, ReleaseRow


@dataclass(frozen=True)
class ReleaseSummary:
    release: int
    run_id: str
    job_id: str
    datasets: tuple[str, ...]
    cells: int
    member_bytes: int
    released_at: str
    cleared_at: str | None


READERS = {Role.ADMIN, Role.OPERATOR, Role.AUDITOR, Role.PROVIDER}


def releases(ctx: PlatformContext, actor: Principal, dataset_id: str | None = None) -> list[ReleaseSummary]:
    """What the register holds, newest first: operators, auditors and administrators see every release; a
    provider sees the releases over its own dataset and must name it."""
    with audited_refusals(ctx, actor, "release_register.read", "dataset", dataset_id or "*"):
        check_role(actor, READERS, "查看发布登记", "read the release register")
        if not actor.has(Role.ADMIN, Role.OPERATOR, Role.AUDITOR):
            _check_provider_of(ctx, actor, dataset_id)
    with ctx.sessions() as session:
        rows = session.execute(
            select(ReleaseRow, func.count(ReleaseCellRow.id))
            .join(ReleaseCellRow, ReleaseCellRow.release_id == ReleaseRow.id)
            .group_by(ReleaseRow.id)
            .order_by(ReleaseRow.id.desc())
        ).all()
    found = [ReleaseSummary(r.id, r.run_id, r.job_id, tuple(json.loads(r.datasets_json)), cells, r.member_bytes,
                            r.released_at, r.cleared_at) for r, cells in rows]  # fmt: skip
    return [r for r in found if dataset_id is None or dataset_id in r.datasets]


def _check_provider_of(ctx: PlatformContext, actor: Principal, dataset_id: str | None) -> None:
    if dataset_id is None or actor.provider_id != get_dataset(ctx, dataset_id).provider:
        raise PermissionDenied(f"数据集 {dataset_id or '（未指定）'} 不属于 {actor.username} 所在的数据提供单位",
                               f"dataset {dataset_id or '(none named)'} is not owned by {actor.username}'s provider")  # fmt: skip


def clear(ctx: PlatformContext, actor: Principal, dataset_id: str, *, reason: str) -> int:
    """Clear the releases over ``dataset_id``: they no longer count for differencing and their member files
    are deleted. Only the dataset's own provider may: clearing weakens the protection of its subjects.
    Returns how many releases were cleared."""
    with audited_refusals(ctx, actor, "release_register.clear", "dataset", dataset_id):
        check_role(actor, {Role.PROVIDER}, "清除发布登记", "clear the release register")
        _check_provider_of(ctx, actor, dataset_id)
    return clear_dataset(ctx, dataset_id, actor=actor.username, reason=reason)
