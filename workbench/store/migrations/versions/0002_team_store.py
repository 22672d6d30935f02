"""The team store: run leases and origin, the worker of a cluster cell, bad-case row versions (a change from a
stale view is refused), batch jobs of a run, and an index for every lookup the code makes.

Revision ID: 0002_team_store
Revises: 0001_adopt
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_team_store"
down_revision = "0001_adopt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("origin", sa.Text))
    op.add_column("runs", sa.Column("lease_owner", sa.Text))
    op.add_column("runs", sa.Column("lease_heartbeat", sa.Text))
    op.add_column("results", sa.Column("worker", sa.Text))
    op.add_column("bad_cases", sa.Column("row_version", sa.Integer, nullable=False, server_default="1"))
    op.create_index("runs_by_start", "runs", ["started_at"])
    op.create_index("results_by_row", "results", ["row_id"])
    op.create_index("results_by_prompt", "results", ["prompt", "model"])
    op.create_index("bad_cases_by_prompt", "bad_cases", ["prompt", "status"])
    op.create_table(
        "run_batches",
        sa.Column("batch_id", sa.Text, primary_key=True),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("input_file_id", sa.Text, nullable=False),
        sa.Column("cell_keys", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("counts", sa.Text),
        sa.Column("output_file_id", sa.Text),
        sa.Column("error_file_id", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("collected_at", sa.Text),
    )
    op.create_index("batches_by_run", "run_batches", ["run_id"])


def downgrade() -> None:
    op.drop_table("run_batches")
    for index, table in (
        ("bad_cases_by_prompt", "bad_cases"),
        ("results_by_prompt", "results"),
        ("results_by_row", "results"),
        ("runs_by_start", "runs"),
    ):
        op.drop_index(index, table_name=table)
    with op.batch_alter_table("bad_cases") as batch:
        batch.drop_column("row_version")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("worker")
    with op.batch_alter_table("runs") as batch:
        for column in ("lease_heartbeat", "lease_owner", "origin"):
            batch.drop_column(column)
