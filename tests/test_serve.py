"""The deploy endpoint: OpenAI-compatible chat completions (+SSE), the prompt endpoint, errors, auth."""

import asyncio
import json

import httpx
import openai
import pytest

from workbench.models.testing import MockModel
from workbench.prompts import PromptTemplate
from workbench.serve import ServerThread, create_app
from workbench.store import Store
from workbench.testing.fake_openai import free_port

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
    logged = store.query("SELECT inputs, output FROM results")
    assert len(logged) == 2 and json.loads(logged[0]["inputs"]) == {"question": "Is it?"}


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


@pytest.mark.parametrize("path, body, status, phrase", [
    ("/prompts/echoer", {"wrong": "x"}, 400, "Missing variables: question"),
    ("/prompts/other", {"question": "x"}, 404, "does not serve 'other'. It serves: echoer"),
    ("/chat/completions", {"model": "echoer", "messages": []}, 400, "Send `messages`"),
    ("/chat/completions", {"model": "echoer", "max_tokens": 5000, "messages": [{"role": "user", "content": "x"}]},
     400, "over this server's limit"),
    ("/chat/completions", {"model": "echoer", "temperature": -3, "messages": [{"role": "user", "content": "x"}]},
     400, "Invalid temperature"),
])  # fmt: skip
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
        with httpx.stream("POST", f"{server.base_url}/chat/completions", timeout=30, json={
            "model": template.name, "stream": True, "max_tokens": 64, "stop": [],
            "messages": [{"role": "user", "content": "Tell me a long story about a dragon."}],
        }) as response:  # fmt: skip
            for _ in zip(range(3), response.iter_lines(), strict=False):
                pass
        after = client.chat.completions.create(model=template.name, messages=message)
        assert after.choices[0].message.content == text
        parsed = httpx.post(
            f"{server.base_url}/prompts/{template.name}", json={"text": "I loved every minute."}, timeout=30
        ).json()
        assert parsed["parsed"] in ("positive", "negative")
