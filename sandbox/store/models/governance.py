"""Governance rows: organizations, users, tokens, scenarios, consents, authorizations."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sandbox.store.models.base import Base


class OrganizationRow(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))  # for provider organizations
    created_at: Mapped[str] = mapped_column(String(32))


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    identity_verified_at: Mapped[str | None] = mapped_column(String(32))
    filing_no: Mapped[str | None] = mapped_column(String(64))  # 备案号
    filed_at: Mapped[str | None] = mapped_column(String(32))
    nda_version: Mapped[str | None] = mapped_column(String(32))
    nda_signed_on: Mapped[str | None] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id, for the web UI's login
    created_at: Mapped[str] = mapped_column(String(32))

    organization: Mapped[OrganizationRow] = relationship()

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}


class ApiTokenRow(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class ScenarioRow(Base):
    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    value_statement: Mapped[str] = mapped_column(Text)  # 经济和社会价值
    planned_products_json: Mapped[str] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(ForeignKey("users.username"))
    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    state: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[str | None] = mapped_column(String(32))
    reviewer: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[str | None] = mapped_column(String(32))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))

    columns: Mapped[list[ScenarioColumnRow]] = relationship(
        order_by="ScenarioColumnRow.id", cascade="all, delete-orphan"
    )
    consents: Mapped[list[ConsentRow]] = relationship(order_by="ConsentRow.id", cascade="all, delete-orphan")
    members: Mapped[list[ScenarioMemberRow]] = relationship(cascade="all, delete-orphan")


class ScenarioColumnRow(Base):
    """One requested column with its minimal-necessary justification and the provider's answer."""

    __tablename__ = "scenario_columns"
    __table_args__ = (UniqueConstraint("scenario_id", "dataset_id", "column"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    column: Mapped[str] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested / granted / refused


class ScenarioMemberRow(Base):
    """A developer working on a scenario's samples."""

    __tablename__ = "scenario_members"

    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[str] = mapped_column(String(32))


class ConsentRow(Base):
    """A provider's decision on one dataset of a scenario (数据使用申请), due in 5 working days."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("scenario_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)


class AuthorizationRow(Base):
    __tablename__ = "authorizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    content: Mapped[str] = mapped_column(Text)  # 授权内容
    datasets_json: Mapped[str] = mapped_column(Text)  # 授权范围
    starts_on: Mapped[str] = mapped_column(String(10))
    ends_on: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[str | None] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))


class AuthFailureRow(Base):
    """Failed credentials from one client address in one minute, counted by every API process of the home
    (``sandbox/api/attempts.py``); rows older than a minute are removed as new ones come."""

    __tablename__ = "auth_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[str] = mapped_column(String(16), primary_key=True)  # YYYY-MM-DDTHH:MM, UTC
    failures: Mapped[int] = mapped_column(Integer)
