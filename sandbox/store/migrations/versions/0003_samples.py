"""sample versions and sample cards

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.String(length=32), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("card_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("deleted_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scenario_id", "version"),
    )
    with op.batch_alter_table("sample_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_versions_scenario_id"), ["scenario_id"], unique=False)
    op.create_table(
        "sample_datasets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sample_version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("raw_version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("k_achieved", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["sample_version_id"], ["sample_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_version_id", "dataset_id"),
    )
    op.create_table(
        "sample_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sample_version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("declared_kind", sa.String(length=32), nullable=False),
        sa.Column("detected_kind", sa.String(length=32), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["sample_version_id"], ["sample_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sample_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sample_findings_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sample_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sample_findings_provider_id"))
    op.drop_table("sample_findings")
    op.drop_table("sample_datasets")
    with op.batch_alter_table("sample_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sample_versions_scenario_id"))
    op.drop_table("sample_versions")
