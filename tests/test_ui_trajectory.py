"""The Results tab on rows that call tools, without a browser: the row detail shows the trajectory (steps, calls with
arguments, results and errors, the final answer), a comparison puts the two versions' calls side by side with what
differs marked, and a matrix cell says which tool a row called — in English and in Chinese."""

from __future__ import annotations

import html
import re

import pytest

import workbench as wb
from workbench.prompts import PromptTemplate
from workbench.testing.models import FunctionModel
from workbench.tools import registry
from workbench.ui import ResultsView
from workbench.ui.testing import make_state

AGENT = """---
name: units_agent
tools: [convert_units]
agent: {max_steps: 3}
assertions: [{type: tool_calls, arguments: partial}]
---
Request: {{ query }}
Call:"""


@pytest.fixture(params=["en"])
def state(request, tmp_path, repo, monkeypatch):
    monkeypatch.setattr(registry, "TOOLS", registry.Registry("tool", group=None))

    @wb.tool
    def convert_units(value: float, from_unit: str, to_unit: str) -> dict:
        """Convert between units."""
        if from_unit == "parsec":
            raise ValueError("no parsecs here")
        return {"value": round(value * 0.621371, 2), "unit": to_unit}

    return make_state(tmp_path, repo, lang=request.param)


def model(unit: str):
    """A model that calls convert_units from ``unit``, then answers from the result it was shown."""

    def answer(prompt: str) -> str:
        if "Result:" in prompt:
            value = prompt.rsplit('"value": ', 1)[1].split(",")[0]
            return ' {"answer": "It is ' + value + ' mi."}'
        return ' {"name": "convert_units", "arguments": {"value": 10, "from_unit": "' + unit + '", "to_unit": "mi"}}'

    return FunctionModel(answer, spec=f"function:{unit}")


def _text(value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


def _run_two_versions(state):
    v1 = PromptTemplate.from_string(AGENT)
    v2 = v1.with_changes(version=2, body=v1.body.replace("Request:", "Question:"))
    rows = [
        {
            "id": "r1",
            "query": "10 km in miles?",
            "expected_tool_calls": '[{"name": "convert_units", "arguments": {"from_unit": "km"}}]',
        }
    ]
    wb.run(v1, rows, [model("parsec")], store=state.store, progress=False)
    return wb.run([v1, v2], rows, [model("km")], store=state.store, progress=False)


def test_the_row_detail_shows_every_step_call_result_and_the_final_answer(state):
    result = _run_two_versions(state)
    view = ResultsView(state)
    view.select_row("r1")
    detail = _text(view.detail.value)
    assert "Trajectory: 2 steps" in detail and "step 1" in detail and "step 2" in detail
    flat = " ".join(detail.split())
    assert 'call: convert_units({"from_unit": "km", "to_unit": "mi", "value": 10})' in flat
    assert 'result (Python tool): {"unit": "mi", "value": 6.21}' in flat
    assert "final answer: It is 6.21 mi." in flat and "ended: the model answered" in flat
    cells = _text(" ".join(view.table.rows[0]["cells"]))
    assert cells.count("🔧 tools called: convert_units") == len(result.records) == 2, "each column's cell says so"


def test_a_comparison_shows_both_versions_calls_side_by_side_with_the_difference(state):
    v1 = PromptTemplate.from_string(AGENT)
    rows = [{"id": "r1", "query": "10 km in miles?", "expected_tool_calls": '[{"name": "convert_units"}]'}]
    a = wb.run(v1, rows, [model("parsec")], store=state.store, progress=False)
    b = wb.run(
        v1.with_changes(version=2, body=v1.body.replace("Request:", "Question:")),
        rows,
        [model("km")],
        store=state.store,
        progress=False,
    )
    from workbench.ui.trajectory import calls_side_by_side_html, trajectory_html

    compared = _text(calls_side_by_side_html(a.records[0], b.records[0]))
    assert "Tool calls, A and B side by side" in compared
    assert "from_unit: parsec ≠ km" in compared, "the argument and its two values"
    errored = _text(trajectory_html(a.records[0]))
    assert "error: convert_units raised ValueError: no parsecs here" in errored


@pytest.mark.parametrize("state", ["zh"], indirect=True)
def test_the_trajectory_speaks_chinese(state):
    _run_two_versions(state)
    view = ResultsView(state)
    view.select_row("r1")
    detail = _text(view.detail.value)
    assert "轨迹：2 步" in detail and "第 1 步" in detail and "结果（Python 工具）" in detail and "最终回答" in detail
    assert "工具调用：A 与 B 并排对照" in detail
