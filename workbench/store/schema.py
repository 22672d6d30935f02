"""The store's tables at the newest schema revision, as SQLAlchemy Core objects the queries are written against.

The tables are *created* by the Alembic revisions in :mod:`workbench.store.migrations` (so every store, new or
upgraded, has the same shape); ``tests/test_store_migrations.py`` checks that a migrated store and these
definitions agree column for column, on SQLite and on PostgreSQL.

Types are chosen to behave the same on both backends: JSON is kept as text (written by one serialiser, sorted
keys), times as ISO-8601 UTC text (they sort as text), booleans as 0/1 integers.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text, UniqueConstraint

#: The revision a store must be at for this release (the head of the Alembic chain; a test checks they agree).
HEAD_REVISION = "0002_team_store"

metadata = MetaData()

prompt_versions = Table(
    "prompt_versions",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_hash", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text),
    Column("config_hash", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("dataset", Text),
    Column("dataset_hash", Text),
    Column("prompts", Text, nullable=False),
    Column("models", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("n_cells", Integer, nullable=False, server_default="0"),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("provenance", Text),
    Column("origin", Text),  # notebook | cli | nightly | cluster | serve | ui | python
    Column("lease_owner", Text),  # host:pid:token of the process executing the run
    Column("lease_heartbeat", Text),  # when that process last said it is alive
    Index("runs_by_config", "config_hash", "status"),
    Index("runs_by_start", "started_at"),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Text, ForeignKey("runs.id"), nullable=False),
    Column("cell_key", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("row_index", Integer, nullable=False),
    Column("row_id", Text, nullable=False),
    Column("repeat", Integer, nullable=False, server_default="0"),
    Column("inputs", Text, nullable=False),
    Column("rendered", Text, nullable=False),
    Column("output", Text),
    Column("parsed", Text),
    Column("passed", Integer),
    Column("score", Float),
    Column("scores", Text),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency_ms", Float),
    Column("error", Text),
    Column("cached", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("created_at", Text, nullable=False),
    Column("retrieved", Text),
    Column("details", Text),
    Column("worker", Text),  # the Dask worker a cluster run's cell ran on
    UniqueConstraint("run_id", "cell_key"),
    Index("results_by_run", "run_id"),
    Index("results_by_row", "row_id"),
    Index("results_by_prompt", "prompt", "model"),
    sqlite_autoincrement=True,
)

cache = Table(
    "cache",
    metadata,
    Column("key", Text, primary_key=True),
    Column("model", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("hits", Integer, nullable=False, server_default="0"),
)

bad_cases = Table(
    "bad_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("row_id", Text),
    Column("inputs", Text, nullable=False),
    Column("output", Text),
    Column("expected", Text),
    Column("tags", Text, nullable=False, server_default="[]"),
    Column("note", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="open"),
    Column("source", Text, nullable=False, server_default="manual"),
    Column("found_in_run", Text),
    Column("result_id", Integer),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("row_version", Integer, nullable=False, server_default="1"),  # refuses changes made from a stale view
    UniqueConstraint("prompt", "model", "fingerprint"),
    Index("bad_cases_by_prompt", "prompt", "status"),
    sqlite_autoincrement=True,
)

bad_case_checks = Table(
    "bad_case_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bad_case_id", Integer, ForeignKey("bad_cases.id"), nullable=False),
    Column("run_id", Text, nullable=False),
    Column("result_id", Integer),
    Column("prompt", Text),
    Column("version", Integer),
    Column("model", Text),
    Column("output", Text),
    Column("passed", Integer),
    Column("outcome", Text, nullable=False),
    Column("checked_at", Text, nullable=False),
    Index("checks_by_case", "bad_case_id"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("result_id", Integer, ForeignKey("results.id"), nullable=False),
    Column("rating", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("expected", Text),
    Column("bad_case_id", Integer),
    Column("created_at", Text, nullable=False),
    Index("feedback_by_result", "result_id"),
    sqlite_autoincrement=True,
)

run_batches = Table(
    "run_batches",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("run_id", Text, ForeignKey("runs.id"), nullable=False),
    Column("model", Text, nullable=False),
    Column("input_file_id", Text, nullable=False),
    Column("cell_keys", Text, nullable=False),  # JSON list: the cells this batch answers
    Column("status", Text, nullable=False),  # the provider's status, as last seen
    Column("counts", Text),  # JSON: the provider's request counts
    Column("output_file_id", Text),
    Column("error_file_id", Text),
    Column("created_at", Text, nullable=False),
    Column("collected_at", Text),
    Index("batches_by_run", "run_id"),
)

#: The tables ``workbench store stats`` counts, in the order it prints them.
COUNTED_TABLES = ("runs", "results", "cache", "bad_cases", "bad_case_checks", "feedback", "prompt_versions")
