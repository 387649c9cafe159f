"""Identifiers a user types: one strict pattern per kind, checked before the store or a path sees them.

Scenario, dataset, job, product, user and organization ids name directories under the home
(``samples/<scenario>/<dataset>``, ``staging/<scenario>``, ``raw/<dataset>``…); an id such as
``../x`` would turn a build into a write outside the home and a revocation into a deletion
outside it. Every face (CLI arguments, catalog and manifest files) passes user-supplied ids
through :func:`check_id`; the zone paths (``sandbox.store.zones``) refuse escapes again on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sandbox.domain.errors import InvalidInput

#: Lowercase letters, digits, ``_`` and ``-``, starting with a letter or digit, at most 64 long: safe
#: as a file name on every file system, unambiguous in ``dataset.column`` and in URLs.
NAME = r"[a-z0-9][a-z0-9_-]{0,63}"


@dataclass(frozen=True)
class _Rule:
    zh: str
    en: str
    pattern: str
    shape_zh: str
    shape_en: str


_NAME_ZH = "1–64 位小写字母、数字、下划线或连字符，以字母或数字开头"
_NAME_EN = "1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit"


class IdKind(StrEnum):
    SCENARIO = "scenario"
    DATASET = "dataset"
    JOB = "job"
    PRODUCT = "product"
    USER = "user"
    ORGANIZATION = "organization"
    PROVIDER = "provider"
    CODE_TABLE = "code_table"
    SUBMISSION = "submission"
    RUN = "run"
    TICKET = "ticket"
    AUTHORIZATION = "authorization"
    TOKEN = "token"


_RULES: dict[IdKind, _Rule] = {
    IdKind.SCENARIO: _Rule("场景标识", "scenario id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.DATASET: _Rule("数据集标识", "dataset id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.JOB: _Rule("作业标识", "job id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.PRODUCT: _Rule("数据产品标识", "product id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.USER: _Rule("用户名", "user name", NAME, _NAME_ZH, _NAME_EN),
    IdKind.ORGANIZATION: _Rule("机构标识", "organization id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.PROVIDER: _Rule("数据提供单位标识", "provider id", NAME, _NAME_ZH, _NAME_EN),
    IdKind.CODE_TABLE: _Rule("代码表名", "code table name", NAME, _NAME_ZH, _NAME_EN),
    IdKind.SUBMISSION: _Rule(
        "作业提交编号", "submission id", r"[0-9a-f]{12}", "12 位十六进制数", "12 hex digits"
    ),
    IdKind.RUN: _Rule("运行编号", "run id", r"[0-9a-f]{8,32}", "8–32 位十六进制数", "8-32 hex digits"),
    IdKind.TICKET: _Rule(
        "工单编号", "ticket number", r"(?:[Qq][Tt]-)?[0-9]{1,9}", "形如 QT-000042", "like QT-000042"
    ),
    IdKind.TOKEN: _Rule("令牌编号", "token id", r"[0-9a-f]{16}", "16 位十六进制数", "16 hex digits"),
    IdKind.AUTHORIZATION: _Rule(
        "授权编号",
        "authorization id",
        r"AUTH-[0-9]{4}-[0-9]{4,6}",
        "形如 AUTH-2026-0001",
        "like AUTH-2026-0001",
    ),
}
_COMPILED = {kind: re.compile(rule.pattern) for kind, rule in _RULES.items()}


def id_name(kind: IdKind) -> tuple[str, str]:
    """The kind's name in Chinese and English, for help texts (errors also say its shape)."""
    rule = _RULES[kind]
    return rule.zh, rule.en


def is_valid_id(kind: IdKind, value: object) -> bool:
    return isinstance(value, str) and _COMPILED[kind].fullmatch(value) is not None


def check_id(kind: IdKind, value: object) -> str:
    """``value`` unchanged if it is a well-formed ``kind`` id; otherwise a bilingual ``InvalidInput``."""
    if is_valid_id(kind, value):
        return value  # type: ignore[return-value]
    rule = _RULES[kind]
    shown = _shown(value)
    raise InvalidInput(
        f"{rule.zh} {shown} 无效：须为{rule.shape_zh}",
        f"invalid {rule.en} {shown}: must be {rule.shape_en}",
    )


def _shown(value: object) -> str:
    """The refused value as the user typed it, control characters escaped, long ones cut."""
    if not isinstance(value, str):
        return type(value).__name__
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"
