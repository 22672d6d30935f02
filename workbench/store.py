"""The run store: one SQLite file per workspace (default ``.workbench/workbench.db``).

Why SQLite in WAL mode: every result is written the moment it completes, so an interrupted
kernel loses nothing; readers (a notebook, the CLI) never block the writer; and two processes
can share one file (writes wait on ``busy_timeout`` instead of failing).

The schema is built by append-only migrations (``@migration`` functions, recorded in the
``migrations`` table): never edit one that has shipped, add the next.
Secrets never reach this file: texts are passed through :func:`workbench.secrets.redact`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.secrets import redact, secret_values

DEFAULT_STORE = Path(".workbench") / "workbench.db"

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


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class ResultRecord:
    """One cell of a run: a (prompt version, model, dataset row, repeat) and what came of it."""

    run_id: str
    cell_key: str
    prompt: str
    version: int
    model: str
    row_index: int
    row_id: str
    repeat: int
    inputs: dict[str, Any]
    rendered: str
    output: str | None = None
    parsed: Any = None
    passed: bool | None = None
    score: float | None = None
    scores: tuple[dict[str, Any], ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    cached: bool = False
    attempts: int = 1
    retrieved: tuple[dict[str, Any], ...] = ()
    id: int | None = None
    created_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RESULT_FIELDS = [f.name for f in fields(ResultRecord)]


def _row_to_result(row: sqlite3.Row) -> ResultRecord:
    data = dict(row)
    data["inputs"] = json.loads(data["inputs"])
    data["parsed"] = json.loads(data["parsed"]) if data["parsed"] is not None else None
    data["scores"] = tuple(json.loads(data["scores"] or "[]"))
    data["passed"] = None if data["passed"] is None else bool(data["passed"])
    data["cached"] = bool(data["cached"])
    data["retrieved"] = tuple(json.loads(data["retrieved"] or "[]"))
    return ResultRecord(**{k: data[k] for k in RESULT_FIELDS})


class Store:
    """The SQLite run store. Safe to share between threads; many processes may open one file."""

    def __init__(self, path: str | Path | None = None):
        path = path or os.environ.get("WORKBENCH_STORE") or DEFAULT_STORE
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the run store at {self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def __repr__(self) -> str:
        return f"<Store {self.path}>"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` so concurrent writers queue up instead of failing mid-way."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r["name"] for r in db.execute("SELECT name FROM migrations")}
            for name, fn in MIGRATIONS:
                if name not in done:
                    fn(db)
                    db.execute("INSERT INTO migrations VALUES (?, ?)", (name, now()))

    @property
    def schema_version(self) -> list[str]:
        return [r["name"] for r in self.query("SELECT name FROM migrations ORDER BY name")]

    # -- prompt versions -----------------------------------------------------------------
    def record_prompt_version(
        self, name: str, version: int, content_hash: str, source: str, where: str | None = None
    ) -> None:
        """Remember the exact text of a version a run used; refuse a changed text under the same number."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT content_hash FROM prompt_versions WHERE name=? AND version=?", (name, version)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO prompt_versions VALUES (?, ?, ?, ?, ?)",
                    (name, version, content_hash, redact(source), now()),
                )
            elif row["content_hash"] != content_hash:
                raise StoreError(
                    f"{where or name}: version {version} of prompt {name!r} was already used by a run with "
                    "different text, and used versions are immutable. Save your edit as a new version "
                    f"(PromptLibrary.save / `workbench prompts save`) or set `version: {version + 1}`."
                )

    def prompt_version_source(self, name: str, version: int) -> str | None:
        rows = self.query("SELECT source FROM prompt_versions WHERE name=? AND version=?", (name, version))
        return rows[0]["source"] if rows else None

    def used_versions(self, name: str) -> list[int]:
        return [
            r["version"]
            for r in self.query("SELECT version FROM prompt_versions WHERE name=? ORDER BY version", (name,))
        ]

    # -- runs ----------------------------------------------------------------------------
    def create_run(
        self,
        *,
        config: dict[str, Any],
        config_hash: str,
        prompts: list[str],
        models: list[str],
        dataset: str | None,
        dataset_hash: str,
        n_cells: int,
        name: str | None = None,
    ) -> str:
        run_id = new_run_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (id, name, config_hash, config, dataset, dataset_hash, prompts, models,"
                " status, n_cells, started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    name,
                    config_hash,
                    redact(_json(config)),
                    dataset,
                    dataset_hash,
                    _json(prompts),
                    redact(_json(models)),
                    "running",
                    n_cells,
                    now(),
                ),
            )
        return run_id

    def resumable_run(self, config_hash: str) -> str | None:
        """The latest unfinished run (killed, interrupted) with exactly this configuration."""
        rows = self.query(
            "SELECT id FROM runs WHERE config_hash=? AND status IN ('running','interrupted')"
            " ORDER BY started_at DESC LIMIT 1",
            (config_hash,),
        )
        return rows[0]["id"] if rows else None

    def set_run_status(self, run_id: str, status: str) -> None:
        finished = now() if status in ("completed", "interrupted", "failed") else None
        with self.transaction() as db:
            db.execute("UPDATE runs SET status=?, finished_at=? WHERE id=?", (status, finished, run_id))

    def run(self, run_id: str) -> dict[str, Any]:
        rows = self.query("SELECT * FROM runs WHERE id=?", (run_id,))
        if not rows:
            matches = self.query("SELECT id FROM runs WHERE id LIKE ? ORDER BY started_at DESC", (f"{run_id}%",))
            if len(matches) == 1:
                return self.run(matches[0]["id"])
            raise StoreError(f"No run {run_id!r} in {self.path}. List runs with `workbench runs list`.")
        data = dict(rows[0])
        for key in ("config", "prompts", "models"):
            data[key] = json.loads(data[key])
        return data

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT r.id, r.name, r.status, r.prompts, r.models, r.dataset, r.n_cells, r.started_at,"
            " r.finished_at, COUNT(x.id) AS done, SUM(x.passed) AS passed, SUM(x.error IS NOT NULL) AS errors"
            " FROM runs r LEFT JOIN results x ON x.run_id = r.id GROUP BY r.id"
            " ORDER BY r.started_at DESC LIMIT ?",
            (limit,),
        )
        return [dict(r) for r in rows]

    def latest_run_id(self) -> str | None:
        rows = self.query("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1")
        return rows[0]["id"] if rows else None

    # -- results -------------------------------------------------------------------------
    def write_result(self, record: ResultRecord, *, cache_entry: dict[str, Any] | None = None) -> ResultRecord:
        """Insert or replace one cell's result (a retried cell replaces its earlier error).

        ``cache_entry`` (the arguments of :meth:`cache_put`) is written in the same transaction,
        so a cell costs one commit.
        """
        created = record.created_at or now()
        secrets = secret_values()  # one scan of the environment per cell, not per field

        def clean(text: str | None) -> str | None:
            return redact(text, secrets)

        values = (
            record.run_id,
            record.cell_key,
            record.prompt,
            record.version,
            record.model,
            record.row_index,
            record.row_id,
            record.repeat,
            clean(_json(record.inputs)),
            clean(record.rendered),
            clean(record.output),
            None if record.parsed is None else clean(_json(record.parsed)),
            None if record.passed is None else int(record.passed),
            record.score,
            clean(_json(list(record.scores))),
            record.prompt_tokens,
            record.completion_tokens,
            record.latency_ms,
            clean(record.error),
            int(record.cached),
            record.attempts,
            created,
            _json(list(record.retrieved)) if record.retrieved else None,
        )
        with self.transaction() as db:
            if cache_entry is not None:
                self._cache_put(db, secrets=secrets, **cache_entry)
            cur = db.execute(
                "INSERT INTO results (run_id, cell_key, prompt, version, model, row_index, row_id, repeat,"
                " inputs, rendered, output, parsed, passed, score, scores, prompt_tokens, completion_tokens,"
                " latency_ms, error, cached, attempts, created_at, retrieved) VALUES"
                " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (run_id, cell_key) DO UPDATE SET output=excluded.output,"
                " parsed=excluded.parsed, passed=excluded.passed, score=excluded.score,"
                " scores=excluded.scores, prompt_tokens=excluded.prompt_tokens,"
                " completion_tokens=excluded.completion_tokens, latency_ms=excluded.latency_ms,"
                " error=excluded.error, cached=excluded.cached, attempts=excluded.attempts,"
                " created_at=excluded.created_at, retrieved=excluded.retrieved RETURNING id",
                values,
            )
            result_id = cur.fetchone()[0]
        from dataclasses import replace

        return replace(record, id=result_id, created_at=created)

    def results(self, run_id: str) -> list[ResultRecord]:
        run_id = self.run(run_id)["id"]
        rows = self.query(
            "SELECT * FROM results WHERE run_id=? ORDER BY prompt, version, model, row_index, repeat", (run_id,)
        )
        return [_row_to_result(r) for r in rows]

    def result(self, result_id: int) -> ResultRecord:
        rows = self.query("SELECT * FROM results WHERE id=?", (result_id,))
        if not rows:
            raise StoreError(f"No result with id {result_id} in {self.path}.")
        return _row_to_result(rows[0])

    def completed_cells(self, run_id: str) -> dict[str, ResultRecord]:
        """Cells of a run that finished without error (a resumed run skips them)."""
        rows = self.query("SELECT * FROM results WHERE run_id=? AND error IS NULL", (run_id,))
        return {r["cell_key"]: _row_to_result(r) for r in rows}

    # -- response cache ------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT response FROM cache WHERE key=?", (key,))
        return json.loads(rows[0]["response"]) if rows else None

    def cache_put(self, key: str, *, model: str, params: dict[str, Any], prompt: str, response: dict[str, Any]) -> None:
        with self.transaction() as db:
            self._cache_put(db, key=key, model=model, params=params, prompt=prompt, response=response)

    def _cache_put(
        self,
        db: sqlite3.Connection,
        *,
        key: str,
        model: str,
        params: dict[str, Any],
        prompt: str,
        response: dict[str, Any],
        secrets: list[str] | None = None,
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO cache (key, model, params, prompt, response, created_at, hits)"
            " VALUES (?,?,?,?,?,?,0)",
            (
                key,
                redact(model, secrets),
                _json(params),
                redact(prompt, secrets),
                redact(_json(response), secrets),
                now(),
            ),
        )

    def cache_size(self) -> int:
        return self.query("SELECT COUNT(*) AS n FROM cache")[0]["n"]
