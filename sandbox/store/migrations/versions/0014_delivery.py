"""product delivery: consumers' API keys, their daily request counts, metered usage per product and day

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.username"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_org_id"), ["org_id"], unique=False)
    op.create_table(
        "api_key_days",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("key_id", "day"),
    )
    op.create_table(
        "product_usage",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("rows_served", sa.BigInteger(), nullable=False),
        sa.Column("bytes_served", sa.BigInteger(), nullable=False),
        sa.Column("fee_micro_yuan", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("org_id", "product_id", "day"),
    )
    with op.batch_alter_table("product_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_usage_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_usage_day"))
    op.drop_table("product_usage")
    op.drop_table("api_key_days")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_org_id"))
    op.drop_table("api_keys")
