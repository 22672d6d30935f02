"""Every gate a notebook, the demo or a test asserts fails a model that did not earn it: one that always gives
the same answer, and one that answers at random. (The real local model passing them is checked where they are
used: tests/test_local_model.py, tests/test_cli.py's demo test, the notebooks.)"""

from __future__ import annotations

import json
import random
import zlib

import pytest

from workbench.course.evidence import read_figures
from workbench.course.gates import GATES, GateFailed, check, check_choice, check_labels, check_rate, require
from workbench.datasets import load_dataset
from workbench.errors import ConfigError
from workbench.parsers import LabelParser
from workbench.pipeline import run
from workbench.prompts import load_prompt
from workbench.testing.models import FunctionModel


def _answers(template):
    if template.tools:  # a tool router: a call of each tool (with arguments that fit), and answering without one
        return [json.dumps({"name": name, "arguments": {}}) for name in template.toolset.names] + ['{"answer": "Hi"}']
    parser = template.parser
    if isinstance(parser, LabelParser):
        return [words[-1] for words in parser.labels.values()]  # one word per label
    return ["I do not know.", "It depends.", "Yes."]


def constant_model(template):
    word = _answers(template)[0]
    return FunctionModel(lambda prompt: word, spec=f"function:always-{word.strip()}")


def random_model(template, seed: int):
    words = _answers(template)

    def answer(prompt: str) -> str:  # seeded by the prompt: the same prompt gets the same random answer
        return random.Random(zlib.crc32(prompt.encode()) + seed).choice(words)

    return FunctionModel(answer, spec=f"function:random-{seed}")


CASES = [(name, bar.figure) for name, spec in sorted(GATES.items()) for bar in spec.bars]


def _gated_rows(repo, figure):
    """The rows a figure was measured on, in its order (the rows its bar gates)."""
    rows = {str(row["id"]): row for row in load_dataset(repo / figure.dataset).rows}
    return [rows[row_id] for row_id in figure.row_ids]


def _without_retrieval(template, rows):
    """A RAG template with the context given in the rows (a degenerate model needs no vector store): each row's
    context holds its expected answer, as retrieved notes would — so a model that repeats its context looks right
    to a scorer that only searches the output."""
    inputs = {**template.inputs, "context": template.inputs["question"]}
    template = template.with_changes(retrieval={}, inputs=inputs)
    notes = "These notes explain how language models work, from tokens to sampling and retrieval. "
    rows = [{**row, "context": notes + f"The answer: {str(row['expected']).split('|')[0]}. " + notes} for row in rows]
    return template, rows


def echo_model():
    return FunctionModel(lambda prompt: prompt, spec="function:echo")


@pytest.mark.parametrize("name, figure_id", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_a_constant_a_random_and_an_echoing_model_fail_every_gate_on_every_row_set(repo, tmp_path, name, figure_id):
    spec = GATES[name]
    figure = read_figures(repo)[figure_id]
    template = load_prompt(spec.prompt)
    data = _gated_rows(repo, figure)
    if template.retrieval:
        template, data = _without_retrieval(template, data)
    degenerate = [constant_model(template), echo_model()] + [random_model(template, seed) for seed in range(2)]
    for model in degenerate:
        result = run(template, data, [model], store=tmp_path / "s.db", progress=False)
        # a rate gate compares with the closed-book rate measured on the same rows by the benchmark — not with the
        # degenerate model itself, which no model could beat
        baseline = (
            read_figures(repo)[figure_id.replace("with_context", "closed_book")].rate if spec.kind == "rate" else None
        )
        report = check(name, result, baseline=baseline)
        assert not report.passed, f"{model.spec} passed gate {name} on {figure_id}:\n{report}"
        with pytest.raises(GateFailed, match=name):
            require(name, result, baseline=baseline)


@pytest.mark.parametrize("name, figure_id", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_every_bar_rests_on_a_figure_measured_on_the_rows_it_gates(repo, name, figure_id):
    """The bar may not promise more than was measured on its own rows: it sits at or below the lower end of the
    95% interval of a figure measured on exactly those rows, and the figure exists in benchmarks/results/."""
    spec = GATES[name]
    (bar,) = [b for b in spec.bars if b.figure == figure_id]
    figure = read_figures(repo).get(figure_id)
    assert figure is not None, f"gate {name}: figure {figure_id!r} is missing — run the benchmark that writes it"
    assert bar.min_pass_rate <= figure.low, f"gate {name}: bar {bar.min_pass_rate} > {figure.describe()}"
    assert figure.dataset and len(figure.row_ids) == figure.n == len(set(figure.row_ids)), "the rows it was measured on"
    assert figure.describe() in spec.measured and f"benchmarks/{figure.script}" in spec.measured


def test_a_gate_refuses_rows_no_figure_measured(repo, tmp_path):
    spec = GATES["cloze_en"]
    rows = list(load_dataset(repo / "datasets" / "sentiment_en.csv").rows)[:18]  # 18 rows: no bar was measured on them
    result = run(load_prompt(spec.prompt), rows, [constant_model(load_prompt(spec.prompt))], store=tmp_path / "s.db")
    with pytest.raises(ConfigError, match=r"no bar measured on these 18 rows.*12 rows of datasets/sentiment_en.csv"):
        check("cloze_en", result)


def test_a_rate_gate_needs_the_baseline_of_the_same_run():
    with pytest.raises(ConfigError, match="baseline"):
        check("rag_answers", [R("x", True)])


def test_a_choice_gate_beats_the_most_common_correct_letter():
    """On an exam where half the answers are B, always answering B is 50%: 60% is not enough evidence."""
    exam = [Q("B", True)] * 5 + [Q("A", True)] + [Q("A", False)] * 2 + [Q("D", False)] * 2
    report = check_choice(exam, min_pass_rate=0.3)
    assert not report.passed and "6/10 vs baseline 50%" in str(report)
    strong = [Q("B", True)] * 10 + [Q("A", True)] * 6 + [Q("D", True)] * 2 + [Q("D", False)] * 2
    assert check_choice(strong, min_pass_rate=0.3).passed


class R:  # a minimal record for the pure checks
    def __init__(self, expected, passed, error=None):
        self.inputs, self.passed, self.error = {"expected": expected}, passed, error


class Q(R):  # a multiple-choice question's record: four options
    def __init__(self, expected, passed):
        super().__init__(expected, passed)
        self.inputs.update({"A": "a", "B": "b", "C": "c", "D": "d"})


def test_label_checks_catch_each_way_a_model_can_cheat():
    balanced = [R("pos", True)] * 5 + [R("neg", False)] * 5  # always "pos": half right
    report = check_labels(balanced, min_pass_rate=0.5)
    failed = {c.name for c in report.checks if not c.passed}
    assert failed == {"better than the baseline", "recall of 'neg'"}
    good = [R("pos", True)] * 10 + [R("neg", True)] * 9 + [R("neg", False)]
    assert check_labels(good, min_pass_rate=0.8).passed
    errored = good[:-1] + [R("neg", None, error="timeout")]
    assert not check_labels(errored, min_pass_rate=0.8).passed, "an errored cell is not a pass"
    one_class = [R("pos", True)] * 20
    assert not check_labels(one_class, min_pass_rate=0.8).passed, "a gate needs every class present"
    skewed = [R("pos", True)] * 18 + [R("neg", False)] * 2  # 90% by always saying "pos" on a 90/10 set
    assert not check_labels(skewed, min_pass_rate=0.8).passed


def test_rate_checks_need_to_beat_the_baseline():
    rows = [R(None, True)] * 14 + [R(None, False)] * 6
    assert check_rate(rows, min_pass_rate=0.6, baseline=0.2).passed
    assert not check_rate(rows, min_pass_rate=0.6, baseline=0.6).passed  # 70% vs a 60% baseline: not shown
    assert not check_rate([], min_pass_rate=0.1, baseline=0.0).passed


class T:  # a tool-routing row's record: what it expected, whether the call passed (a pass picked the tool)
    def __init__(self, tool, passed, picked=None):
        self.inputs = {"expected_tool_calls": [] if tool is None else [{"name": tool}]}
        self.passed, self.error = passed, None
        picked = picked or (tool if passed else None)
        self.tool_calls = [{"name": picked}] if picked else []


def test_the_tools_gate_stops_a_router_that_never_calls_or_always_calls_one_tool():
    from workbench.course.gates import check_tools

    tools = ["get_weather", "convert_units", "web_search"]
    never = [T(t, False) for t in tools * 3] + [T(None, True)] * 3  # answers everything, calls nothing
    always = [T("get_weather", True)] * 3 + [T(t, False, "get_weather") for t in tools[1:] * 3]
    always += [T(None, False, "get_weather")] * 3
    good = [T(t, i != 0) for t in tools for i in range(5)] + [T(None, False)] * 5  # small talk: always calls a tool
    assert not check_tools(never, min_pass_rate=0.3, min_recall=0.3).passed
    report = check_tools(always, min_pass_rate=0.2, min_recall=0.3)
    failed = {c.name for c in report.checks if not c.passed}
    assert "picks 'convert_units'" in failed and "picks 'web_search'" in failed
    assert check_tools(good, min_pass_rate=0.5, min_recall=0.5).passed, "no recall check for rows expecting no call"
