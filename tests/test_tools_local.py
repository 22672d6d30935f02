"""Tool calls on the real local model (Gemma 3 270M base, llama.cpp): the grammar makes every reply a declared tool
with arguments that fit, or an answer; log-probability choice scores every tool; a Python tool's result feeds the
next step. The least work that shows each (accuracy itself is measured by benchmarks/bench_tools.py)."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.tools import registry

pytestmark = pytest.mark.local_model

ROUTER_DATA = "datasets/tool_routing_en.jsonl"


def test_under_the_grammar_every_reply_is_a_declared_call_or_an_answer(repo, tmp_path):
    result = wb.run("tool_router_en", repo / ROUTER_DATA, ["local"], limit=6, store=tmp_path / "s.db", progress=False)
    assert [r.error for r in result.records] == [None] * 6
    for record in result.records:
        step = record.trajectory[0]
        assert "error" not in step, f"{record.row_id}: {step}"  # the reply parsed: a call or an answer
        assert all("error" not in call for call in record.tool_calls), record.tool_calls  # declared, schema-valid
        assert record.details["finish_reason"] in ("tool_calls", "stop")
    weather = result.records[0]
    assert weather.tool_calls == [{"name": "get_weather", "arguments": {"city": "Paris"}}] and weather.passed


def test_logprob_choice_scores_each_tool_then_fills_the_chosen_ones_arguments(repo, tmp_path):
    router = wb.load_prompt("tool_router_en")
    by_logprob = router.with_changes(name="tool_router_logprob", output={**router.output, "method": "logprob"})
    result = wb.run(by_logprob, repo / ROUTER_DATA, ["local"], limit=2, store=tmp_path / "s.db", progress=False)
    for record in result.records:
        scores = record.trajectory[0]["label_scores"]
        assert set(scores) == {*router.toolset.names, "(answer)"}
        best = max(scores, key=scores.get)
        made = record.tool_calls[0]["name"] if record.tool_calls else "(answer)"
        assert made == best and all("error" not in call for call in record.tool_calls)


def test_a_python_tools_result_is_the_next_steps_feedback(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "TOOLS", registry.Registry("tool", group=None))
    seen = []

    @wb.tool
    def convert_units(value: float, from_unit: str, to_unit: str) -> dict:
        """Convert a measurement between units (km, mi, kg, lb)."""
        seen.append((value, from_unit, to_unit))
        return {"value": 6.21, "unit": to_unit}

    agent = wb.PromptTemplate.from_string(
        """---
name: units_agent
model: {parameters: {temperature: 0, max_tokens: 40, stop: ["\\n"], tool_choice: required}}
tools: [convert_units]
agent: {max_steps: 2}
---
{{ tools }}
Request: How many kilograms is 12 pounds?
Call: {"name": "convert_units", "arguments": {"value": 12, "from_unit": "lb", "to_unit": "kg"}}
Result: {"value": 5.44, "unit": "kg"}
Call: {"answer": "12 pounds is 5.44 kg."}

Request: {{ query }}
Call:"""
    )
    record = wb.run(
        agent, [{"query": "How many miles is 10 kilometers?"}], ["local"], store=tmp_path / "s.db", progress=False
    ).records[0]
    first, second = record.trajectory  # tool_choice required: the first step must call, the second comes after
    call = first["calls"][0]
    assert call["name"] == "convert_units" and call["source"] == "python" and call["result"]["value"] == 6.21
    assert seen == [(call["arguments"]["value"], call["arguments"]["from_unit"], call["arguments"]["to_unit"])]
    assert second["step"] == 2 and record.details["finish_reason"] == "max_steps"
