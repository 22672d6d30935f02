import json
import sqlite3

import pytest

from workbench.errors import StoreError
from workbench.store import MIGRATIONS, ResultRecord, Store


def _record(run_id: str, key: str = "c1", **kw) -> ResultRecord:
    base = dict(
        run_id=run_id,
        cell_key=key,
        prompt="p",
        version=1,
        model="mock",
        row_index=0,
        row_id="0",
        repeat=0,
        inputs={"text": "你好"},
        rendered="你好",
        output="hi",
        passed=True,
        score=1.0,
    )
    base.update(kw)
    return ResultRecord(**base)


def _run(store: Store) -> str:
    return store.create_run(
        config={"a": 1}, config_hash="h", prompts=["p@v1"], models=["mock"], dataset="d", dataset_hash="dh", n_cells=2
    )


def test_migrations_apply_once_and_wal(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    store = Store(path)
    assert store.schema_version == [name for name, _ in MIGRATIONS]
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"


def test_results_upsert_replaces_errors(store):
    run_id = _run(store)
    first = store.write_result(_record(run_id, output=None, passed=None, error="timeout"))
    assert store.completed_cells(run_id) == {}
    second = store.write_result(_record(run_id))
    assert first.id == second.id
    assert list(store.completed_cells(run_id)) == ["c1"]
    assert store.results(run_id)[0].inputs == {"text": "你好"}


def test_resumable_run_and_status(store):
    run_id = _run(store)
    assert store.resumable_run("h") == run_id
    store.set_run_status(run_id, "completed")
    assert store.resumable_run("h") is None
    assert store.run(run_id[:12])["status"] == "completed"
    with pytest.raises(StoreError, match="workbench runs list"):
        store.run("nope")


def test_prompt_versions_are_immutable_once_used(store):
    store.record_prompt_version("p", 1, "hash-a", "text a")
    store.record_prompt_version("p", 1, "hash-a", "text a")  # same text: fine
    with pytest.raises(StoreError, match="immutable.*version: 2"):
        store.record_prompt_version("p", 1, "hash-b", "text b")


def test_cache_round_trip(store):
    store.cache_put("k", model="mock", params={"t": 0}, prompt="p", response={"text": "hi", "model": "mock"})
    assert store.cache_get("k") == {"text": "hi", "model": "mock"}
    assert store.cache_get("missing") is None


def test_secrets_never_reach_the_file(tmp_path, monkeypatch):
    secret = "sk-live-" + "a1b2c3" * 6
    monkeypatch.setenv("MY_API_KEY", secret)
    store = Store(tmp_path / "s.db")
    run_id = _run(store)
    store.write_result(_record(run_id, output=f"the key is {secret}", error=f"401 for Bearer {secret}"))
    store.cache_put("k", model="m", params={}, prompt=f"use {secret}", response={"text": secret})
    store.close()
    raw = (
        (tmp_path / "s.db").read_bytes() + (tmp_path / "s.db-wal").read_bytes()
        if (tmp_path / "s.db-wal").exists()
        else (tmp_path / "s.db").read_bytes()
    )
    assert secret.encode() not in raw
    con = sqlite3.connect(tmp_path / "s.db")
    output = con.execute("SELECT output FROM results").fetchone()[0]
    assert "***" in output and json.loads(con.execute("SELECT response FROM cache").fetchone()[0])["text"] == "***"
