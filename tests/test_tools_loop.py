"""The agent loop end to end through ``wb.run``: calls, Python tools and the rows' tool results, errors the model is
shown, ``max_steps``, single-step evaluation, the cache, exports — on an OpenAI-compatible endpoint (a local stand-in
that answers with tool calls) and on a model without a tools API (the JSON reply protocol)."""

from __future__ import annotations

import json
import re
import time

import pytest

import workbench as wb
from workbench.errors import DatasetError
from workbench.exports import read_export
from workbench.prompts import PromptTemplate
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.models import FunctionModel
from workbench.tools import registry

WEATHER = (
    "  - name: get_weather\n    description: Weather now\n"
    "    parameters: {type: object, properties: {city: {type: string}}, required: [city], "
    "additionalProperties: false}\n"
)
SEARCH = (
    "  - name: web_search\n    parameters: {type: object, properties: {query: {type: string}}, required: [query]}\n"
)
CHAT = """---
name: helper
model: {parameters: {temperature: 0, max_tokens: 40}}
tools:
  - name: get_weather
    description: Weather now
    parameters: {type: object, properties: {city: {type: string}}, required: [city], additionalProperties: false}
  - name: web_search
    parameters: {type: object, properties: {query: {type: string}}, required: [query]}
assertions: [{type: tool_calls, arguments: partial}]
---
user:
{{ query }}"""

COMPLETION = CHAT.replace("user:\n{{ query }}", "Request: {{ query }}\nCall:")


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    monkeypatch.setattr(registry, "TOOLS", registry.Registry("tool", group=None))


def _template(text: str = CHAT, **changes) -> PromptTemplate:
    template = PromptTemplate.from_string(text)
    return template.with_changes(**changes) if changes else template


def _run(template, rows, model, tmp_path, **options):
    return wb.run(template, rows, [model], store=str(tmp_path / "s.db"), progress=False, **options)


def weather_then_answer(body):
    """An endpoint that calls get_weather for a question about weather, then answers from the tool's result."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return f"Answer from {last['content']}"
    if "weather" in last["content"].lower():
        city = last["content"].split()[-1].strip("?")
        return [{"name": "get_weather", "arguments": {"city": city}}]
    return None


def test_an_endpoint_calls_a_declared_only_tool_and_the_loop_stops_after_it(tmp_path):
    rows = [
        {
            "id": "w",
            "query": "weather in Paris?",
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {"id": "n", "query": "hello", "expected_tool_calls": "[]"},
    ]
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        result = _run(_template(), rows, server.spec(), tmp_path)
        sent = list(server.requests)
    weather, hello = result.records
    assert [r.passed for r in result.records] == [True, True]
    assert weather.tool_calls == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert weather.output == 'get_weather({"city": "Paris"})', "a row that ended on its call shows the call"
    assert weather.details["finish_reason"] == "tool_calls" and len(weather.trajectory) == 1
    assert hello.tool_calls == [] and hello.output.startswith("echo:")
    assert len(sent) == 2 and sent[0]["tools"] == ["get_weather", "web_search"], "one call per row: nothing to loop on"


def test_the_rows_tool_results_answer_the_calls_and_the_loop_goes_on(tmp_path):
    rows = [
        {
            "query": "weather in Oslo?",
            "tool_results": '{"get_weather": {"temp": 3}}',
            "expected_tool_calls": '[{"name": "get_weather"}]',
        }
    ]
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        record = _run(_template(), rows, server.spec(), tmp_path).records[0]
        second = server.requests[-1]["messages"]
    assert record.output == 'Answer from {"temp": 3}' and record.passed
    assert [s["step"] for s in record.trajectory] == [1, 2]
    call = record.trajectory[0]["calls"][0]
    assert call["result"] == {"temp": 3} and call["source"] == "dataset"
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second[-1] == {"role": "tool", "content": '{"temp": 3}', "tool_call_id": call["id"]}


def test_a_python_tool_runs_its_errors_and_timeouts_become_results_the_model_sees(tmp_path):
    seen = []

    @wb.tool
    def get_weather(city: str) -> dict:
        """Weather now."""
        seen.append(city)
        if city == "Atlantis":
            raise LookupError("no such city")
        if city == "Slowtown":
            time.sleep(1.5)
        return {"city": city, "temp": 21}

    text = CHAT.replace(
        WEATHER,
        "  - get_weather\n",
    ).replace("assertions:", "agent: {tool_timeout: 0.5}\nassertions:")
    rows = [
        {"id": c, "query": f"weather in {c}?", "expected_tool_calls": '[{"name": "get_weather"}]'}
        for c in ("Rome", "Atlantis", "Slowtown")
    ]
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        rome, atlantis, slow = _run(_template(text), rows, server.spec(), tmp_path).records
    assert rome.output == 'Answer from {"city": "Rome", "temp": 21}'
    assert rome.trajectory[0]["calls"][0]["source"] == "python" and "latency_ms" in rome.trajectory[0]["calls"][0]
    assert atlantis.trajectory[0]["calls"][0]["error"] == "get_weather raised LookupError: no such city"
    assert atlantis.output == 'Answer from {"error": "get_weather raised LookupError: no such city"}'
    assert slow.trajectory[0]["calls"][0]["error"] == "get_weather ran past its 0.5 s timeout (agent.tool_timeout)"
    assert all(r.error is None and r.passed for r in (rome, atlantis, slow)), "tool failures are results, not errors"
    assert seen[:2] == ["Rome", "Atlantis"]


def test_undeclared_tools_and_schema_breaking_arguments_are_scored_failures_with_the_reason(tmp_path):
    def responder(body):
        query = body["messages"][-1]["content"]
        if query == "undeclared":
            return [{"name": "delete_everything", "arguments": {}}]
        if query == "not json":
            return [{"name": "get_weather", "arguments": "{city: Paris"}]
        return [{"name": "get_weather", "arguments": {"town": "Paris"}}]

    rows = [
        {"query": q, "expected_tool_calls": '[{"name": "get_weather"}]'} for q in ("undeclared", "bad args", "not json")
    ]
    with FakeOpenAIServer(tool_responder=responder) as server:
        records = _run(_template(), rows, server.spec(), tmp_path).records
    assert [r.passed for r in records] == [False, False, False] and all(r.error is None for r in records)
    assert (
        "called 'delete_everything', which is not a declared tool (declared: get_weather, web_search)"
        in records[0].reason
    )
    assert "arguments of get_weather break its schema: 'city' is a required property" in records[1].reason
    assert "arguments of get_weather are not a JSON object: '{city: Paris'" in records[2].reason
    assert records[0].trajectory[0]["calls"][0]["error"].startswith("called 'delete_everything'")


def test_max_steps_ends_a_model_that_keeps_calling(tmp_path):
    @wb.tool
    def web_search(query: str) -> str:
        return "nothing found"

    text = CHAT.replace(SEARCH, "  - web_search\n")
    text = text.replace(
        "assertions: [{type: tool_calls, arguments: partial}]",
        "agent: {max_steps: 3}\nassertions: [{type: step_count, max: 2}]",
    )
    with FakeOpenAIServer(
        tool_responder=lambda body: [{"name": "web_search", "arguments": {"query": "again"}}]
    ) as server:
        record = _run(_template(text), [{"query": "find it"}], server.spec(), tmp_path).records[0]
        calls = len(server.requests)
    assert calls == 3 and len(record.trajectory) == 3 and record.details["finish_reason"] == "max_steps"
    assert len(record.tool_calls) == 3 and not record.passed and record.reason == "step_count: 3 step(s); allowed 1–2"


def test_parallel_calls_run_together_and_tool_choice_reaches_the_endpoint(tmp_path):
    @wb.tool
    def get_weather(city: str) -> str:
        time.sleep(0.3)
        return f"sunny in {city}"

    def two_cities(body):
        if body["messages"][-1]["role"] == "tool":
            return " / ".join(m["content"] for m in body["messages"] if m["role"] == "tool")
        return [
            {"name": "get_weather", "arguments": {"city": "Rome"}},
            {"name": "get_weather", "arguments": {"city": "Oslo"}},
        ]

    text = CHAT.replace(
        WEATHER,
        "  - get_weather\n",
    )
    text = text.replace("max_tokens: 40}", "max_tokens: 40, tool_choice: required, parallel_tool_calls: true}")
    text = text.replace("arguments: partial}", "match: unordered}")
    rows = [
        {
            "query": "Rome and Oslo?",
            "expected_tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Oslo"}},
                {"name": "get_weather", "arguments": {"city": "Rome"}},
            ],
        }
    ]
    with FakeOpenAIServer(tool_responder=two_cities) as server:
        record = _run(_template(text), rows, server.spec(), tmp_path).records[0]
        first = server.requests[0]
    assert first["tool_choice"] == "required"
    assert record.output == "sunny in Rome / sunny in Oslo" and record.passed
    assert record.trajectory[0]["latency_ms"] < 550, "the two 0.3 s calls ran at the same time"


def test_a_model_without_a_tools_api_follows_the_json_protocol(tmp_path):
    """A completion model is shown the tools as a block and answers with one JSON object per step; the loop goes on
    with the result and the prompt's last line as the cue."""
    prompts = []

    def model(prompt: str) -> str:
        prompts.append(prompt)
        if "Result:" in prompt:
            return ' {"answer": "It is 21 degrees."}'
        return ' {"name": "get_weather", "arguments": {"city": "Rome"}} and some rambling'

    rows = [
        {
            "query": "weather in Rome?",
            "tool_results": {"get_weather": {"temp": 21}},
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "rome"}}],
        }
    ]
    record = _run(_template(COMPLETION), rows, FunctionModel(model, spec="function:json"), tmp_path).records[0]
    assert prompts[0].startswith(
        "Tools:\n- get_weather(city: string) — Weather now\n- web_search(query: string)\nTo call a tool"
    )
    assert prompts[0].endswith("Request: weather in Rome?\nCall:")
    assert prompts[1].endswith(
        'Call: {"name": "get_weather", "arguments": {"city": "Rome"}}\nResult: {"temp": 21}\nCall:'
    )
    assert record.output == "It is 21 degrees." and record.passed and len(record.trajectory) == 2
    garbled = _run(
        _template(COMPLETION),
        [{"query": "x", "expected_tool_calls": "[]"}],
        FunctionModel(lambda p: "no idea", spec="function:garbled"),
        tmp_path,
    ).records[0]
    assert garbled.passed and garbled.details["finish_reason"] == "invalid_reply"
    assert garbled.trajectory[0]["error"] == "the reply is not a JSON tool call or answer: 'no idea'"


def test_answers_and_calls_come_back_from_the_cache_and_a_changed_tool_misses_it(tmp_path):
    rows = [
        {
            "query": "weather in Oslo?",
            "tool_results": '{"get_weather": "cold"}',
            "expected_tool_calls": '[{"name": "get_weather"}]',
        }
    ]
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        first = _run(_template(), rows, server.spec(), tmp_path)
        again = _run(_template(), rows, server.spec(), tmp_path)
        assert len(server.requests) == 2 and again.records[0].cached
        assert again.records[0].trajectory == first.records[0].trajectory and again.records[0].passed
        changed = [{**rows[0], "tool_results": '{"get_weather": "warm"}'}]
        _run(_template(), changed, server.spec(), tmp_path)
        assert len(server.requests) == 4, "other tool results are another request"
        renamed = _template(
            CHAT.replace("description: Weather now", "description: Weather today").replace(
                "name: helper", "name: helper2"
            )
        )
        _run(renamed, rows, server.spec(), tmp_path)
        assert len(server.requests) == 6, "a changed declaration is another request"


def test_exports_carry_the_calls_and_every_step(tmp_path):
    rows = [{"id": "w", "query": "weather in Paris?", "expected_tool_calls": '[{"name": "get_weather"}]'}]
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        result = _run(_template(), rows, server.spec(), tmp_path)
    for suffix in ("jsonl", "csv"):
        row = read_export(result.export(tmp_path / f"out.{suffix}"))[0]
        assert row["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
        assert row["trajectory"][0]["calls"][0]["name"] == "get_weather"
    frame = result.to_dataframe()
    assert frame.loc[0, "tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]


@pytest.mark.parametrize(
    "cell, message",
    [
        (
            "",
            "1 empty value(s) for variables the 'tool_calls' assertion of helper@v1 needs: ROWS line 1 "
            "(column 'expected_tool_calls')",
        ),
        ("[{name: get_weather}]", "line 1: column 'expected_tool_calls': the cell is not JSON"),
        (
            '[{"name": "get_wether"}]',
            "expects a call of 'get_wether', which template helper@v1 does not declare "
            "(declared: get_weather, web_search)",
        ),
    ],
)
def test_bad_expected_calls_stop_the_run_before_any_call(tmp_path, cell, message):
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"query": "x", "expected_tool_calls": cell}) + "\n", encoding="utf-8")
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        with pytest.raises(DatasetError, match=re.escape(message.replace("ROWS", str(data)))):
            _run(_template(), data, server.spec(), tmp_path)
        assert server.requests == []


@pytest.mark.parametrize(
    "cell, message",
    [
        ("{not json", "column 'tool_results' is not JSON"),
        ("[1, 2]", "column 'tool_results' must be a JSON object mapping a tool name to its result, not list"),
        ('{"get_wether": 1}', "column 'tool_results' names tool 'get_wether', which template helper@v1"),
    ],
)
def test_bad_tool_results_stop_the_run_before_any_call(tmp_path, cell, message):
    with FakeOpenAIServer(tool_responder=weather_then_answer) as server:
        with pytest.raises(DatasetError, match=re.escape(message)):
            _run(
                _template(),
                [{"query": "x", "tool_results": cell, "expected_tool_calls": "[]"}],
                server.spec(),
                tmp_path,
            )
        assert server.requests == []


def test_the_paired_comparison_stability_and_bad_cases_work_on_tool_calls(tmp_path):
    """Two versions of a routing prompt on an endpoint that routes well only when the prompt says so: the paired
    comparison sees the flipped rows, repeats give pass^k and flaky rows, failures become bad cases that a recheck
    of the better version fixes, and the regression set they export runs again."""
    import random

    def router(body):
        messages = body["messages"]
        query = messages[-1]["content"]
        careful = "Route carefully" in messages[0]["content"]
        wrong = not careful and (query.startswith("q1") or query.startswith("q2"))
        if body.get("temperature") and query.startswith("q5"):  # a row the endpoint is unsure about when sampling
            wrong = random.Random(body.get("seed")).random() < 0.5
        if wrong:
            return [{"name": "web_search", "arguments": {"query": "Oslo weather"}}]
        return [{"name": "get_weather", "arguments": {"city": "Oslo"}}]

    v1 = _template(CHAT.replace("user:\n", "system:\nRoute.\nuser:\n"))
    v2 = v1.with_changes(version=2, body=v1.body.replace("Route.", "Route carefully."))
    rows = [
        {"id": f"q{i}", "query": f"q{i} weather?", "expected_tool_calls": '[{"name": "get_weather"}]'}
        for i in range(10)
    ]
    store = str(tmp_path / "s.db")
    with FakeOpenAIServer(tool_responder=router) as server:
        both = wb.run([v1, v2], rows, [server.spec()], store=store, progress=False)
        verdict = both.compare(a=f"helper@v1/{server.spec()}", b=f"helper@v2/{server.spec()}").to_dict()
        assert (verdict["a_only"], verdict["b_only"], verdict["pairs"]) == (0, 2, 10)
        sampled = wb.run(v2, rows, [server.spec()], store=store, progress=False, repeats=4, params={"temperature": 0.7})
        stability = sampled.stability().iloc[0]
        assert stability["flaky"] == ["q5"] and stability["pass_at_k"] == 1.0 and stability["pass_all_k"] == 0.9

        tracker = wb.BadCaseTracker(store)
        cases = tracker.capture_failures([r for r in both.records if r.version == 1])
        assert sorted(c.row_id for c in cases) == ["q1", "q2"]
        assert cases[0].note == 'missing call get_weather; extra call web_search({"query": "Oslo weather"})'
        report = tracker.recheck(v2, [server.spec()], progress=False)
        assert report.counts() == {"fixed": 2}
        regression = tracker.export(tmp_path / "regression.jsonl", prompt="helper")
        again = wb.run(v2, regression, [server.spec()], store=store, progress=False)
        assert [r.passed for r in again.records] == [True, True]
