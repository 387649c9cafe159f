"""Product registration (登记), terms of use and re-development applications."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class ProductRow(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"))
    category: Mapped[str] = mapped_column(String(16))
    fee_bearing: Mapped[bool] = mapped_column(Boolean)
    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    form: Mapped[str] = mapped_column(String(32))  # 数据集 / API接口
    registration_no: Mapped[str] = mapped_column(String(32), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16))
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))


class RedevelopmentRow(Base):
    __tablename__ = "redevelopments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    applicant: Mapped[str] = mapped_column(ForeignKey("users.username"))
    applicant_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    purpose: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))


class ProductTermsRow(Base):
    """Terms of use (使用条款): an operator lets one consumer organization take one fee-bearing product."""

    __tablename__ = "product_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[str] = mapped_column(String(32))
    ends_on: Mapped[str | None] = mapped_column(String(10))  # last day in force (inclusive); None: open-ended
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
