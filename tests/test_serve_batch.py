"""`workbench serve` answers OpenAI's Batch API (/v1/files, /v1/batches, the files' content) for the prompts it
serves, driven here by the official `openai` client — so `workbench run --batch` can be tried end to end offline."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from workbench.prompts import PromptTemplate
from workbench.serve import ServerThread, create_app
from workbench.store import Store
from workbench.testing.fake_openai import free_port, wait_for_port
from workbench.testing.models import MockModel

TEMPLATE = PromptTemplate.from_string(
    "---\nname: echoer\noutput: {parser: label, labels: [yes, no]}\n---\nQuestion: {{ question }}\nAnswer:"
)


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "serve.db")
    model = MockModel(default="yes indeed", concurrency=1)
    app = create_app(TEMPLATE, model, store=store, max_tokens_limit=100)
    with ServerThread(app, port=free_port()) as server:
        yield openai.OpenAI(base_url=server.base_url, api_key="unused"), model, store, app


def _jsonl(lines: list[dict]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())


def _line(custom_id: str, url: str, body: dict) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def _finished(client: openai.OpenAI, batch_id: str, timeout: float = 30.0):
    deadline = time.time() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "cancelled", "expired") or time.time() > deadline:
            return batch
        time.sleep(0.05)


def _lines(client: openai.OpenAI, file_id: str | None) -> dict[str, dict]:
    if file_id is None:
        return {}
    text = client.files.content(file_id).text
    return {item["custom_id"]: item for item in map(json.loads, text.splitlines())}


def test_a_batch_of_completions_is_answered_like_the_same_requests_sent_one_by_one(served):
    client, model, store, app = served
    upload = client.files.create(
        file=(
            "requests.jsonl",
            _jsonl(
                [
                    _line("a", "/v1/completions", {"model": "echoer", "prompt": "Is it?"}),
                    _line("b", "/v1/completions", {"model": "echoer@v1", "prompt": "Really?"}),
                    _line("c", "/v1/completions", {"model": "nobody", "prompt": "x"}),
                ]
            ),
        ),
        purpose="batch",
    )
    assert upload.purpose == "batch" and upload.bytes > 0 and client.files.retrieve(upload.id).id == upload.id
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/completions", completion_window="24h")
    assert batch.status in ("validating", "in_progress") and batch.endpoint == "/v1/completions"
    done = _finished(client, batch.id)
    assert done.status == "completed", done
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (3, 2, 1)
    answers = _lines(client, done.output_file_id)
    assert set(answers) == {"a", "b"}
    body = answers["a"]["response"]["body"]
    assert answers["a"]["response"]["status_code"] == 200 and body["choices"][0]["text"] == "yes indeed"
    assert body["workbench"]["parsed"] == "yes", "the same body as POST /v1/completions"
    failed = _lines(client, done.error_file_id)["c"]
    assert failed["response"]["status_code"] == 404 and "It serves: echoer" in failed["error"]["message"]
    prompts = sorted(call[0] for call in model.history)
    assert prompts == ["Question: Is it?\nAnswer:", "Question: Really?\nAnswer:"]
    logged = store.results(app.state.service.run_id)
    assert sorted(r.inputs["question"] for r in logged) == ["Is it?", "Really?"], "every answer is in the store"
    assert [b.id for b in client.batches.list().data] == [batch.id]


def test_a_batch_of_chat_completions(served):
    client, _, _, _ = served
    messages = [{"role": "user", "content": "Is it?"}]
    upload = client.files.create(
        file=("chat.jsonl", _jsonl([_line("q1", "/v1/chat/completions", {"model": "echoer", "messages": messages})])),
        purpose="batch",
    )
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = _finished(client, batch.id)
    answer = _lines(client, done.output_file_id)["q1"]["response"]["body"]
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"] == "yes indeed"


def test_a_file_that_is_not_a_batch_of_requests_fails_the_batch_and_says_which_line(served):
    client, model, _, _ = served
    lines = b'{"custom_id": "a", "method": "POST", "url": "/v1/completions", "body": {"model": "echoer"}}\nnot json\n'
    upload = client.files.create(file=("bad.jsonl", io.BytesIO(lines)), purpose="batch")
    done = _finished(
        client, client.batches.create(input_file_id=upload.id, endpoint="/v1/completions", completion_window="24h").id
    )
    assert done.status == "failed" and done.errors.data[0].line == 2, done
    assert "not a JSON object" in done.errors.data[0].message and model.history == [], "nothing was answered"
    wrong_url = _jsonl([_line("a", "/v1/chat/completions", {"model": "echoer", "messages": []})])
    upload = client.files.create(file=("wrong.jsonl", wrong_url), purpose="batch")
    done = _finished(
        client, client.batches.create(input_file_id=upload.id, endpoint="/v1/completions", completion_window="24h").id
    )
    assert done.status == "failed" and "/v1/completions" in done.errors.data[0].message


@pytest.mark.parametrize(
    "call, phrase",
    [
        (lambda c: c.files.create(file=("x.jsonl", io.BytesIO(b"{}")), purpose="fine-tune"), "purpose"),
        (
            lambda c: c.batches.create(input_file_id="file-nope", endpoint="/v1/completions", completion_window="24h"),
            "file-nope",
        ),
        (lambda c: c.batches.retrieve("batch_nope"), "batch_nope"),
        (lambda c: c.files.content("file-nope"), "file-nope"),
    ],
)
def test_requests_the_batch_api_cannot_take_get_a_4xx_that_says_why(served, call, phrase):
    client, _, _, _ = served
    with pytest.raises(openai.APIStatusError, match=phrase) as info:
        call(client)
    assert 400 <= info.value.status_code < 500


def test_an_upload_larger_than_a_request_body_is_taken(served):
    """The request-size limit (64 KiB by default) guards the answering endpoints; a batch file may be up to OpenAI's
    200 MB."""
    client, _, _, _ = served
    line = _line("a", "/v1/completions", {"model": "echoer", "prompt": "x" * 1000})
    upload = client.files.create(
        file=("big.jsonl", _jsonl([{**line, "custom_id": f"r{i}"} for i in range(200)])), purpose="batch"
    )
    assert upload.bytes > 200_000


def _serve(tmp_path: Path, repo: Path, model: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = [sys.executable, "-m", "workbench", "serve", "sentiment_cloze_en", "--model", model, "--port", str(port)]
    process = subprocess.Popen(
        [*args, "--store", str(tmp_path / "served.db")],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, timeout=120, process=process)
    return process, f"http://127.0.0.1:{port}/v1"


# The client's template sends each row's text as it is: the served prompt (few-shot cloze) wraps it, and the label
# words map the served answer back to a label.
CLIENT = """---
name: served_sentiment
output:
  parser: label
  labels:
    positive: [great, good, excellent, wonderful, amazing, fantastic, pleasant, enjoyable, perfect, nice, lovely]
    negative: [terrible, bad, awful, horrible, poor, disappointing, unpleasant, frustrating, sad, boring, painful]
assertions: [{type: label}]
---
{{ text }}
"""


@pytest.mark.local_model
def test_workbench_runs_against_its_own_server_one_by_one_and_as_a_batch(tmp_path, repo):
    """The local model served by `workbench serve`; `workbench run -m openai:sentiment_cloze_en@URL` passes preflight
    (GET /v1/models/{id}), and with `--batch` goes through /v1/files and /v1/batches and gets the same answers."""
    (tmp_path / "served_sentiment.prompty").write_text(CLIENT, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    process, url = _serve(tmp_path, repo, "local", env)
    try:
        common = [
            sys.executable,
            "-m",
            "workbench",
            "run",
            "served_sentiment.prompty",
            "-d",
            str(repo / "datasets" / "sentiment_en.csv"),
            "-m",
            f"openai:sentiment_cloze_en@{url}",
            "--limit",
            "6",
            "--no-cache",
        ]
        one_by_one = subprocess.run(
            [*common, "--store", "one.db", "--out", "one.jsonl"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert one_by_one.returncode == 0, one_by_one.stdout + one_by_one.stderr
        batched = subprocess.run(
            [*common, "--store", "batch.db", "--out", "batch.jsonl", "--batch", "--batch-poll", "0.2"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert batched.returncode == 0, batched.stdout + batched.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "6 cells" in batched.stdout and "0 errors" in batched.stdout, batched.stdout
    read = [
        {r["row_id"]: (r["output"], r["passed"]) for r in map(json.loads, (tmp_path / f).read_text().splitlines())}
        for f in ("one.jsonl", "batch.jsonl")
    ]
    assert read[0] == read[1], "a batch gets the answers the same requests get one by one (greedy, temperature 0)"
    assert sum(passed for _, passed in read[1].values()) >= 5, read[1]
    batch_ids = {
        b["batch_id"] for b in Store(tmp_path / "batch.db").batches(Store(tmp_path / "batch.db").latest_run_id())
    }
    assert len(batch_ids) == 1
