"""an approval's terms: runs allowed, until when, under which policy, on which dataset versions

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_submissions", schema=None) as batch_op:
        batch_op.drop_column("terms_json")
