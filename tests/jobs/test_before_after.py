"""The three jobs release the same cells as before jobs became plans.

"Before" is ``build(ctx)`` run in the trusted process on the session's own DataFrames, as the runtime
did until the job process was jailed; "after" is the production path (plans built in the jail,
verified, run by the trusted side). Both go through the same gate; every cell's decision, the rules
behind it and every released value must agree.
"""

from __future__ import annotations

import pytest

from tests.jobs.conftest import JOBS

JOB_IDS = sorted(p.parent.name for p in JOBS.glob("*/job.toml"))


def test_all_three_jobs_are_compared():
    assert len(JOB_IDS) == 3


@pytest.mark.parametrize("job_id", JOB_IDS)
def test_released_cells_are_unchanged(run_job, run_job_directly, job_id):
    after, before = run_job(job_id), run_job_directly(job_id)
    assert before.outcome.outputs.keys() == after.outcome.outputs.keys()
    for output in after.outcome.outputs:
        assert after.decisions(output) == before.decisions(output), output
        assert after.released(output) == before.released(output), output
        assert after.released(output), f"{output}: nothing released, nothing compared"
