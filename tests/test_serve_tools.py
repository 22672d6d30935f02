"""`workbench serve` with tools, driven by the official openai client: a client's tools (and the template's own)
reach the model, calls come back in OpenAI's shape (plain and streamed), tool results continue the conversation, a
template's Python tool runs on the server, and every request is recorded with its calls."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

import workbench as wb
from workbench.prompts import PromptTemplate
from workbench.serve import ServerThread, create_app
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer, free_port
from workbench.tools import registry

TEMPLATE = PromptTemplate.from_string(
    "---\nname: assistant\nmodel: {parameters: {temperature: 0, max_tokens: 32}}\n"
    "tools:\n  - {name: get_time, parameters: {type: object, properties: {zone: {type: string}}}}\n"
    "---\nsystem:\nYou help.\nuser:\n{{ question }}"
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather now",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def upstream_responder(body):
    """The model behind the server: calls get_weather for a weather question, then answers from the result."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return f"Forecast: {last['content']}"
    if "weather" in last["content"]:
        return [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    if "time" in last["content"]:
        return [{"name": "get_time", "arguments": {"zone": "UTC"}}]
    return None


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    monkeypatch.setattr(registry, "TOOLS", registry.Registry("tool", group=None))


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "serve.db")
    with FakeOpenAIServer(tool_responder=upstream_responder) as upstream:
        app = create_app(TEMPLATE, upstream.spec(), store=store)
        with ServerThread(app, port=free_port()) as server:
            yield openai.OpenAI(base_url=server.base_url, api_key="unused"), upstream, store, server


def test_calls_come_back_in_openais_shape_and_tool_results_continue_the_conversation(served):
    client, upstream, store, _ = served
    question = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.chat.completions.create(model="assistant", messages=question, tools=[WEATHER], tool_choice="auto")
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert (call.type, call.function.name, json.loads(call.function.arguments)) == (
        "function",
        "get_weather",
        {"city": "Oslo"},
    )
    assert (
        upstream.requests[0]["tools"] == ["get_time", "get_weather"] and upstream.requests[0]["tool_choice"] == "auto"
    )

    follow_up = [*question, choice.message.model_dump(exclude_none=True)]
    follow_up.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 °C"})
    second = client.chat.completions.create(model="assistant", messages=follow_up, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content == "Forecast: sunny, 21 °C"
    sent = upstream.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[-1] == {"role": "tool", "content": "sunny, 21 °C", "tool_call_id": call.id}

    records = sorted(store.results(store.latest_run_id()), key=lambda r: r.id)
    assert records[0].tool_calls == [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    assert records[1].inputs["__tool_turns"][1] == {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 °C"}
    assert records[1].output == "Forecast: sunny, 21 °C"


def test_streamed_calls_arrive_as_openai_streams_them(served):
    client, _, _, _ = served
    stream = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER], stream=True
    )
    chunks = [c for c in stream if c.choices]
    pieces = [d.tool_calls[0] for d in (c.choices[0].delta for c in chunks) if d.tool_calls]
    assert pieces[0].function.name == "get_weather" and pieces[0].id
    assert json.loads("".join(p.function.arguments or "" for p in pieces)) == {"city": "Oslo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    text = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in text if c.choices).startswith("echo:")


def test_a_templates_python_tool_runs_on_the_server(tmp_path):
    @wb.tool
    def get_time(zone: str = "UTC") -> str:
        return f"12:00 {zone}"

    template = PromptTemplate.from_string(
        TEMPLATE.to_text().replace(
            "  - {name: get_time, parameters: {type: object, properties: {zone: {type: string}}}}", "  - get_time"
        )
    )
    with FakeOpenAIServer(tool_responder=upstream_responder) as upstream:
        app = create_app(template, upstream.spec(), store=Store(tmp_path / "s.db"))
        with ServerThread(app, port=free_port()) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="unused")
            reply = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "time?"}])
    assert reply.choices[0].message.content == "Forecast: 12:00 UTC" and reply.choices[0].finish_reason == "stop"
    assert len(upstream.requests) == 2, "the server called the tool and went on"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"tools": [{"type": "function", "function": {"name": "x y"}}]}, "`tools[0]`: tool name 'x y' must be"),
        ({"tools": [{"type": "function", "function": {"name": "get_time"}}]}, "'get_time' is declared twice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "names tool 'nope'"),
        ({"tools": "get_weather"}, "`tools`: must be a valid list"),
    ],
)
def test_bad_tools_are_400s_that_say_what_to_send(served, extra, message):
    _, upstream, _, server = served
    body = {"model": "assistant", "messages": [{"role": "user", "content": "weather?"}], **extra}
    response = httpx.post(f"{server.base_url}/chat/completions", json=body)
    assert response.status_code == 400 and message in response.json()["error"]["message"], response.text
    assert upstream.requests == []
