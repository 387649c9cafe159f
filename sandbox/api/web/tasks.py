"""Queued work as pages: my tasks, and one task's progress (stage, elapsed, result), kept live by
``shuyu.js`` polling ``/api/v1/me/tasks/{id}`` until the task ends."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sandbox.api.access import platform
from sandbox.domain.task import TaskState
from sandbox.governance.access import Principal
from sandbox.tasks import queue

from .i18n import label, lang_of
from .render import page
from .rules import Page

router = APIRouter(prefix="/tasks", include_in_schema=False)
signed_in = Page()
ENDED = frozenset({TaskState.SUCCEEDED.value, TaskState.FAILED.value, TaskState.LOST.value})


@router.get("")
def tasks(request: Request, who: Principal = Depends(signed_in), ctx=Depends(platform)) -> Response:
    """我的后台任务 / my queued and finished tasks (operators see all)."""
    return page(request, who, "tasks.html", tasks=[queue.task_view(t) for t in queue.list_tasks(ctx, who)])


@router.get("/{task_id}")
def task(
    task_id: str, request: Request, who: Principal = Depends(signed_in), ctx=Depends(platform)
) -> Response:
    """任务进度：阶段、用时、结果 / a task's progress: stage, elapsed, then its result or error."""
    view = queue.task_view(queue.get_task(ctx, who, task_id))
    lang = lang_of(request)
    states = {state.value: label(lang, "TaskState", state.value) for state in TaskState}  # for the live page
    return page(request, who, "task.html", task=view, ended=view["state"] in ENDED, states=states)
