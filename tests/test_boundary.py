"""Bad input stops at the boundary: every malformed input is the workbench's own error — naming the file and line,
the option, or the field, with the fix — before any model call, with nothing stored. Exit 2 on the command line,
a 4xx from the server, never a traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.errors import ConfigError, TemplateError
from workbench.prompts import PromptLibrary, PromptTemplate
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer

GOOD = (
    "---\nname: b\noutput: {parser: label, labels: [positive, negative]}\nassertions: [{type: label}]\n---\n{{ text }}"
)
ROWS = "text,expected\nnice,positive\nbad,negative\n"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


@pytest.mark.parametrize(
    "front, line, phrase",
    [
        ("asertions: [{type: label}]", 3, "unknown key `asertions` — did you mean `assertions`?"),
        ("version: 1.7", 3, "`version: 1.7` must be a whole number"),
        ("output: label", 3, "`output: 'label'` must be a mapping"),
        ("tags: 5", 3, "`tags: 5` must be a list, e.g. `tags: [sentiment, zh]`"),
        ("model:\n  parameters:\n    temperature: 5", 5, "temperature: 5` must be less than or equal to 2"),
        ("model: {parameters: {max_tokens: -3}}", 3, "max_tokens: -3` must be greater than or equal to 1"),
        ("model: {parameters: {stop: 7}}", 3, "stop: 7` must be a string or a list of strings"),
        ("output: {parser: label, lables: [a, b]}", 3, "`lables` is not an option of the label parser"),
        ("assertions: [{type: lable}]", 3, "No scorer named 'lable'. Did you mean 'label'?"),
        ("retrieval: {context: {query: q}}", 3, "knowledge_base` is required"),
    ],
)
def test_a_broken_template_file_is_exit_2_naming_the_file_line_and_fix(tmp_path, front, line, phrase):
    prompt = tmp_path / "broken.prompty"
    prompt.write_text(f"---\nname: broken\n{front}\n---\n{{{{ text }}}}\n", encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text(ROWS, encoding="utf-8")
    db = tmp_path / "s.db"
    with FakeOpenAIServer() as server:
        done = _cli("run", str(prompt), "-d", str(data), "-m", server.spec(), "--store", str(db))
        assert server.requests == [], "no model call"
    assert done.returncode == 2, done.stderr
    assert f"{prompt}:{line}:" in done.stderr and phrase in done.stderr and "Traceback" not in done.stderr
    assert not db.exists() or Store(db).stats()["runs"] == 0, "nothing stored"


def test_every_bad_option_is_reported_together_before_any_call(tmp_path):
    prompt = tmp_path / "good.prompty"
    prompt.write_text(GOOD, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text(ROWS, encoding="utf-8")
    with FakeOpenAIServer() as server:
        done = _cli(
            "run",
            str(prompt),
            "-d",
            str(data),
            "-m",
            server.spec(),
            "--temperature",
            "5",
            "--limit",
            "-1",
            "--concurrency",
            "0",
            "--repeats",
            "0",
            "--timeout",
            "0",
            "--rate-limit",
            "-1",
            "--fail-under",
            "95",
            "--gate",
            "no_such_gate",
            "--out",
            "results.unknownfmt",
            "--store",
            "postgresq://u@h/db",
        )
        assert server.requests == []
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for phrase in [
        "--temperature 5.0: must be less than or equal to 2",
        "--limit -1: must be a whole number ≥ 1",
        "--concurrency 0",
        "--repeats 0",
        "--timeout 0.0: must be seconds per attempt, > 0",
        "--rate-limit -1.0",
        "--fail-under 95: must be between 0 and 1, or a percentage like 85% — for 95 percent write 95%",
        "--gate no_such_gate: no such gate",
        "--out results.unknownfmt: write a .csv, .jsonl or .html file",
        "'postgresq' is not a store",
    ]:
        assert phrase in done.stderr, phrase
    assert not (tmp_path / "postgresq:").exists()


def test_the_library_never_writes_outside_its_folder_and_never_merges_two_prompts(tmp_path):
    library = PromptLibrary(tmp_path / "lib")
    escape = PromptTemplate(name="../../x", body="{{ text }}")
    with pytest.raises(ConfigError, match="not a prompt name"):
        library.save(escape)
    assert not (tmp_path / "x.prompty").exists() and not list(tmp_path.parent.glob("x.prompty"))
    with pytest.raises(TemplateError, match="must be a plain name"):
        PromptTemplate.from_string("---\nname: ../evil\n---\nhi")
    with pytest.raises(ConfigError, match="not a prompt name"):
        library.get("../../etc/passwd")
    first = library.save(PromptTemplate.from_string("---\nname: p\n---\nfirst {{ text }}"))
    newcomer = PromptTemplate.from_string("---\nname: p\n---\nsomething else entirely {{ text }}")
    with pytest.raises(ConfigError, match="already has a prompt named 'p'.*another `name:`.*as_next_version"):
        library.save(newcomer)
    assert library.get("p").body == first.body, "nothing was overwritten"
    assert library.save(newcomer, as_next_version=True).version == 2


@pytest.fixture
def client(tmp_path):
    from starlette.testclient import TestClient

    from workbench.serve import create_app
    from workbench.testing.models import MockModel

    model = MockModel(default="positive", concurrency=1)
    store = Store(tmp_path / "serve.db")
    app = create_app(PromptTemplate.from_string(GOOD), model, store=store, max_body_bytes=64 * 1024)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, model, store


def test_serve_counts_the_bytes_it_reads_whatever_content_length_says(client):
    test_client, model, _ = client

    def chunks():
        for _ in range(200):
            yield b"x" * 65536  # 12.5 MiB in all, sent chunked (no Content-Length)

    response = test_client.post("/v1/completions", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "over the limit" in response.json()["error"]["message"]
    assert model.calls == 0


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/v1/chat/completions", {"model": "b", "messages": "hi"}, "`messages`"),
        ("/v1/chat/completions", {"model": "b", "messages": [{"role": "user", "content": 5}]}, "`messages.0.content"),
        ("/v1/chat/completions", {"model": 7, "messages": [{"role": "user", "content": "x"}]}, "`model`"),
        ("/v1/completions", {"model": "b", "prompt": "x", "max_tokens": "5"}, "`max_tokens`"),
        ("/v1/completions", {"model": "b", "prompt": "x", "stream": "yes"}, "`stream`"),
        ("/v1/completions", {"model": "b", "prompt": "x", "stop": [1]}, "`stop"),
        ("/v1/completions", {"model": "b", "prompt": "x", "temperature": 9}, "temperature"),
        ("/v1/completions", {"model": "b", "prompt": {"a": 1}}, "`prompt"),
        ("/v1/prompts/b", {"variables": [1], "parameters": {}}, "variables as a JSON object"),
        ("/v1/feedback", {"id": 5, "rating": "down"}, "`id`"),
    ],
)
def test_serve_names_every_wrongly_typed_field_with_a_4xx(client, path, body, field):
    test_client, model, _ = client
    response = test_client.post(path, json=body)
    assert 400 <= response.status_code < 500 and field in response.json()["error"]["message"]
    assert model.calls == 0


def test_serve_maps_a_missing_request_to_404_and_its_own_bugs_to_500_with_a_logged_id(client, caplog):
    test_client, model, _ = client
    missing = test_client.post("/v1/feedback", json={"id": "cmpl-none", "rating": "down"})
    assert missing.status_code == 404 and "was answered by `workbench serve`" in missing.json()["error"]["message"]
    model.enqueue(RuntimeError("a bug in a provider"))
    with caplog.at_level(logging.ERROR, logger="workbench.serve"):
        crashed = test_client.post("/v1/prompts/b", json={"text": "x"})
    assert crashed.status_code in (500, 502)
    assert "Traceback" not in crashed.text


def test_a_scorer_that_raises_is_a_cell_error_retried_when_transient_and_never_a_bad_case(store):
    from workbench.badcases import BadCaseTracker
    from workbench.errors import RateLimitError
    from workbench.pipeline import run
    from workbench.scoring import Score, Scorer
    from workbench.testing.models import MockModel

    class FlakyJudge(Scorer):
        name = "judge"
        calls = 0

        async def ascore(self, ctx):
            FlakyJudge.calls += 1
            if FlakyJudge.calls == 1:
                raise RateLimitError("the judge's endpoint said 429", spec="judge")
            if "broken" in ctx.row["text"]:
                raise ValueError("cannot read this")
            return Score(self.name, True, 1.0, "fine")

    rows = [{"text": "ok"}, {"text": "broken"}]
    template = PromptTemplate.from_string("{{ text }}", name="j")
    result = run(template, rows, [MockModel(default="x")], store=store, progress=False, scorers=[FlakyJudge()])
    ok, broken = result.records
    assert ok.passed is True and ok.error is None, "the transient failure was retried (final sweep)"
    assert broken.passed is None and "could not judge this output: ValueError" in broken.error and broken.output == "x"
    assert BadCaseTracker(store).capture_failures(result) == [], "an error is not a bad case"


def test_a_listener_that_raises_is_logged_not_hidden(caplog):
    from workbench import events

    def broken(payload):
        raise RuntimeError("listener bug")

    events.on("test_event", broken)
    with caplog.at_level(logging.ERROR, logger="workbench.events"):
        events.emit("test_event", 1)
    assert "A listener of 'test_event' failed" in caplog.text and "listener bug" in caplog.text
