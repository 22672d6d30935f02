"""`workbench run --batch`: cells as OpenAI batch jobs against a server in a subprocess that implements the Batch
API (driven by the official client unchanged); a kill between submit and collect loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest

from workbench.store import Store
from workbench.testing.fake_openai import free_port, wait_for_port

PROMPT = "---\nname: batched\nassertions: [{type: contains, value: echo}]\n---\nRow {{ i }}\n"


@contextmanager
def batch_server(delay: float, model: str = "gpt-4o-mini", create_delay: float = 0.0):
    port = free_port()
    args = [sys.executable, "-m", "workbench.testing.fake_openai", "--port", str(port), "--batch-delay", str(delay)]
    process = subprocess.Popen([*args, "--model", model, "--batch-create-delay", str(create_delay)])
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def _files(tmp_path: Path, n: int) -> tuple[Path, Path]:
    prompt = tmp_path / "batched.prompty"
    prompt.write_text(PROMPT, encoding="utf-8")
    rows = tmp_path / "rows.csv"
    rows.write_text("id,i\n" + "".join(f"r{i},{i}\n" for i in range(n)), encoding="utf-8")
    return prompt, rows


def _workbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench", *args]


def test_the_official_client_drives_the_stand_in_batch_api(tmp_path):
    with batch_server(delay=0.3) as url:
        client = openai.OpenAI(base_url=url, api_key="unused")
        lines = [
            {
                "custom_id": f"c{i}",
                "method": "POST",
                "url": "/v1/completions",
                "body": {"model": "gpt-4o-mini", "prompt": f"Row {i}", "max_tokens": 8},
            }
            for i in range(3)
        ]
        upload = client.files.create(file=("in.jsonl", "\n".join(map(json.dumps, lines)).encode()), purpose="batch")
        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/completions", completion_window="24h")
        while (batch := client.batches.retrieve(batch.id)).status not in ("completed", "failed"):
            time.sleep(0.1)
        output = [json.loads(line) for line in client.files.content(batch.output_file_id).text.splitlines()]
    assert batch.request_counts.completed == 3 and {o["custom_id"] for o in output} == {"c0", "c1", "c2"}
    assert all(o["response"]["body"]["choices"][0]["text"].startswith("echo") for o in output)


def test_a_batch_run_survives_a_kill_between_submit_and_collect(tmp_path):
    prompt, rows = _files(tmp_path, 40)
    db = tmp_path / "batch.db"
    with batch_server(delay=3.0) as url:
        spec = f"openai:gpt-4o-mini@{url}"
        command = _workbench(
            "run", str(prompt), "-d", str(rows), "-m", spec, "--store", str(db), "--batch", "--batch-poll", "0.2", "-q"
        )
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and not (db.exists() and _batches(db)):
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)  # submitted, not collected
        first.wait()
        (run,) = Store(db).runs()
        assert Store(db).stats()["results"] == 0 and len(_batches(db)) == 1
        status = subprocess.run(
            _workbench("runs", "status", run["id"], "--store", str(db)), capture_output=True, text=True, timeout=60
        )
        assert status.returncode == 0 and "Batch jobs" in status.stdout and "0 of 40 cells stored" in status.stdout
        again = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr[-2000:]
        listed = httpx.get(f"{url}/batches").json()["data"]
    assert len(listed) == 1, "the same batch was collected, none sent twice"
    store = Store(db)
    (run,) = store.runs()
    records = store.results(run["id"])
    assert len(records) == 40 and len({r.cell_key for r in records}) == 40 and all(r.passed for r in records)
    assert {r.details["batch_id"] for r in records} == {listed[0]["id"]}
    sync = (records[0].prompt_tokens * 0.15 + records[0].completion_tokens * 0.60) / 1e6
    assert records[0].details["cost_usd"] == pytest.approx(sync * 0.5), "the batch price: half"
    assert all(b["collected_at"] for b in store.batches(run["id"]))


def _batches(db: Path) -> list:
    store = Store(db)
    runs = store.runs()
    return store.batches(runs[0]["id"]) if runs else []


def test_batch_is_refused_for_a_model_that_takes_no_batch_jobs(tmp_path):
    prompt, rows = _files(tmp_path, 3)
    done = subprocess.run(
        _workbench("run", str(prompt), "-d", str(rows), "-m", "local", "--batch", "--store", str(tmp_path / "s.db")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "local cannot take batch jobs" in done.stderr


@pytest.mark.parametrize("window", [0.0, 3.0], ids=["killed-once-created", "killed-in-a-widened-window"])
def test_a_batch_run_killed_at_any_moment_never_sends_two_batches_for_the_same_cells(tmp_path, window):
    """Killed once the batch exists at the provider — after its id was stored, or in a window widened to 3 s between
    "batch created" and "id stored" — the same command again adopts the provider's batch: one batch, 300 answered
    lines for 300 cells, never 600."""
    prompt, rows = _files(tmp_path, 300)
    db = tmp_path / "batch.db"
    with batch_server(delay=1.0, create_delay=window) as url:
        spec = f"openai:gpt-4o-mini@{url}"
        command = _workbench(
            "run", str(prompt), "-d", str(rows), "-m", spec, "--store", str(db), "--batch", "--batch-poll", "0.2", "-q"
        )
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and not httpx.get(f"{url}/batches").json()["data"]:
            time.sleep(0.05)  # the batch exists at the provider
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        stored = [b["batch_id"] for b in _batches(db)]
        assert len(stored) == 1 and (window == 0 or stored[0].startswith("intent-")), stored
        again = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr[-2000:]
        listed = httpx.get(f"{url}/batches").json()["data"]
        answered = sum(b["request_counts"]["completed"] for b in listed)
    assert len(listed) == 1 and answered == 300, "one batch, each cell answered (and paid) once"
    store = Store(db)
    (run,) = store.runs()
    records = store.results(run["id"])
    assert len(records) == 300 and {r.details["batch_id"] for r in records} == {listed[0]["id"]}


def test_an_endpoint_without_a_batch_api_is_refused_before_any_upload(tmp_path):
    from workbench.testing.fake_openai import FakeOpenAIServer

    prompt, rows = _files(tmp_path, 3)
    with FakeOpenAIServer(batch_api=False) as server:
        done = subprocess.run(
            _workbench(
                "run", str(prompt), "-d", str(rows), "-m", server.spec(), "--batch", "--store", str(tmp_path / "s.db")
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        uploaded = server.files
    assert done.returncode == 2 and "has no Batch API" in done.stderr and "without --batch" in done.stderr
    assert uploaded == {} and server.requests == [], "nothing uploaded, nothing answered"
