"""Repository for sample versions: listing a scenario's, and forgetting them when it ends.

Here, not in ``sandbox.samples``, so that ending a scenario (governance) does not import the
samples service, which itself builds on governance.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.audit.chain import utc_now_iso
from sandbox.domain.samples import SampleState
from sandbox.store.models import SampleVersionRow


def versions(session: Session, scenario_id: str) -> list[SampleVersionRow]:
    return list(
        session.scalars(
            select(SampleVersionRow)
            .where(SampleVersionRow.scenario_id == scenario_id)
            .order_by(SampleVersionRow.version)
        )
    )


def forget(session: Session, scenario_id: str) -> int:
    """Mark every sample version of a scenario deleted (cleanup removes the files); returns how many."""
    rows = [v for v in versions(session, scenario_id) if v.state != SampleState.DELETED.value]
    for row in rows:
        row.state, row.deleted_at = SampleState.DELETED.value, utc_now_iso()
    return len(rows)
