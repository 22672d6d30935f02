"""The schema steps of releases before Alembic (m001–m006), kept verbatim so their stores can be adopted.

A store written by an earlier release has a ``migrations`` table naming the steps it went through. The first
Alembic revision (``0001_adopt``) finishes whichever of these steps a store lacks, then Alembic takes over.
The tests build a store at every one of these steps, fill every table, upgrade it and compare the rows.

m006 rebuilds ``bad_cases``: the release that shipped it ran it with foreign keys on, so a store with any
``bad_case_checks`` row failed the rebuild on every open. The adoption runs it the way SQLite documents a table
rebuild — foreign keys off for the duration, ``PRAGMA foreign_key_check`` before the commit
(:func:`workbench.store.engine.upgrade` does both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_M001 = """
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
)
"""

_M002 = """
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
CREATE INDEX checks_by_case ON bad_case_checks (bad_case_id)
"""

_M003 = "ALTER TABLE results ADD COLUMN retrieved TEXT"

_M004 = """
ALTER TABLE runs ADD COLUMN provenance TEXT;
ALTER TABLE results ADD COLUMN details TEXT
"""

_M005 = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id INTEGER NOT NULL REFERENCES results(id),
    rating TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', expected TEXT,
    bad_case_id INTEGER, created_at TEXT NOT NULL
);
CREATE INDEX feedback_by_result ON feedback (result_id)
"""

_M006 = """
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
ALTER TABLE bad_cases_new RENAME TO bad_cases
"""

#: (name recorded in the ``migrations`` table, its statements), in the order the releases applied them.
STEPS: list[tuple[str, str]] = [
    ("m001_runs_results_cache", _M001),
    ("m002_bad_cases", _M002),
    ("m003_retrieved_chunks", _M003),
    ("m004_provenance_and_details", _M004),
    ("m005_feedback", _M005),
    ("m006_bad_cases_per_column", _M006),
]
STEP_NAMES = [name for name, _ in STEPS]


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def apply_steps(execute: Callable[[str, tuple[Any, ...]], Any], done: set[str], stamp: str) -> list[str]:
    """Apply the steps not in ``done`` (``execute(sql, params)`` runs one statement); return their names."""
    applied = []
    for name, script in STEPS:
        if name in done:
            continue
        for statement in statements(script):
            execute(statement, ())
        execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, stamp))
        applied.append(name)
    return applied
