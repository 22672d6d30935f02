"""The store's schema, built by append-only migrations (``@migration`` functions, recorded in the
``migrations`` table): never edit one that has shipped, add the next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register a schema migration; they run once each, in the order they are defined."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _execute_script(db: sqlite3.Connection, script: str) -> None:
    """Run DDL statements inside the caller's transaction (``executescript`` would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_runs_results_cache(db: sqlite3.Connection) -> None:
    _execute_script(
        db,
        """
        CREATE TABLE prompt_versions (
            name TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
            source TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (name, version)
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY, name TEXT, config_hash TEXT NOT NULL, config TEXT NOT NULL,
            dataset TEXT, dataset_hash TEXT, prompts TEXT NOT NULL, models TEXT NOT NULL,
            status TEXT NOT NULL, n_cells INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL, finished_at TEXT
        );
        CREATE INDEX runs_by_config ON runs (config_hash, status);
        CREATE TABLE results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id), cell_key TEXT NOT NULL,
            prompt TEXT NOT NULL, version INTEGER NOT NULL, model TEXT NOT NULL,
            row_index INTEGER NOT NULL, row_id TEXT NOT NULL, repeat INTEGER NOT NULL DEFAULT 0,
            inputs TEXT NOT NULL, rendered TEXT NOT NULL, output TEXT, parsed TEXT,
            passed INTEGER, score REAL, scores TEXT,
            prompt_tokens INTEGER, completion_tokens INTEGER, latency_ms REAL,
            error TEXT, cached INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, cell_key)
        );
        CREATE INDEX results_by_run ON results (run_id);
        CREATE TABLE cache (
            key TEXT PRIMARY KEY, model TEXT NOT NULL, params TEXT NOT NULL, prompt TEXT NOT NULL,
            response TEXT NOT NULL, created_at TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0
        );
        """,
    )


@migration
def m002_bad_cases(db: sqlite3.Connection) -> None:
    _execute_script(
        db,
        """
        CREATE TABLE bad_cases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            fingerprint TEXT NOT NULL,
            prompt TEXT NOT NULL, version INTEGER NOT NULL, model TEXT NOT NULL,
            row_id TEXT, inputs TEXT NOT NULL, output TEXT, expected TEXT,
            tags TEXT NOT NULL DEFAULT '[]', note TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open', source TEXT NOT NULL DEFAULT 'manual',
            found_in_run TEXT, result_id INTEGER,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            UNIQUE (prompt, fingerprint)
        );
        CREATE TABLE bad_case_checks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            bad_case_id INTEGER NOT NULL REFERENCES bad_cases(id),
            run_id TEXT NOT NULL, result_id INTEGER, prompt TEXT, version INTEGER, model TEXT,
            output TEXT, passed INTEGER, outcome TEXT NOT NULL, checked_at TEXT NOT NULL
        );
        CREATE INDEX checks_by_case ON bad_case_checks (bad_case_id);
        """,
    )


@migration
def m003_retrieved_chunks(db: sqlite3.Connection) -> None:
    """Which knowledge-base chunks a result's prompt was built from (to trace bad answers to bad retrieval)."""
    db.execute("ALTER TABLE results ADD COLUMN retrieved TEXT")


@migration
def m004_provenance_and_details(db: sqlite3.Connection) -> None:
    """Where a run came from (git commit, notebook, versions, model hashes), and per-result details (label
    log-probabilities, the evaluation mode, finish reason)."""
    db.execute("ALTER TABLE runs ADD COLUMN provenance TEXT")
    db.execute("ALTER TABLE results ADD COLUMN details TEXT")


@migration
def m005_feedback(db: sqlite3.Connection) -> None:
    """Ratings of served answers (thumbs up/down, a note, the expected answer); a thumbs-down becomes a bad case."""
    _execute_script(
        db,
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            result_id INTEGER NOT NULL REFERENCES results(id),
            rating TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', expected TEXT,
            bad_case_id INTEGER, created_at TEXT NOT NULL
        );
        CREATE INDEX feedback_by_result ON feedback (result_id);
        """,
    )


@migration
def m006_bad_cases_per_column(db: sqlite3.Connection) -> None:
    """A bad case is an input that one prompt gets wrong on one model: unique per (prompt, model, inputs),
    so a failure on one model never merges into another model's case."""
    _execute_script(
        db,
        """
        CREATE TABLE bad_cases_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            fingerprint TEXT NOT NULL,
            prompt TEXT NOT NULL, version INTEGER NOT NULL, model TEXT NOT NULL,
            row_id TEXT, inputs TEXT NOT NULL, output TEXT, expected TEXT,
            tags TEXT NOT NULL DEFAULT '[]', note TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open', source TEXT NOT NULL DEFAULT 'manual',
            found_in_run TEXT, result_id INTEGER,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            UNIQUE (prompt, model, fingerprint)
        );
        INSERT INTO bad_cases_new SELECT * FROM bad_cases;
        DROP TABLE bad_cases;
        ALTER TABLE bad_cases_new RENAME TO bad_cases;
        """,
    )
