"""The run store on both backends: a SQLite file and a real PostgreSQL server (the `store` fixture runs each test
on both)."""

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from workbench.errors import ConflictError, NotFoundError, StoreError
from workbench.store import ResultRecord, Store, parse_location
from workbench.store.runs import lease_is_free, new_lease_owner
from workbench.store.schema import HEAD_REVISION


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


def _run(store: Store, **kw) -> str:
    options = dict(
        config={"a": 1}, config_hash="h", prompts=["p@v1"], models=["mock"], dataset="d", dataset_hash="dh", n_cells=2
    )
    options.update(kw)
    return store.create_run(**options)


def test_a_new_store_is_at_the_head_revision_and_counts_its_tables(store):
    stats = store.stats()
    assert set(stats) == {
        "runs",
        "results",
        "cache",
        "bad_cases",
        "bad_case_checks",
        "feedback",
        "prompt_versions",
        "schema_revision",
    }
    assert stats["schema_revision"] == HEAD_REVISION and stats["runs"] == 0


def test_sqlite_is_in_wal_mode(tmp_path):
    Store(tmp_path / "s.db").close()
    assert sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_results_upsert_replaces_errors(store):
    run_id = _run(store)
    first = store.write_result(_record(run_id, output=None, passed=None, error="timeout"))
    assert store.completed_cells(run_id) == {}
    second = store.write_result(_record(run_id))
    assert first.id == second.id
    assert list(store.completed_cells(run_id)) == ["c1"]
    assert store.results(run_id)[0].inputs == {"text": "你好"}
    assert store.runs()[0]["done"] == 1 and store.runs()[0]["prompts"] == ["p@v1"]


def test_resumable_run_status_and_unknown_ids(store):
    run_id = _run(store)
    assert store.resumable_run("h") == run_id
    store.set_run_status(run_id, "completed")
    assert store.resumable_run("h") is None
    assert store.run(run_id[:12])["status"] == "completed"
    with pytest.raises(NotFoundError, match="workbench runs list"):
        store.run("nope")
    with pytest.raises(NotFoundError):
        store.result(12345)


def test_prompt_versions_are_immutable_once_used(store):
    store.record_prompt_version("p", 1, "hash-a", "text a")
    store.record_prompt_version("p", 1, "hash-a", "text a")  # same text: fine
    with pytest.raises(StoreError, match="immutable.*workbench prompts save"):
        store.record_prompt_version("p", 1, "hash-b", "text b")
    assert store.used_versions("p") == [1] and store.prompt_version_source("p", 1) == "text a"


def test_cache_round_trip_in_bulk(store):
    store.cache_put("k", model="mock", params={"t": 0}, prompt="p", response={"text": "hi", "model": "mock"})
    store.cache_put("k2", model="mock", params={"t": 0}, prompt="p", response={"text": "yo", "model": "mock"})
    assert store.cache_get("k") == {"text": "hi", "model": "mock"}
    assert store.cache_get("missing") is None
    assert set(store.cache_get_many(["k", "k2", "nope"])) == {"k", "k2"} and store.cache_size() == 2


def test_a_live_lease_is_respected_and_a_dead_one_taken_over(store):
    owner = new_lease_owner()
    run_id = _run(store, lease_owner=owner)
    (row,) = store.resumable_runs("h")
    assert not lease_is_free(row), "our own process holds it and is alive"
    assert store.resumable_run("h") is None, "a run somebody executes is not resumable"
    assert store.heartbeat(run_id, owner)
    dead = f"{owner.split(':')[0]}:999999:dead"  # a process of this host that does not exist
    store.set_run_status(run_id, "running", release=owner)
    (row,) = store.resumable_runs("h")
    assert store.take_lease(run_id, dead, row)
    (row,) = store.resumable_runs("h")
    assert lease_is_free(row), "its owner (pid 999999) does not exist on this host"
    me = new_lease_owner()
    assert store.take_lease(run_id, me, row)
    assert not store.take_lease(run_id, new_lease_owner(), row), "a lease is taken once: compare-and-swap"
    assert not store.heartbeat(run_id, dead)


def test_a_change_from_a_stale_view_of_a_bad_case_is_refused(store):
    from workbench.badcases import BadCaseTracker

    run_id = _run(store)
    record = store.write_result(_record(run_id, passed=False))
    tracker = BadCaseTracker(store)
    seen_by_alice = tracker.mark_bad(record, tags=["wrong label"])
    seen_by_bob = tracker.get(seen_by_alice.id)
    tracker.set_status(seen_by_bob, "wontfix")
    with pytest.raises(ConflictError, match="changed by someone else.*Nothing was overwritten"):
        tracker.tag(seen_by_alice, add=["hallucination"])
    assert tracker.get(seen_by_alice.id).tags == ("wrong label",) and tracker.get(seen_by_alice.id).status == "wontfix"
    assert tracker.tag(seen_by_alice.id, add=["hallucination"]).tags == ("hallucination", "wrong label")


def test_threads_writing_at_once_lose_nothing(store):
    run_id = _run(store, n_cells=200)

    def write(worker: int) -> None:
        for i in range(50):
            store.write_result(_record(run_id, key=f"w{worker}-{i}", row_id=f"{worker}-{i}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.results(run_id)) == 200


def test_secrets_never_reach_the_sqlite_file(tmp_path, monkeypatch):
    secret = "sk-live-" + "a1b2c3" * 6
    monkeypatch.setenv("MY_API_KEY", secret)
    store = Store(tmp_path / "s.db")
    run_id = _run(store)
    store.write_result(_record(run_id, output=f"the key is {secret}", error=f"401 for Bearer {secret}"))
    store.cache_put("k", model="m", params={}, prompt=f"use {secret}", response={"text": secret})
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert secret.encode() not in raw
    con = sqlite3.connect(tmp_path / "s.db")
    output = con.execute("SELECT output FROM results").fetchone()[0]
    assert "***" in output and json.loads(con.execute("SELECT response FROM cache").fetchone()[0])["text"] == "***"


@pytest.mark.postgres
def test_secrets_never_reach_postgresql(postgres_url, monkeypatch):
    import psycopg

    secret = "sk-live-" + "z9y8x7" * 6
    monkeypatch.setenv("MY_API_KEY", secret)
    store = Store(postgres_url)
    run_id = _run(store)
    store.write_result(_record(run_id, output=f"the key is {secret}"))
    with psycopg.connect(postgres_url) as connection:
        dump = json.dumps([list(r) for r in connection.execute("SELECT * FROM results").fetchall()], default=str)
    assert secret not in dump and "***" in dump


def test_store_locations_are_parsed_strictly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pg = parse_location("postgresql://alice:hunter22@127.0.0.1:5432/team")
    assert pg.dialect == "postgresql" and pg.url.startswith("postgresql+psycopg://") and "hunter22" not in pg.display
    assert not Path("postgresql:").exists()
    assert parse_location("sqlite:///rel/x.db").path == tmp_path / "rel" / "x.db", "relative: the working directory"
    assert parse_location("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert parse_location(str(tmp_path / "plain.db")).dialect == "sqlite"
    for bad, phrase in [
        ("mysql://u@h/db", "'mysql' is not a store"),
        ("postgresql://127.0.0.1:5432", "name the server and the database"),
        ("postgresql://u@h:port/db", "not a number"),
        ("sqlite://x.db", "three slashes"),
        (str(tmp_path), "is a folder"),
    ]:
        with pytest.raises(StoreError, match=phrase):
            parse_location(bad)


def test_an_unreachable_postgresql_store_says_so_and_names_the_fix():
    from workbench.testing.fake_openai import free_port

    with pytest.raises(
        StoreError,
        match=r"Cannot reach the PostgreSQL store at postgresql://wb:\*\*\*@127\.0\.0\.1.*Is the server running",
    ):
        Store(f"postgresql://wb:secret@127.0.0.1:{free_port()}/nowhere")


@pytest.mark.parametrize(
    "server_said, hint",
    [
        (
            'connection to server at "db", port 5432 failed: fe_sendauth: no password supplied',
            "PGPASSWORD or in ~/.pgpass",
        ),
        ('FATAL:  password authentication failed for user "workbench"', "user or its password was refused"),
        ('FATAL:  role "workbench" does not exist', "createuser --pwprompt"),
        ('FATAL:  database "workbench" does not exist', "createdb --owner"),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.9"', "pg_hba.conf"),
        ("Connection refused", "listen_addresses"),
    ],
)
def test_a_failed_postgresql_connection_says_what_to_do_about_it(server_said, hint):
    from workbench.store.base import postgres_hint

    assert hint in postgres_hint(Exception(server_said))
