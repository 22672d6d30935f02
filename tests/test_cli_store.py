"""`workbench store` on a new, empty store — the first command a team runs on its PostgreSQL database (and a person
on a new SQLite file): the store is created at this release's schema revision by whichever command touches it
first, or by `workbench store init`, and the command says so. Each test runs on both backends (`store_url`: a file
that does not exist yet, and an empty database on a real PostgreSQL server)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli import app
from workbench.store import Store
from workbench.store.schema import HEAD_REVISION

cli = CliRunner()


def _store(*args: str):
    return cli.invoke(app, ["store", *args])


def test_store_stats_on_an_empty_store_creates_it_and_says_so(store_url):
    first = _store("stats", "--store", store_url)
    assert first.exit_code == 0, first.output
    assert "does not exist" not in first.output and "no such table" not in first.output
    assert f"Created a new store at {Store(store_url).url} (schema revision {HEAD_REVISION})" in first.output
    assert "runs             0" in first.output and f"schema_revision  {HEAD_REVISION}" in first.output
    again = _store("stats", "--store", store_url)
    assert again.exit_code == 0 and "Created" not in again.output, again.output


def test_store_stats_as_json_stays_json_when_it_creates_the_store(store_url):
    """The announcement goes to stderr, so `--format json` output is still one JSON document on stdout."""
    done = CliRunner().invoke(app, ["store", "stats", "--store", store_url, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["schema_revision"] == HEAD_REVISION
    assert "Created a new store" in done.stderr


def test_store_upgrade_on_a_blank_database_creates_it_rather_than_claiming_an_upgrade(store_url):
    done = _store("upgrade", "--store", store_url)
    assert done.exit_code == 0, done.output
    assert "before Alembic" not in done.output and "upgraded from" not in done.output, done.output
    assert f"Created a new store at {Store(store_url).url} (schema revision {HEAD_REVISION})" in done.output
    assert "already at revision" in _store("upgrade", "--store", store_url).output


def test_store_init_creates_a_store_once(store_url):
    first = _store("init", "--store", store_url)
    assert first.exit_code == 0, first.output
    assert f"Created a new store at {Store(store_url).url} (schema revision {HEAD_REVISION})" in first.output
    second = _store("init", "--store", store_url)
    assert second.exit_code == 0 and "Created" not in second.output, second.output
    assert f"already exists at schema revision {HEAD_REVISION}" in second.output


def test_opening_a_store_from_python_tells_whether_it_was_created(store_url):
    first = Store(store_url)
    assert first.created and first.revision == HEAD_REVISION
    first.close()
    second = Store(store_url, upgrade=False)
    assert not second.created and second.revision == HEAD_REVISION
    second.close()
