"""Adopt the store: finish the pre-Alembic steps of a store written by an earlier release (m001–m006, SQLite),
or create that schema in a new store (SQLite or PostgreSQL).

Revision ID: 0001_adopt
Revises:
"""

import sqlalchemy as sa
from alembic import op

from workbench.store import legacy
from workbench.store.clock import now

revision = "0001_adopt"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())
    if "migrations" in tables:
        _finish_legacy(bind)
    elif "runs" not in tables:
        _create()


def _finish_legacy(bind: sa.engine.Connection) -> None:
    done = {row[0] for row in bind.exec_driver_sql("SELECT name FROM migrations")}
    legacy.apply_steps(lambda sql, params: bind.exec_driver_sql(sql, params), done, now())


def _create() -> None:
    """The schema a store had after m006, written once for both backends."""
    op.create_table(
        "prompt_versions",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("config_hash", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("dataset", sa.Text),
        sa.Column("dataset_hash", sa.Text),
        sa.Column("prompts", sa.Text, nullable=False),
        sa.Column("models", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("n_cells", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.Column("provenance", sa.Text),
    )
    op.create_index("runs_by_config", "runs", ["config_hash", "status"])
    _create_results()
    op.create_table(
        "cache",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
    )
    _create_bad_cases()
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("results.id"), nullable=False),
        sa.Column("rating", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("expected", sa.Text),
        sa.Column("bad_case_id", sa.Integer),
        sa.Column("created_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("feedback_by_result", "feedback", ["result_id"])


def _create_results() -> None:
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("cell_key", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("row_id", sa.Text, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("rendered", sa.Text, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("parsed", sa.Text),
        sa.Column("passed", sa.Integer),
        sa.Column("score", sa.Float),
        sa.Column("scores", sa.Text),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("latency_ms", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("cached", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("retrieved", sa.Text),
        sa.Column("details", sa.Text),
        sa.UniqueConstraint("run_id", "cell_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("results_by_run", "results", ["run_id"])


def _create_bad_cases() -> None:
    op.create_table(
        "bad_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("row_id", sa.Text),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("expected", sa.Text),
        sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("source", sa.Text, nullable=False, server_default="manual"),
        sa.Column("found_in_run", sa.Text),
        sa.Column("result_id", sa.Integer),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.UniqueConstraint("prompt", "model", "fingerprint"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "bad_case_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bad_case_id", sa.Integer, sa.ForeignKey("bad_cases.id"), nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("result_id", sa.Integer),
        sa.Column("prompt", sa.Text),
        sa.Column("version", sa.Integer),
        sa.Column("model", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("passed", sa.Integer),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("checked_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("checks_by_case", "bad_case_checks", ["bad_case_id"])


def downgrade() -> None:
    raise NotImplementedError("The first revision is where a store's history starts; there is nothing below it.")
