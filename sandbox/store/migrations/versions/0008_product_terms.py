"""terms of use for fee-bearing products

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_terms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_org_id", sa.String(length=64), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.String(length=32), nullable=False),
        sa.Column("ends_on", sa.String(length=10), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["consumer_org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("product_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_terms_consumer_org_id"), ["consumer_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_terms_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_terms_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_terms_consumer_org_id"))
    op.drop_table("product_terms")
