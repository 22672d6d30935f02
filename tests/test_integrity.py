"""Nothing lost or mixed up in the store: unique row ids, one executor per run, cache entries that belong to
the model that answered, and several processes writing one store at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.errors import DatasetError
from workbench.pipeline import Recorder, plan_run, run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.models import MockModel

T = PromptTemplate.from_string("---\nname: integrity\nassertions: [{type: contains}]\n---\nSay: {{ text }}")


def _csv(path: Path, n: int, duplicate: bool = False) -> Path:
    lines = ["id,text,expected"] + [f"{i},row {i},echo" for i in range(n)]
    if duplicate:
        lines.insert(4, "1,another row one,echo")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrity.prompty"
    path.write_text(T.to_text(), encoding="utf-8")
    return path


def _cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_duplicate_ids_are_an_error_before_any_call_naming_the_id_and_both_lines(tmp_path, store):
    data = _csv(tmp_path / "dup.csv", 6, duplicate=True)
    model = MockModel(default="echo")
    with pytest.raises(DatasetError, match=r"id '1' on .*dup.csv line 3 and .*dup.csv line 5.*--id-column"):
        run(T, data, [model], store=store, progress=False)
    assert model.calls == 0 and store.runs() == []
    result = run(T, data, [model], store=store, progress=False, id_column="text")  # another column names the rows
    assert len(result.records) == 7 and len({r.row_id for r in result.records}) == 7


def test_the_cli_reports_duplicate_ids_with_exit_2(tmp_path):
    data = _csv(tmp_path / "dup.csv", 6, duplicate=True)
    proc = _cli("run", str(_prompt_file(tmp_path)), "-d", str(data), "-m", "openai:fake@http://127.0.0.1:9/v1")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "duplicate row id" in err and "line 3" in err and "Traceback" not in err


def test_a_second_process_never_executes_a_live_runs_cells(tmp_path):
    """B starts beside live A with the same arguments: B runs its own run (answered from the cache where A's
    cells have landed) and A's run is A's alone; C with --wait follows A and calls nothing."""
    data = _csv(tmp_path / "rows.csv", 40)
    db = tmp_path / "shared.db"
    prompt = _prompt_file(tmp_path)
    with FakeOpenAIServer(latency=0.25) as server:
        args = ("run", str(prompt), "-d", str(data), "-m", server.spec(), "--store", str(db), "-q")
        first = _cli(*args, "--concurrency", "1")
        _wait_for_results(db, 2)
        follower = _cli(*args, "--wait")
        said = [follower.stderr.readline() for _ in range(3)]  # C says it follows A, while A goes on
        assert any("following it (--wait)" in line for line in said), said
        os.kill(first.pid, signal.SIGSTOP)  # A stays live (its lease fresh, its process alive) while B starts
        second = _cli(*args, "--concurrency", "2")
        deadline = time.time() + 60
        while len(Store(db).runs()) < 2 and time.time() < deadline:
            time.sleep(0.05)  # B has started its own run beside A's
        os.kill(first.pid, signal.SIGCONT)  # (paused for less than a lease lasts, so nobody takes A's run over)
        outputs = [p.communicate(timeout=180) for p in (first, second, follower)]
        assert [p.returncode for p in (first, second, follower)] == [0, 0, 0], outputs
        calls = len(server.requests)
    store = Store(db)
    runs = sorted(store.runs(), key=lambda r: r["started_at"])
    assert len(runs) == 2, "B started its own run; C only followed A's"
    a, b = (store.results(r["id"]) for r in runs)
    assert len(a) == 40 and len(b) == 40 and not any(r.cached for r in a)
    b_called = sum(not r.cached for r in b)
    assert calls == 40 + b_called and b_called < 40, "every call is A's or B's own, none of A's cells twice"
    followed = outputs[2][0]
    assert any(f"Summary of run {r['id']}" in followed for r in runs) and "0 model calls" in followed


def _wait_for_results(db: Path, n: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db.exists() and Store(db).stats()["results"] >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} results after {timeout}s")


def test_a_run_killed_mid_way_is_resumed_at_once_its_lease_dies_with_it(tmp_path):
    data = _csv(tmp_path / "rows.csv", 30)
    db = tmp_path / "kill.db"
    with FakeOpenAIServer(latency=0.1) as server:
        args = ("run", str(_prompt_file(tmp_path)), "-d", str(data), "-m", server.spec(), "--store", str(db), "-q")
        victim = _cli(*args, "--concurrency", "2")
        _wait_for_results(db, 6)
        victim.kill()
        victim.communicate()
        done = Store(db).stats()["results"]
        again = _cli(*args)
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
    (only,) = Store(db).runs()
    assert only["done"] == 30 and f"{done} resumed" in out


def test_a_swapped_model_is_never_answered_from_another_models_cache(tmp_path, store, monkeypatch):
    """The same spec `openai:fake-model` pointed at another endpoint (OPENAI_BASE_URL), and the same `local` spec
    pointed at another GGUF file: different models, different cache entries."""
    rows = [{"text": "hello", "expected": "echo"}]
    with FakeOpenAIServer(responder=lambda p: "echo from A") as a, FakeOpenAIServer(responder=lambda p: "echo B") as b:
        monkeypatch.setenv("OPENAI_BASE_URL", a.base_url)
        first = run(T, rows, ["openai:fake-model"], store=store, progress=False)
        monkeypatch.setenv("OPENAI_BASE_URL", b.base_url)
        second = run(T, rows, ["openai:fake-model"], store=store, progress=False)
    assert first.records[0].output == "echo from A" and second.records[0].output == "echo B"
    assert second.stats["cached"] == 0 and len(b.requests) == 1

    from workbench.models.local import LocalModel

    one, two = tmp_path / "one.gguf", tmp_path / "two.gguf"
    one.write_bytes(b"GGUF" + b"\x01" * 1000)
    two.write_bytes(b"GGUF" + b"\x02" * 1000)
    keys = [plan_run(T, rows, [LocalModel(model_path=p)]).cells[0].cache_key for p in (one, two)]
    assert keys[0] != keys[1], "another weights file is another model"
    recorder = Recorder(store)
    assert recorder.cached_many(plan_run(T, rows, [LocalModel(model_path=two)]).cells) == {}
    two.write_bytes(b"GGUF" + b"\x03" * 1000)  # retrained in place: same path, new weights
    assert plan_run(T, rows, [LocalModel(model_path=two)]).cells[0].cache_key != keys[1]


def test_an_adapter_retrained_in_place_is_another_model(tmp_path):
    from workbench.models.hf import HFModel

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "weights.safetensors").write_bytes(b"first training")
    before = HFModel(f"hf:{adapter}").identity()
    (adapter / "weights.safetensors").write_bytes(b"second training")
    assert HFModel(f"hf:{adapter}").identity() != before


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_four_processes_write_one_store_at_once_and_lose_nothing(tmp_path, backend, request):
    """4 concurrent `workbench run` processes × 150 rows into one store: 600 results, every process exits 0."""
    db = str(tmp_path / "four.db") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    prompt = _prompt_file(tmp_path)
    with FakeOpenAIServer(latency=0.01) as server:
        procs = []
        for i in range(4):
            data = _csv(tmp_path / f"rows{i}.csv", 150)
            procs.append(_cli("run", str(prompt), "-d", str(data), "-m", server.spec(), "--store", db, "-q"))
        outcomes = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-2000:] for _, err in outcomes]
    store = Store(db)
    assert store.stats()["results"] == 600 and sum(r["done"] for r in store.runs()) == 600
    runs = store.runs()
    assert len(runs) == 4 and {r["status"] for r in runs} == {"completed"}, "four runs, each finished"
    for stored in runs:
        records = store.results(stored["id"])
        assert len(records) == len({r.row_id for r in records}) == 150, "each row once per run"
        assert all(r.error is None and r.output == f"echo: Say: {r.inputs['text']}" for r in records)
    assert store.cache_size() == 150, "the same 150 requests: one cache entry each, however many writers"
