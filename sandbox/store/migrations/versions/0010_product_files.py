"""a released product version's files and their SHA-256, as the gate wrote them

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("files_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.drop_column("files_json")
