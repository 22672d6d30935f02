"""The run store: one SQLite file per workspace (default ``.workbench/workbench.db``).

Why SQLite in WAL mode: every result is written the moment it completes, so an interrupted kernel loses
nothing; readers (a notebook, the CLI) never block the writer; and two processes can share one file (writes
wait on ``busy_timeout`` instead of failing). The schema is built by append-only migrations
(:mod:`workbench.store.migrations`). Secrets never reach this file: every record passes through
:func:`workbench.store.records.redact_record`, and the record a write returns is the redacted one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.secrets import redact, redact_value, secret_values
from workbench.store.migrations import MIGRATIONS
from workbench.store.records import (
    INSERT_RESULT,
    ResultRecord,
    record_values,
    redact_record,
    row_to_record,
    to_json,
)

__all__ = ["DEFAULT_STORE", "ResultRecord", "Store", "new_run_id", "now"]

DEFAULT_STORE = Path(".workbench") / "workbench.db"
RUN_STATUSES = ("running", "interrupted", "completed", "failed", "serving", "stopped")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


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
        provenance: dict[str, Any] | None = None,
        status: str = "running",
    ) -> str:
        run_id = new_run_id()
        secrets = secret_values()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (id, name, config_hash, config, dataset, dataset_hash, prompts, models,"
                " status, n_cells, started_at, provenance) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    redact(name, secrets),
                    config_hash,
                    to_json(redact_value(config, secrets)),
                    redact(dataset, secrets),
                    dataset_hash,
                    to_json(prompts),
                    to_json(redact_value(models, secrets)),
                    status,
                    n_cells,
                    now(),
                    to_json(redact_value(provenance or {}, secrets)),
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
        finished = now() if status in ("completed", "interrupted", "failed", "stopped") else None
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
        data["provenance"] = json.loads(data.get("provenance") or "{}")
        return data

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT r.id, r.name, r.status, r.prompts, r.models, r.dataset, r.n_cells, r.started_at,"
            " r.finished_at, COUNT(x.id) AS done, SUM(x.passed) AS passed, SUM(x.passed IS NOT NULL) AS judged,"
            " SUM(x.error IS NOT NULL) AS errors"
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
        """Insert or replace one cell's result (a retried cell replaces its earlier error); return the stored,
        redacted record — what every view of it must show.

        ``cache_entry`` (the arguments of :meth:`cache_put`) is written in the same transaction, so a cell
        costs one commit.
        """
        secrets = secret_values()  # one look at the environment per cell, not per field
        if record.created_at is None:
            record = replace(record, created_at=now())
        clean = redact_record(record, secrets)
        with self.transaction() as db:
            if cache_entry is not None:
                self._cache_put(db, secrets=secrets, **cache_entry)
            result_id = db.execute(INSERT_RESULT, record_values(clean)).fetchone()[0]
        return replace(clean, id=result_id)

    def results(self, run_id: str) -> list[ResultRecord]:
        """A run's records, in the run's own order: its prompt versions, then its models, then rows and repeats."""
        run = self.run(run_id)
        rows = [row_to_record(r) for r in self.query("SELECT * FROM results WHERE run_id=?", (run["id"],))]
        prompts = {ref: i for i, ref in enumerate(run["prompts"])}
        models = {spec: i for i, spec in enumerate(run["models"])}

        def order(r: ResultRecord) -> tuple[Any, ...]:
            prompt_at = prompts.get(str(r.column.ref), len(prompts))
            return (prompt_at, r.prompt, r.version, models.get(r.model, len(models)), r.model, r.row_index, r.repeat)

        return sorted(rows, key=order)

    def result(self, result_id: int) -> ResultRecord:
        rows = self.query("SELECT * FROM results WHERE id=?", (result_id,))
        if not rows:
            raise StoreError(f"No result with id {result_id} in {self.path}.")
        return row_to_record(rows[0])

    def result_for_request(self, request_id: str) -> ResultRecord:
        """The result a served request left (its row id is the request's id)."""
        rows = self.query("SELECT * FROM results WHERE row_id=? ORDER BY id DESC LIMIT 1", (request_id,))
        if not rows:
            raise StoreError(f"No served request with id {request_id!r} in {self.path}.")
        return row_to_record(rows[0])

    def completed_cells(self, run_id: str) -> dict[str, ResultRecord]:
        """Cells of a run that finished without error (a resumed run skips them)."""
        rows = self.query("SELECT * FROM results WHERE run_id=? AND error IS NULL", (run_id,))
        return {r["cell_key"]: row_to_record(r) for r in rows}

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
                to_json(params),
                redact(prompt, secrets),
                redact(to_json(response), secrets),
                now(),
            ),
        )

    def cache_size(self) -> int:
        return self.query("SELECT COUNT(*) AS n FROM cache")[0]["n"]

    # -- feedback on served answers --------------------------------------------------------
    def add_feedback(
        self,
        result_id: int,
        rating: str,
        *,
        note: str = "",
        expected: str | None = None,
        bad_case_id: int | None = None,
    ) -> int:
        self.result(result_id)
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO feedback (result_id, rating, note, expected, bad_case_id, created_at)"
                " VALUES (?,?,?,?,?,?) RETURNING id",
                (result_id, rating, redact(note) or "", redact(expected), bad_case_id, now()),
            )
            return cur.fetchone()[0]

    def feedback(self, result_id: int | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM feedback", ()
        if result_id is not None:
            sql, params = sql + " WHERE result_id=?", (result_id,)
        return [dict(r) for r in self.query(sql + " ORDER BY id", params)]
