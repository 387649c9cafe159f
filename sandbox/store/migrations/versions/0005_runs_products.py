"""job submissions, runs and product versions

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_submissions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("submitter", sa.String(length=64), nullable=False),
        sa.Column("snapshot_path", sa.String(length=500), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("check_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.String(length=32), nullable=True),
        sa.Column("submitted_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.ForeignKeyConstraint(["submitter"], ["users.username"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_submissions_job_id"), ["job_id"], unique=False)
    op.create_table(
        "job_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("promoted_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dataset_versions_json", sa.Text(), nullable=False),
        sa.Column("isolation_json", sa.Text(), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=True),
        sa.Column("error_line", sa.Integer(), nullable=True),
        sa.Column("logs_path", sa.String(length=500), nullable=False),
        sa.Column("gate_summary_json", sa.Text(), nullable=True),
        sa.Column("product_version_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["job_submissions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("dataset_versions_json", sa.Text(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("outputs_json", sa.Text(), nullable=False),
        sa.Column("released_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["job_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "version"),
    )
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_versions_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_versions_product_id"))
    op.drop_table("product_versions")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_submission_id"))
    op.drop_table("job_runs")
    with op.batch_alter_table("job_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_submissions_job_id"))
    op.drop_table("job_submissions")
