"""Chinese names of every state, role and kind a user reads, shown as ``中文 english``.

Stored values stay English slugs (stable for scripts: ``--format json`` prints them as they are);
tables print :func:`label`, so nobody has to know that ``partial`` means a data-use request was
granted with some columns refused. A test keeps every member of every enum here named.
"""

from __future__ import annotations

from enum import StrEnum

from sandbox.domain.authorization import AuthorizationState
from sandbox.domain.gate import CellDecision, Refusal, Rule
from sandbox.domain.identity import ROLE_ZH, OrgKind, Role
from sandbox.domain.job import RunState, SubmissionState
from sandbox.domain.product import ProductState, RedevelopmentState, TermsState
from sandbox.domain.quality import TICKET_STATE_ZH, Severity, TicketState
from sandbox.domain.samples import SampleState
from sandbox.domain.scenario import ColumnStatus, ConsentState, ScenarioState
from sandbox.domain.task import TaskState

ZH: dict[type[StrEnum], dict[str, str]] = {
    AuthorizationState: {"active": "有效", "expired": "已到期", "revoked": "已撤销"},
    ScenarioState: {
        "draft": "草稿",
        "submitted": "已提交",
        "under_review": "审核中",
        "approved": "已批准",
        "rejected": "已驳回",
        "withdrawn": "已撤回",
        "active": "已启用",
        "expired": "已到期",
        "revoked": "已撤销",
    },  # fmt: skip
    ConsentState: {"pending": "待答复", "granted": "已同意", "partial": "部分同意", "refused": "已拒绝"},
    ColumnStatus: {"requested": "已申请", "granted": "已同意", "refused": "已拒绝"},
    SubmissionState: {"submitted": "待审核", "approved": "已批准", "rejected": "已驳回"},
    RunState: {"running": "运行中", "released": "已发布", "withheld": "未发布", "failed": "失败"},
    TaskState: {
        "queued": "排队中",
        "running": "运行中",
        "succeeded": "已完成",
        "failed": "未完成",
        "lost": "已中断",
    },
    ProductState: {"registered": "已登记", "deregistered": "已注销"},
    TermsState: {"active": "有效", "expired": "已到期", "revoked": "已撤销"},
    RedevelopmentState: {"submitted": "待审核", "approved": "已批准", "rejected": "已驳回"},
    SampleState: {"current": "当前", "superseded": "已被取代", "deleted": "已删除"},
    TicketState: {state.value: zh for state, zh in TICKET_STATE_ZH.items()},
    Severity: {s.value: s.zh for s in Severity},
    Role: {role.value: zh for role, zh in ROLE_ZH.items()},
    OrgKind: {
        "provider": "数据提供单位",
        "agency": "实施机构",
        "operator": "运营机构",
        "developer": "产品开发商",
        "consumer": "使用方",
        "regulator": "监管机构",
    },  # fmt: skip
    CellDecision: {"released": "发布", "suppressed": "抑制"},
    Rule: {
        "threshold": "主体数不足",
        "dominance": "优势占比",
        "p_ratio": "p 比例",
        "secondary": "次级抑制",
        "differencing": "差分",
        "group_attribute": "群体属性",
        "median": "中位数即个体值",
    },  # fmt: skip
    Refusal: {
        "invalid_frame": "贡献表无效",
        "aggregate_not_allowed": "聚合不允许",
        "undeclared_domain": "维度值域未声明",
        "looser_than_policy": "宽于策略",
        "too_large": "输出过大",
        "identifying_dimension": "识别性维度",
        "identifier_in_output": "输出含标识",
        "dp_unsupported": "不支持差分隐私",
        "budget_exhausted": "隐私预算用尽",
        "unknown_entities": "主体不在输入中",
        "dp_required": "须差分隐私",
        "protection_interval": "保护区间不足",
    },  # fmt: skip
}


def label(member: StrEnum) -> str:
    """``中文 english`` for an enum member the table above names."""
    return f"{ZH[type(member)][member.value]} {member.value}"


def label_of(kind: type[StrEnum], value: str | None) -> str:
    """The label of a stored slug; an unknown slug (an older release's) is shown as it is."""
    if value is None:
        return ""
    names = ZH[kind]
    return f"{names[value]} {value}" if value in names else value
