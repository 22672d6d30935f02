"""Templates that declare tools: inline definitions and registered Python tools, the agent options, and every bad
declaration refused at the file's line before any model call."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

import workbench as wb
from workbench.errors import TemplateError
from workbench.prompts import PromptTemplate
from workbench.tools import registry
from workbench.tools.declarations import AgentOptions

ROUTER = """---
name: router
model: {parameters: {temperature: 0, max_tokens: 40}}
tools:
  - name: get_weather
    description: Weather now
    parameters: {type: object, properties: {city: {type: string}}, required: [city]}
  - {type: function, function: {name: web_search, parameters: {type: object, properties: {query: {type: string}}}}}
agent: {max_steps: 3, tool_timeout: 2}
---
{{ tools }}
Request: {{ query }}
Call:"""


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    """Each test registers tools into a registry of its own (the process-wide one stays as it was)."""
    monkeypatch.setattr(registry, "TOOLS", registry.Registry("tool", group=None))


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _error(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        PromptTemplate.from_string(text, path="t.prompty")
    return caught.value


def test_inline_tools_both_shapes_and_the_agent_options():
    template = PromptTemplate.from_string(ROUTER, path="t.prompty")
    toolset = template.toolset
    assert toolset.names == ("get_weather", "web_search")
    assert toolset.agent == AgentOptions(max_steps=3, tool_timeout=2.0)
    assert toolset.openai()[0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather now",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    assert template.required_variables == ("query",), "{{ tools }} is filled by the workbench, not the dataset"
    rendered = template.render(query="Rain in Oslo?")
    assert rendered.startswith("Tools:\n- get_weather(city: string) — Weather now\n- web_search(query?: string)")
    assert template.static_prefix.startswith("Tools:\n") and template.static_prefix.endswith("Request: ")
    again = PromptTemplate.from_string(template.with_changes(description="x").to_text())
    assert again.tools == template.tools and again.agent == template.agent, "front matter round-trips"


class Place(BaseModel):
    city: str
    country: str = "FR"


def test_a_python_tool_gets_its_schema_from_its_signature():
    @wb.tool
    def get_weather(city: str, unit: Literal["C", "F"] = "C", days: int = 1) -> dict:
        """Current weather for a city.

        More text that is not the description."""
        return {"city": city}

    @wb.tool(name="find_place", description="Where a place is")
    def lookup(place: Place) -> str:
        return place.city

    declared = get_weather.workbench_tool
    assert get_weather("Oslo") == {"city": "Oslo"}, "the decorated function is unchanged"
    assert declared.description == "Current weather for a city."
    assert declared.parameters["required"] == ["city"]
    assert declared.parameters["properties"]["unit"] == {"default": "C", "enum": ["C", "F"], "type": "string"}
    assert declared.parameters["additionalProperties"] is False
    nested = registry.registered_tool("find_place")
    assert nested.description == "Where a place is" and "$defs" in nested.parameters
    template = PromptTemplate.from_string(
        ROUTER.replace("tools:\n", "tools:\n  - get_weather\n  - find_place\n", 1).replace(
            "  - name: get_weather", "  - name: get_weather2"
        )
    )
    assert template.toolset.names[:2] == ("get_weather", "find_place")
    assert template.toolset.get("get_weather").is_python


def test_a_changed_python_tool_changes_its_identity():
    def first(city: str) -> str:
        return city

    def second(city: str) -> str:
        return city.upper()

    a, b = registry.tool_from_function(first, name="t"), registry.tool_from_function(second, name="t")
    assert a.parameters == b.parameters and a.identity() != b.identity()


@pytest.mark.parametrize(
    "change, needle, message",
    [
        ("{type: object, properties: {city: {type: string}}, required: [city]}", "parameters: {type: objec", None),
        ("{type: object, properties: {city: {type: strin}}}", "parameters: {type: objec", "not a valid JSON Schema"),
        ("{type: array, items: {type: string}}", "parameters: {type: objec", "must describe an object"),
    ],
)
def test_a_parameters_block_that_is_not_a_json_schema_is_refused_at_its_line(change, needle, message):
    text = ROUTER.replace("{type: object, properties: {city: {type: string}}, required: [city]}", change)
    if message is None:
        PromptTemplate.from_string(text, path="t.prompty")
        return
    error = _error(text)
    assert message in str(error) and "get_weather" in str(error)
    assert error.line == _line(text, "- name: get_weather")


def test_two_tools_with_one_name_are_refused_at_the_second():
    text = ROUTER.replace("name: web_search", "name: get_weather")
    error = _error(text)
    assert "two tools are named 'get_weather'" in str(error)
    assert error.line == _line(text, "{type: function")


@pytest.mark.parametrize(
    "edit, message, needle",
    [
        (
            ("agent: {max_steps: 3", "agent: {max_step: 3"),
            "unknown key `max_step` in `agent` — did you mean `max_steps`?",
            "agent:",
        ),
        (("max_steps: 3", "max_steps: 0"), "greater than or equal to 1", "agent:"),
        (
            ("max_tokens: 40}", "max_tokens: 40, tool_choice: always}"),
            "tool_choice must be auto, none, required",
            "model:",
        ),
        (
            ("max_tokens: 40}", "max_tokens: 40, tool_choice: {type: function, function: {name: nope}}}"),
            "names tool 'nope'",
            "model:",
        ),
        (("- name: get_weather", "- name: get weather"), "tool name 'get weather' must be", "- name: get weather"),
    ],
)
def test_bad_tool_settings_name_the_line_and_the_fix(edit, message, needle):
    text = ROUTER.replace(*edit)
    error = _error(text)
    assert message in str(error), str(error)
    assert error.line == _line(text, needle)


def test_tool_parameters_or_agent_without_tools_are_refused():
    plain = "---\nname: p\nmodel: {parameters: {tool_choice: auto}}\nagent: {max_steps: 2}\n---\nHi {{ x }}"
    error = _error(plain)
    assert "`tool_choice` needs tools" in str(error) and "`agent:` needs tools" in str(error)


def test_an_unknown_registered_name_is_an_error_naming_the_line_when_the_run_plans(tmp_path):
    text = ROUTER.replace("tools:\n", "tools:\n  - lookup_order\n", 1)
    (tmp_path / "t.prompty").write_text(text, encoding="utf-8")
    template = PromptTemplate.load(tmp_path / "t.prompty")  # loading is fine: the tool may be registered later
    with pytest.raises(TemplateError) as caught:
        wb.run(template, [{"query": "x"}], ["echo"], store=str(tmp_path / "s.db"), progress=False)
    assert "No tool registered as 'lookup_order'" in str(caught.value) and "@wb.tool" in str(caught.value)
    assert caught.value.line == _line(text, "- lookup_order")

    @wb.tool
    def lookup_order(order_id: str) -> str:
        return "shipped"

    assert template.toolset.names[0] == "lookup_order"


def test_the_views_show_the_tools_called_the_steps_and_two_versions_calls_side_by_side():
    from types import SimpleNamespace

    from workbench.tools import view

    paris = {"name": "get_weather", "arguments": {"city": "Paris"}}
    trajectory = [
        {
            "step": 1,
            "output": "",
            "calls": [{**paris, "id": "c1", "result": {"temp": 21}, "source": "python"}],
            "latency_ms": 12.5,
            "prompt_tokens": 30,
            "completion_tokens": 9,
            "finish_reason": "tool_calls",
        },
        {"step": 2, "output": "Sunny.", "calls": [], "latency_ms": 8.0, "prompt_tokens": None, "completion_tokens": 3},
    ]
    record = SimpleNamespace(tool_calls=[paris], trajectory=trajectory)
    assert view.tools_called(record) == "get_weather"
    assert view.tools_called(SimpleNamespace(tool_calls=[])) == "(no call)"
    assert view.tools_called(SimpleNamespace(tool_calls=None)) is None, "a template without tools shows no tool"
    first, second = view.steps(record)
    assert first.calls == [
        {"text": 'get_weather({"city": "Paris"})', "result": '{"temp": 21}', "error": None, "source": "python"}
    ]
    assert (first.tokens, second.tokens, second.output) == ("30 + 9", "? + 3", "Sunny.")
    pairs = view.side_by_side(
        [paris, {"name": "web_search", "arguments": {"q": "x"}}],
        [{"name": "get_weather", "arguments": {"city": "Lyon"}}],
    )
    assert [(p.same, p.differences) for p in pairs] == [(False, ("city: Paris ≠ Lyon",)), (False, ("only in A",))]
    assert view.side_by_side([], []) == [view.CallPair("(no call)", "(no call)", True)]
    assert view.side_by_side([paris], [paris])[0].same
