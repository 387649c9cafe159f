"""Product delivery: consumers' API keys, their daily request counts, and metered usage."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.store.models.base import Base


class ApiKeyRow(Base):
    """A consumer organization's key for the product query API; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    daily_quota: Mapped[int] = mapped_column(Integer)  # answered requests per day (Asia/Shanghai)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.username"))
    created_at: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class ApiKeyDayRow(Base):
    """Answered requests of one key on one day (Asia/Shanghai): what its quota is checked against."""

    __tablename__ = "api_key_days"

    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)


class ProductUsageRow(Base):
    """What one consumer organization took of one product on one day (Asia/Shanghai), and its fee.

    ``fee_micro_yuan`` accumulates each answered request's fee at the price in force when it was
    answered (millionths of a yuan, exact), so a later price change never rewrites a bill.
    """

    __tablename__ = "product_usage"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)
    requests: Mapped[int] = mapped_column(Integer)
    rows_served: Mapped[int] = mapped_column(BigInteger)
    bytes_served: Mapped[int] = mapped_column(BigInteger)
    fee_micro_yuan: Mapped[int] = mapped_column(BigInteger)
