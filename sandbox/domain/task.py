"""A queued long action (sample build, promotion, quality run, ingest) and its lifecycle.

The API answers a long action at once with a task id; a worker runs it and records its stage,
so every face can show progress, and a task the worker lost is failed with a reason, never left
running.
"""

from __future__ import annotations

from enum import StrEnum

from sandbox.domain.statemachine import TransitionTable


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the action ran and did not do what was asked (refused, failed, withheld)
    LOST = "lost"  # its worker stopped while it ran; the reason says what was done about it


T = TaskState
TASK_LIFECYCLE = TransitionTable(
    "后台任务",
    "task",
    {
        (None, "queue"): T.QUEUED,
        (T.QUEUED, "start"): T.RUNNING,
        (T.RUNNING, "succeed"): T.SUCCEEDED,
        (T.RUNNING, "fail"): T.FAILED,
        (T.RUNNING, "lose"): T.LOST,
    },
)
