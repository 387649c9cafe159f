"""the release register: every released cell of a production run, for differencing across runs

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("datasets_json", sa.Text(), nullable=False),
        sa.Column("members", sa.String(length=64), nullable=True),
        sa.Column("member_bytes", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.String(length=32), nullable=False),
        sa.Column("cleared_at", sa.String(length=32), nullable=True),
        sa.Column("cleared_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_run_id"), ["run_id"], unique=False)
    op.create_table(
        "release_cells",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("members_release", sa.Integer(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("output", sa.String(length=64), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=48), nullable=False),
        sa.Column("count_shown", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"]),
        sa.ForeignKeyConstraint(["members_release"], ["releases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("release_cells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_cells_release_id"), ["release_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("release_cells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_cells_release_id"))
    op.drop_table("release_cells")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_run_id"))
    op.drop_table("releases")
