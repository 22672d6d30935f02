"""The deploy endpoint: OpenAI-compatible chat completions (+SSE), the prompt endpoint, errors, auth."""

import asyncio
import time

import httpx
import openai
import pytest

from workbench.prompts import PromptTemplate
from workbench.serve import ServerThread, create_app
from workbench.store import Store
from workbench.testing.fake_openai import free_port
from workbench.testing.models import MockModel

TEMPLATE = PromptTemplate.from_string(
    "---\nname: echoer\noutput: {parser: label, labels: [yes, no]}\n---\nQuestion: {{ question }}\nAnswer:"
)


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "serve.db")
    model = MockModel(default="yes indeed it is", concurrency=1)
    app = create_app(TEMPLATE, model, store=store, api_key=None, max_tokens_limit=100)
    with ServerThread(app, port=free_port()) as server:
        yield server, model, store


def test_openai_client_non_stream_and_stream(served):
    server, model, store = served
    client = openai.OpenAI(base_url=server.base_url, api_key="unused")
    reply = client.chat.completions.create(model="echoer", messages=[{"role": "user", "content": "Is it?"}])
    assert reply.choices[0].message.content == "yes indeed it is"
    assert model.history[-1][0] == "Question: Is it?\nAnswer:"
    stream = client.chat.completions.create(
        model="echoer", messages=[{"role": "user", "content": "Again?"}], stream=True
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces).strip() == "yes indeed it is" and len([p for p in pieces if p]) > 1
    assert [m.id for m in client.models.list()] == ["echoer", "echoer@v1"]
    logged = sorted(store.results(store.latest_run_id()), key=lambda r: r.id)
    assert len(logged) == 2 and logged[0].inputs == {"question": "Is it?"} and logged[1].output == "yes indeed it is"


def test_a_served_model_can_be_retrieved_by_name_as_openai_serves_one(served):
    """GET /v1/models/{id} (the OpenAI client's models.retrieve): the prompt by name or name@vN; an unknown one is a
    404 that names what is served."""
    server, _, _ = served
    client = openai.OpenAI(base_url=server.base_url, api_key="unused")
    assert client.models.retrieve("echoer").id == "echoer"
    assert client.models.retrieve("echoer@v1").id == "echoer@v1"
    with pytest.raises(openai.NotFoundError, match="It serves: echoer"):
        client.models.retrieve("other")


def test_sse_wire_format_ends_with_done(served):
    server, _, _ = served
    with httpx.stream(
        "POST",
        f"{server.base_url}/chat/completions",
        json={"model": "echoer", "stream": True, "messages": [{"role": "user", "content": "q"}]},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines) and lines[-1] == "data: [DONE]"


def test_prompt_endpoint_returns_parsed_output(served):
    server, _, _ = served
    r = httpx.post(f"{server.base_url}/prompts/echoer", json={"question": "ok?"})
    assert r.status_code == 200 and r.json()["parsed"] == "yes" and r.json()["output"] == "yes indeed it is"


@pytest.mark.parametrize(
    "path, body, status, phrase",
    [
        ("/prompts/echoer", {"wrong": "x"}, 400, "Missing variables: question"),
        ("/prompts/other", {"question": "x"}, 404, "does not serve 'other'. It serves: echoer"),
        ("/chat/completions", {"model": "echoer", "messages": []}, 400, "Send `messages`"),
        (
            "/chat/completions",
            {"model": "echoer", "max_tokens": 5000, "messages": [{"role": "user", "content": "x"}]},
            400,
            "over this server's limit",
        ),
        (
            "/chat/completions",
            {"model": "echoer", "temperature": -3, "messages": [{"role": "user", "content": "x"}]},
            400,
            "Invalid temperature",
        ),
    ],
)
def test_bad_requests_get_helpful_4xx(served, path, body, status, phrase):
    server, model, _ = served
    r = httpx.post(f"{server.base_url}{path}", json=body)
    assert r.status_code == status and phrase in r.json()["error"]["message"]
    assert model.calls == 0


def test_invalid_json_and_oversized_body(served):
    server, _, _ = served
    r = httpx.post(
        f"{server.base_url}/prompts/echoer", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(f"{server.base_url}/prompts/echoer", json={"question": "x" * 70_000})
    assert r.status_code == 413


def test_bearer_auth(tmp_path):
    app = create_app(TEMPLATE, MockModel(default="yes"), store=Store(tmp_path / "s.db"), api_key="s3cret-token")
    with ServerThread(app, port=free_port()) as server:
        assert httpx.get(f"http://127.0.0.1:{server.port}/health").status_code == 200
        assert httpx.get(f"{server.base_url}/models").status_code == 401
        ok = httpx.get(f"{server.base_url}/models", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200


def test_concurrent_requests_are_all_answered(served):
    server, model, _ = served

    async def many():
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x")
        calls = [
            client.chat.completions.create(model="echoer", messages=[{"role": "user", "content": f"q{i}"}])
            for i in range(8)
        ]
        replies = await asyncio.gather(*calls)
        await client.close()
        return replies

    replies = asyncio.run(many())
    assert len(replies) == 8 and model.calls == 8


@pytest.mark.local_model
def test_real_client_streams_from_the_local_model_and_survives_disconnects(tmp_path, library):
    template = library.get("sentiment_cloze_en")
    app = create_app(template, "local", store=Store(tmp_path / "s.db"), max_tokens_limit=64)
    with ServerThread(app, port=free_port()) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")
        message = [{"role": "user", "content": "The hotel was dirty and the staff shouted at us."}]
        full = client.chat.completions.create(model=template.name, messages=message)
        text = full.choices[0].message.content
        assert text.strip() and full.usage.completion_tokens > 0
        stream = client.chat.completions.create(model=template.name, messages=message, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == text  # greedy: same text

        # A client that walks away mid-stream must not wedge the single in-process model.
        with httpx.stream(
            "POST",
            f"{server.base_url}/chat/completions",
            timeout=30,
            json={
                "model": template.name,
                "stream": True,
                "max_tokens": 64,
                "stop": [],
                "messages": [{"role": "user", "content": "Tell me a long story about a dragon."}],
            },
        ) as response:
            for _ in zip(range(3), response.iter_lines(), strict=False):
                pass
        after = client.chat.completions.create(model=template.name, messages=message)
        assert after.choices[0].message.content == text
        parsed = httpx.post(
            f"{server.base_url}/prompts/{template.name}", json={"text": "I loved every minute."}, timeout=30
        ).json()
        assert parsed["parsed"] in ("positive", "negative")


def _library(tmp_path, repo):
    """A scratch library: the shipped cloze prompts, with a second version of the English one."""
    from workbench.prompts import PromptLibrary

    lib = PromptLibrary(tmp_path / "lib")
    shipped = PromptLibrary(repo / "prompt_library")
    first = lib.save(shipped.get("sentiment_cloze_en"))
    lib.save(first.with_changes(body="Review: {{ text }}\nVerdict:", version=1))  # v2, a different text
    lib.save(shipped.get("sentiment_cloze_zh"))
    return lib


def test_the_library_is_served_by_name_and_version(tmp_path, repo):
    lib = _library(tmp_path, repo)
    model = MockModel(default=" great", concurrency=1)
    app = create_app(None, model, library=lib, store=Store(tmp_path / "s.db"))
    with ServerThread(app, port=free_port()) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")
        ids = {m.id for m in client.models.list()}
        assert {
            "sentiment_cloze_en",
            "sentiment_cloze_en@v1",
            "sentiment_cloze_en@v2",
            "sentiment_cloze_zh",
            "sentiment_cloze_zh@v2",
        } <= ids
        client.completions.create(model="sentiment_cloze_en", prompt="Loved it.")
        assert model.history[-1][0].endswith("Review: Loved it.\nVerdict:"), "plain name: the current version"
        old = client.completions.create(model="sentiment_cloze_en@v1", prompt="Loved it.")
        assert model.history[-1][0].endswith("Text: Loved it.\nOverall, it was") and old.choices[0].text == " great"
        message = [{"role": "user", "content": "真好"}]
        chat = client.chat.completions.create(model="sentiment_cloze_zh", messages=message)
        assert model.history[-1][0].endswith("真好我感觉很") and chat.model == "sentiment_cloze_zh"
        streamed = client.completions.create(model="sentiment_cloze_en@v1", prompt="Awful.", stream=True)
        assert "".join(c.choices[0].text for c in streamed).strip() == "great"
        with pytest.raises(openai.NotFoundError, match="sentiment_cloze_en@v7"):
            client.completions.create(model="sentiment_cloze_en@v7", prompt="x")
    logged = Store(tmp_path / "s.db").results(app.state.service.run_id)
    assert [str(r.column.ref) for r in sorted(logged, key=lambda r: r.id)] == [
        "sentiment_cloze_en@v2",
        "sentiment_cloze_en@v1",
        "sentiment_cloze_zh@v2",
        "sentiment_cloze_en@v1",
    ]
    served_run = Store(tmp_path / "s.db").run(app.state.service.run_id)
    assert served_run["status"] == "stopped" and served_run["finished_at"], "shutdown finishes the serving run"


def test_a_client_that_disconnects_mid_stream_still_leaves_a_logged_record(tmp_path):
    class Slow(MockModel):
        def _call(self, request, sink):
            for word in ("one ", "two ", "three ", "four ", "five ", "six "):
                time.sleep(0.15)
                if sink is not None:
                    sink(word)
            return super()._call(request, None)

    store = Store(tmp_path / "s.db")
    app = create_app(TEMPLATE, Slow(default="x"), store=store)
    with ServerThread(app, port=free_port()) as server:
        request = {"model": "echoer", "stream": True, "messages": [{"role": "user", "content": "go"}]}
        with httpx.stream("POST", f"{server.base_url}/chat/completions", timeout=30, json=request) as response:
            for line in response.iter_lines():
                if "two" in line:
                    break  # walk away after two chunks
        deadline = time.time() + 10
        while not store.results(app.state.service.run_id) and time.time() < deadline:
            time.sleep(0.05)
    (record,) = store.results(app.state.service.run_id)
    assert record.output.startswith("one two") and "client disconnected" in record.error
    assert record.details["disconnected"] is True


def test_a_thumbs_down_becomes_a_bad_case_visible_in_the_cli(tmp_path):
    store = Store(tmp_path / "s.db")
    app = create_app(TEMPLATE, MockModel(default="no it is not"), store=store)
    with ServerThread(app, port=free_port()) as server:
        reply = httpx.post(f"{server.base_url}/completions", json={"model": "echoer", "prompt": "Is it up?"}).json()
        up = httpx.post(f"{server.base_url}/feedback", json={"id": reply["id"], "rating": "👍"}).json()
        assert up["bad_case_id"] is None
        down = httpx.post(
            f"{server.base_url}/feedback",
            json={"id": reply["id"], "rating": "down", "note": "it is up", "expected": "yes"},
        ).json()
        bad = httpx.post(f"{server.base_url}/feedback", json={"id": "cmpl-nope", "rating": "down"})
        assert bad.status_code == 404 and "was answered by `workbench serve`" in bad.json()["error"]["message"]
        assert httpx.post(f"{server.base_url}/feedback", json={"id": reply["id"]}).status_code == 400
    from typer.testing import CliRunner

    from workbench.cli import app as cli

    listed = CliRunner().invoke(cli, ["badcases", "list", "--wide", "--store", str(tmp_path / "s.db")])
    assert listed.exit_code == 0 and f"{down['bad_case_id']}" in listed.output and "user feedback" in listed.output
    assert "it is up" in listed.output and [f["rating"] for f in store.feedback()] == ["up", "down"]


@pytest.mark.local_model
@pytest.mark.parametrize("method", ["generate", "logprob"])
def test_run_serve_and_recheck_give_the_same_record(tmp_path, repo, method):
    """One prompt, one input: the stored output, parsed value, scores and cache hit agree across the three paths."""
    from workbench.badcases import BadCaseTracker
    from workbench.pipeline import run
    from workbench.prompts import PromptLibrary

    lib = PromptLibrary(tmp_path / "lib")
    shipped = PromptLibrary(repo / "prompt_library").get("sentiment_cloze_en")
    template = lib.save(
        shipped
        if method == "generate"
        else shipped.with_changes(output={**shipped.output, "method": "logprob"}, version=1)
    )
    store = Store(tmp_path / "s.db")
    row = {"text": "The battery died after one day.", "expected": "negative"}
    ran = run(template, [row], ["local"], store=store, progress=False).records[0]
    app = create_app([template.name], "local", library=lib, store=store)
    with ServerThread(app, port=free_port()) as server:
        body = httpx.post(f"{server.base_url}/prompts/{template.name}", json=row, timeout=60).json()
    served = store.result(body["result_id"])
    tracker = BadCaseTracker(store)
    case = tracker.mark_bad(ran, tags=["check"])
    rechecked = [
        r for r in tracker.recheck(template, ["local"], progress=False).result.records if r.row_id == case.row_id
    ][0]

    def essence(record):
        return record.output, record.parsed, record.passed, [(s["name"], s["passed"]) for s in record.scores]

    assert essence(ran) == essence(served) == essence(rechecked)
    assert (ran.cached, served.cached, rechecked.cached) == (False, True, True), "the same request hits the cache"
    assert ran.details["mode"] == served.details["mode"] == rechecked.details["mode"] == "prefix-state/1"
    if method == "logprob":
        assert ran.details["label_scores"] == served.details["label_scores"] == rechecked.details["label_scores"]


def test_the_gradio_page_chats_and_a_thumbs_down_becomes_a_bad_case(tmp_path):
    """The deploy notebook's Gradio front end, driven headless through its API (gradio_client)."""
    from gradio_client import Client

    from workbench.badcases import BadCaseTracker
    from workbench.serve.gradio_app import build_demo

    store = Store(tmp_path / "s.db")
    app = create_app(TEMPLATE, MockModel(default="no it is not"), store=store)
    with ServerThread(app, port=free_port()) as server:
        demo = build_demo(server.base_url, "echoer")
        port = free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            assert "Nothing to rate" in client.predict("", "", api_name="/thumbs_down")
            history, cleared, status = client.predict("Is the sky green?", [], api_name="/send")
            assert "no it is not" in str(history[-1]["content"]) and cleared == "" and status.startswith("answer cmpl-")
            thanks = client.predict("the sky is not green, but it answered oddly", "no", api_name="/thumbs_down")
        finally:
            demo.close()
    assert "recorded as bad case #1" in thanks
    (case,) = BadCaseTracker(store).list()
    assert case.source == "feedback" and case.inputs == {"question": "Is the sky green?"} and case.expected == "no"


def test_feedback_reaches_only_answers_a_server_gave(tmp_path):
    """A dataset row of someone's CLI run (row id ``en24``) cannot be turned into a bad case through the server's
    feedback endpoint; a restarted server still takes feedback on its earlier answers."""
    from workbench.pipeline import run

    store = Store(tmp_path / "s.db")
    run(TEMPLATE, [{"id": "en24", "question": "q"}], [MockModel(default="no")], store=store, progress=False)
    first = create_app(TEMPLATE, MockModel(default="no it is not"), store=store)
    with ServerThread(first, port=free_port()) as server:
        reply = httpx.post(f"{server.base_url}/completions", json={"model": "echoer", "prompt": "Is it up?"}).json()
        other_run = httpx.post(f"{server.base_url}/feedback", json={"id": "en24", "rating": "down"})
    assert other_run.status_code == 404 and "taken only on served answers" in other_run.json()["error"]["message"]
    assert store.bad_case_rows() == [], "nothing became a bad case"
    restarted = create_app(TEMPLATE, MockModel(default="no"), store=store)
    with ServerThread(restarted, port=free_port()) as server:
        earlier = httpx.post(f"{server.base_url}/feedback", json={"id": reply["id"], "rating": "down"})
    assert earlier.status_code == 200 and earlier.json()["bad_case_id"]


class _Words(MockModel):
    """Streams its words one by one, slowly; optionally fails after some of them (a provider error mid-stream)."""

    def __init__(self, *, fail_after: int | None = None, pause: float = 0.05):
        super().__init__(default="yes it is true as ever")
        self.fail_after, self.pause = fail_after, pause

    def _call(self, request, sink):
        from workbench.errors import RetryableModelError

        for i, word in enumerate(self.default.split()):
            if self.fail_after is not None and i == self.fail_after:
                raise RetryableModelError("the provider closed the stream (HTTP 502)", spec=self.spec)
            time.sleep(self.pause)
            if sink is not None:
                sink(word + " ")
        return super()._call(request, None)


def _stream_and_leave(server, after: str | None) -> list[str]:
    request = {"model": "echoer", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    seen = []
    with httpx.stream("POST", f"{server.base_url}/chat/completions", timeout=30, json=request) as response:
        for line in response.iter_lines():
            seen.append(line)
            if after is not None and after in line:
                break
    return seen


def _records(store, run_id, n=1, timeout=10):
    deadline = time.time() + timeout
    while len(store.results(run_id)) < n and time.time() < deadline:
        time.sleep(0.05)
    return store.results(run_id)


def test_a_provider_error_mid_stream_leaves_the_partial_output_and_the_error(tmp_path):
    store = Store(tmp_path / "s.db")
    app = create_app(TEMPLATE, _Words(fail_after=3), store=store)
    with ServerThread(app, port=free_port()) as server:
        seen = _stream_and_leave(server, after=None)
        records = _records(store, app.state.service.run_id)
    assert any("upstream_error" in line for line in seen), "the client is told, in the stream"
    assert len(records) == 1 and records[0].output.split() == ["yes", "it", "is"]
    assert "502" in records[0].error


def test_an_upstream_endpoint_that_drops_its_stream_leaves_one_record_with_what_came(tmp_path):
    """Serving an OpenAI-compatible model whose stream breaks after two pieces (the connection drops)."""
    from workbench.testing.fake_openai import FakeOpenAIServer

    store = Store(tmp_path / "s.db")
    with FakeOpenAIServer(faults=lambda prompt, attempt: "break", responder=lambda p: "yes it is true") as upstream:
        app = create_app(TEMPLATE, upstream.spec(), store=store)
        with ServerThread(app, port=free_port()) as server:
            seen = _stream_and_leave(server, after=None)
            records = _records(store, app.state.service.run_id)
    assert any("upstream_error" in line for line in seen), "the client is told, in the stream"
    assert len(records) == 1 and records[0].output.split() == ["yes", "it"] and records[0].error
