"""Upgrades keep everything: a store written at every earlier schema step (m001–m006, the releases before Alembic),
with rows in every table it had, opens after the upgrade with every row kept, column for column. And every store,
new or upgraded, SQLite or PostgreSQL, has exactly the tables and columns the queries are written against."""

import json
import sqlite3

import pytest
from sqlalchemy import create_engine, inspect

from workbench.store import Store, legacy
from workbench.store.schema import HEAD_REVISION, metadata

JSON_COLUMNS = {"config", "prompts", "models", "provenance", "inputs", "parsed", "scores", "retrieved", "details"}
JSON_COLUMNS |= {"params", "response", "tags"}


def _value(table: str, column: str, kind: str, i: int) -> object:
    if column in JSON_COLUMNS:
        return json.dumps({"table": table, "i": i, "文": "中"} if column != "tags" else [f"tag{i}"])
    if column in ("prompts", "models"):
        return json.dumps([f"{column}{i}"])
    if kind.upper().startswith("INT"):
        return i
    if kind.upper() == "REAL":
        return i + 0.5
    return f"{table}.{column}.{i}"


REFERENCES = {("results", "run_id"): "run-{i}", ("runs", "id"): "run-{i}", ("bad_case_checks", "run_id"): "run-{i}"}


def _fill(connection: sqlite3.Connection, rows_per_table: int = 3) -> dict[str, list[tuple]]:
    """Rows in every table, references pointing at real rows; what was written, per table."""
    written = {}
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    order = ["prompt_versions", "runs", "results", "cache", "bad_cases", "bad_case_checks", "feedback"]
    for table in [t for t in order if t in tables]:
        columns = [(c[1], c[2]) for c in connection.execute(f"PRAGMA table_info({table})")]
        rows = []
        for i in range(1, rows_per_table + 1):
            values = []
            for name, kind in columns:
                template = REFERENCES.get((table, name))
                values.append(template.format(i=i) if template else _value(table, name, kind, i))
            rows.append(tuple(values))
        names = ", ".join(name for name, _ in columns)
        marks = ", ".join("?" for _ in columns)
        connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        written[table] = (names, rows)
    return written


def _legacy_store(path, steps: int) -> dict:
    """A store as the release that had applied ``steps`` pre-Alembic steps wrote it (foreign keys on, as it ran)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    connection.execute("BEGIN")
    for name, script in legacy.STEPS[:steps]:
        for statement in legacy.statements(script):
            connection.execute(statement)
        connection.execute("INSERT INTO migrations VALUES (?, ?)", (name, "2026-11-01T00:00:00+00:00"))
    written = _fill(connection)
    connection.execute("COMMIT")
    connection.close()
    return written


@pytest.mark.parametrize("steps", range(1, len(legacy.STEPS) + 1), ids=lambda n: legacy.STEP_NAMES[n - 1])
def test_a_store_from_every_earlier_step_keeps_every_row(tmp_path, steps):
    path = tmp_path / "old.db"
    written = _legacy_store(path, steps)
    store = Store(path)
    assert store.stats()["schema_revision"] == HEAD_REVISION
    store.close()
    connection = sqlite3.connect(path)
    for table, (names, rows) in written.items():
        kept = connection.execute(f"SELECT {names} FROM {table} ORDER BY rowid").fetchall()
        assert kept == rows, f"{table} changed in the upgrade"
    reopened = Store(path)  # and it opens again, and its records read
    assert reopened.results("run-1")[0].inputs["文"] == "中"
    if "bad_cases" in written:
        assert reopened.bad_case_rows()[0]["row_version"] == 1
        assert reopened.stats()["bad_case_checks"] == 3, "checks written before m006 survive its table rebuild"


def _columns(url: str) -> dict[str, set[str]]:
    """Per table: its columns and its named indexes."""
    engine = create_engine(url)
    inspector = inspect(engine)
    found = {}
    for table in inspector.get_table_names():
        names = {c["name"] for c in inspector.get_columns(table)}
        indexes = [i for i in inspector.get_indexes(table) if not i.get("duplicates_constraint")]  # UNIQUE (...)
        names |= {f"index {i['name']}" for i in indexes if not i["name"].startswith("sqlite_")}
        found[table] = names
    engine.dispose()
    return {t: c for t, c in found.items() if t not in ("alembic_version", "migrations")}


def _expected() -> dict[str, set[str]]:
    return {
        name: {c.name for c in table.columns} | {f"index {i.name}" for i in table.indexes}
        for name, table in metadata.tables.items()
    }


def test_new_and_upgraded_sqlite_stores_have_the_schema_the_queries_use(tmp_path):
    from workbench.store import parse_location
    from workbench.store.engine import make_engine, upgrade

    Store(tmp_path / "new.db").close()  # a new store: the tables of schema.py, stamped at the head
    location = parse_location(tmp_path / "by-revisions.db")
    upgrade(make_engine(location), location)  # the same, built by the Alembic revisions from nothing
    assert _columns(f"sqlite:///{tmp_path / 'by-revisions.db'}") == _expected()
    _legacy_store(tmp_path / "old.db", len(legacy.STEPS))
    Store(tmp_path / "old.db").close()
    assert _columns(f"sqlite:///{tmp_path / 'new.db'}") == _expected()
    assert _columns(f"sqlite:///{tmp_path / 'old.db'}") == _expected()


@pytest.mark.postgres
def test_a_postgresql_store_has_the_schema_the_queries_use(postgres_url, postgres_server):
    from workbench.store import parse_location
    from workbench.store.engine import make_engine, upgrade

    Store(postgres_url).close()
    assert _columns(postgres_url.replace("postgresql://", "postgresql+psycopg://")) == _expected()
    by_revisions = parse_location(postgres_server.create_database("wb_revisions"))
    upgrade(make_engine(by_revisions), by_revisions)
    assert _columns(by_revisions.url) == _expected()


def test_the_head_revision_is_the_end_of_the_alembic_chain():
    from workbench.store.engine import _script_directory

    assert _script_directory().get_current_head() == HEAD_REVISION
