"""Any signed-in user: who am I, my tokens, my queued tasks."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from sandbox.api.access import Allow, platform
from sandbox.governance import identities
from sandbox.governance.access import Principal
from sandbox.tasks import queue

router = APIRouter(prefix="/me", tags=["me"])
signed_in = Allow()


@router.get("")
def whoami(who: Principal = Depends(signed_in)) -> dict:
    """当前用户 / the signed-in user, their organization and roles."""
    return {"user": who.username, "org": who.org_id, "org_kind": who.org_kind, "roles": sorted(who.roles),
            "provider": who.provider_id, "cleared": who.cleared}  # fmt: skip


class TokenRequest(BaseModel):
    days: int = Field(30, ge=1, le=identities.MAX_TOKEN_DAYS)
    label: str = Field("", max_length=100)


@router.post("/tokens", status_code=201)
def issue_token(body: TokenRequest, who: Principal = Depends(signed_in), ctx=Depends(platform)) -> dict:
    """为自己签发令牌（只显示一次）/ issue oneself a token (the secret is shown once)."""
    token_id, secret = identities.issue_token(ctx, who, who.username, days=body.days, label=body.label)
    return {"token": token_id, "secret": secret}


@router.get("/tokens")
def my_tokens(who: Principal = Depends(signed_in), ctx=Depends(platform)) -> list[dict]:
    """我的令牌（管理员看全部）/ my tokens (administrators see all)."""
    return [identities.token_view(t) for t in identities.list_tokens(ctx, who)]


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, reason: str = "revoked", who: Principal = Depends(signed_in),
                 ctx=Depends(platform)) -> dict:  # fmt: skip
    """吊销令牌 / revoke a token (one's own; administrators any)."""
    identities.revoke_token(ctx, who, token_id, reason)
    return {"token": token_id, "revoked": True}


@router.get("/tasks")
def my_tasks(who: Principal = Depends(signed_in), ctx=Depends(platform)) -> list[dict]:
    """我的后台任务（运营人员看全部）/ queued and finished tasks (operators see all)."""
    return [queue.task_view(t) for t in queue.list_tasks(ctx, who)]


@router.get("/tasks/{task_id}")
def task(task_id: str, who: Principal = Depends(signed_in), ctx=Depends(platform)) -> dict:
    """任务进度：阶段、用时、结果 / a task's progress: stage, elapsed, result or error."""
    return queue.task_view(queue.get_task(ctx, who, task_id))
