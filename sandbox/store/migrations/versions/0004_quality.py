"""quality runs, results, tickets and exceptions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: (table, column) pairs with a plain index, created after and dropped before their tables
INDEXES = (
    ("quality_deliveries", "provider_id"),
    ("quality_runs", "dataset_id"),
    ("quality_runs", "provider_id"),
    ("quality_rule_results", "run_id"),
    ("quality_tickets", "dataset_id"),
    ("quality_tickets", "provider_id"),
    ("quality_tickets", "run_id"),
    ("quality_tickets", "state"),
    ("quality_exceptions", "dataset_id"),
)
TABLES = (
    "quality_deliveries",
    "quality_webhooks",
    "quality_runs",
    "quality_rule_results",
    "quality_tickets",
    "quality_exceptions",
)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "quality_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("provider_id", 64),
        _text("event", 64),
        _text("payload_sha256", 64),
        _text("state", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _text("created_at", 32),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_webhooks",
        _text("provider_id", 64),
        _text("url", 500),
        _text("key_name", 100),
        _text("created_by", 64),
        _text("created_at", 32),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"]),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    op.create_table(
        "quality_runs",
        _text("id", 32),
        _text("dataset_id", 64),
        _text("provider_id", 64),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("as_of", 10),
        _text("suite_source", 500),
        _text("suite_sha256", 64),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("dimension_scores_json", sa.Text(), nullable=False),
        sa.Column("gx_success", sa.Boolean(), nullable=False),
        _text("gx_result_path", 500),
        _text("keys_path", 500),
        _text("started_by", 64),
        _text("started_at", 32),
        _text("finished_at", 32),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_rule_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("run_id", 32),
        _text("rule_id", 64),
        _text("check", 32),
        _text("column_label", 200),
        _text("dimension", 8),
        _text("severity", 8),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("element_count", sa.BigInteger(), nullable=False),
        sa.Column("unexpected_rows", sa.BigInteger(), nullable=False),
        sa.Column("failing_keys", sa.BigInteger(), nullable=False),
        sa.Column("excepted_keys", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["quality_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "rule_id"),
    )
    op.create_table(
        "quality_tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("provider_id", 64),
        _text("dataset_id", 64),
        _text("rule_id", 64),
        _text("run_id", 32, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        _text("column_label", 200),
        _text("dimension", 8),
        _text("severity", 8),
        _text("state", 16),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggested_fix", sa.Text(), nullable=False),
        sa.Column("key_count", sa.BigInteger(), nullable=False),
        sa.Column("remaining_count", sa.BigInteger(), nullable=False),
        sa.Column("examples_json", sa.Text(), nullable=False),
        _text("keys_path", 500, nullable=True),
        _text("due_on", 10),
        sa.Column("due_exact", sa.Boolean(), nullable=False),
        _text("raised_by", 64),
        _text("created_at", 32),
        _text("answered_at", 32, nullable=True),
        _text("closed_at", 32, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _text("updated_at", 32),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["quality_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_exceptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("dataset_id", 64),
        _text("rule_id", 64),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("key_count", sa.BigInteger(), nullable=False),
        _text("keys_path", 500),
        _text("decided_by", 64),
        _text("created_at", 32),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["quality_tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    for table in reversed(TABLES):
        op.drop_table(table)
