"""Organizations, roles and what a role may do."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    PROVIDER = "provider"  # 数据提供单位
    AGENCY = "agency"  # 实施机构 / 公共数据主管部门
    OPERATOR = "operator"  # 运营机构
    DEVELOPER = "developer"  # 产品开发商
    CONSUMER = "consumer"  # 使用方
    REGULATOR = "regulator"  # 监管


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    PROVIDER = "provider"
    DEVELOPER = "developer"
    CONSUMER = "consumer"
    AUDITOR = "auditor"


#: Which roles an organization kind may hold; a user's roles must fit their organization.
ROLES_BY_ORG_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.PROVIDER: frozenset({Role.PROVIDER}),
    OrgKind.AGENCY: frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR}),
    OrgKind.OPERATOR: frozenset({Role.OPERATOR, Role.DEVELOPER}),
    OrgKind.DEVELOPER: frozenset({Role.DEVELOPER}),
    OrgKind.CONSUMER: frozenset({Role.CONSUMER}),
    OrgKind.REGULATOR: frozenset({Role.AUDITOR}),
}

ROLE_ZH: dict[Role, str] = {
    Role.ADMIN: "管理员",
    Role.OPERATOR: "运营审核人员",
    Role.PROVIDER: "数据提供单位人员",
    Role.DEVELOPER: "开发人员",
    Role.CONSUMER: "数据使用方",
    Role.AUDITOR: "审计人员",
}
