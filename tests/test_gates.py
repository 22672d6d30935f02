"""Every gate a notebook, the demo or a test asserts fails a model that did not earn it: one that always gives
the same answer, and one that answers at random. (The real local model passing them is checked where they are
used: tests/test_local_model.py, tests/test_cli.py's demo test, the notebooks.)"""

from __future__ import annotations

import json
import random
import zlib

import pytest

from workbench.course.evidence import read_figures
from workbench.course.gates import (
    GATES,
    Check,
    GateFailed,
    GateReport,
    GateSpec,
    check,
    check_choice,
    check_labels,
    check_rate,
    require,
)
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


# -- each check's verdict and words, worked out by hand ---------------------------------------------------------------


def test_a_report_passes_only_with_checks_and_says_which_failed():
    assert not GateReport("empty").passed, "a gate that checked nothing did not pass"
    report = GateReport("g<1>", [Check("a", False, "x"), Check("b", True, "y"), Check("c", False, "z & w")], "fig")
    with pytest.raises(GateFailed) as error:
        report.require()
    assert str(error.value) == "Gate 'g<1>' failed — a: x; c: z & w"
    assert str(report) == "gate g<1>: FAILED\n  ✗ a: x\n  ✓ b: y\n  ✗ c: z & w\n  (fig)"
    assert report._repr_html_() == (
        "<b>gate g&lt;1&gt;: FAILED</b><table><tr><td>✗</td><td>a</td><td>x</td></tr><tr><td>✓</td><td>b</td>"
        "<td>y</td></tr><tr><td>✗</td><td>c</td><td>z &amp; w</td></tr></table>"
    )
    fine = GateReport("ok", [Check("b", True, "y")])
    assert fine.require() is fine and str(fine) == "gate ok: PASSED\n  ✓ b: y"
    assert fine._repr_html_().startswith("<b>gate ok: passed</b>")


def test_label_checks_by_hand():
    rows = [R(" POS", True)] * 5 + [R("pos", False)] + [R("neg", True)] * 3 + [R("neg", False)]
    rows += [R("neg", True, error="timeout")]  # an error: counted as one, never judged
    report = check_labels(rows, min_pass_rate=0.8, min_recall=0.75, name="mine")
    # 8 of 10 judged pass; the majority class is 6/10: P(X ≥ 8 | Binomial(10, 0.6)) = 0.1673
    assert report.checks == [
        Check("no errors", False, "1 errored cell(s)"),
        Check("absolute bar", True, "pass rate 8/10 = 80% (needs ≥ 80%)"),
        Check(
            "better than the baseline", False, "8/10 vs baseline 60%: one-sided exact binomial p = 0.167 (needs < 0.05)"
        ),
        Check("recall of 'neg'", True, "3/4 = 75% (needs ≥ 75%)"),
        Check("recall of 'pos'", True, "5/6 = 83% (needs ≥ 75%)"),
    ]
    assert report.name == "mine" and check_labels(rows, min_pass_rate=0.8).name == "labels"
    strict = check_labels(rows, min_pass_rate=0.81, min_recall=0.76, alpha=0.2)
    assert [c.passed for c in strict.checks] == [False, False, True, False, True]
    assert strict.checks[2].detail.endswith("p = 0.167 (needs < 0.2)")
    by_first_letter = check_labels(rows[:-1], min_pass_rate=0.5, label_of=lambda r: "x")
    assert [c.name for c in by_first_letter.checks][-2:] == ["recall of 'x'", "both classes present"]
    assert by_first_letter.checks[-1] == Check("both classes present", False, "only ['x']: a gate needs every class")
    assert check_labels([], min_pass_rate=0.5).checks == [
        Check("no errors", True, "0 errored cell(s)"),
        Check("absolute bar", False, "no judged rows"),
        Check("better than the baseline", False, "no judged rows"),
        Check("both classes present", False, "only []: a gate needs every class"),
    ]


def test_rate_and_choice_checks_by_hand():
    rows = [R(None, True)] * 14 + [R(None, False)] * 6 + [R(None, None)]  # a row without a verdict is not judged
    # 14 of 20 against 0.5: P(X ≥ 14 | Binomial(20, 1/2)) = 60460 / 2^20 = 0.0577
    assert check_rate(rows, min_pass_rate=0.7, baseline=0.5).checks == [
        Check("no errors", True, "0 errored cell(s)"),
        Check("absolute bar", True, "pass rate 14/20 = 70% (needs ≥ 70%)"),
        Check(
            "better than the baseline",
            False,
            "14/20 vs baseline 50%: one-sided exact binomial p = 0.0577 (needs < 0.05)",
        ),
    ]
    assert check_rate(rows, min_pass_rate=0.7, baseline=0.5, alpha=0.06).passed
    assert check_rate(rows, min_pass_rate=0.7, baseline=0.5).name == "rate"
    assert check_rate(rows, min_pass_rate=0.1, baseline=1.0).checks[2] == Check(
        "better than the baseline", False, "the baseline is already 100%"
    )

    class Two(R):  # a question with two options: chance is 1/2
        def __init__(self, expected, passed):
            super().__init__(expected, passed)
            self.inputs.update({"A": "a", "B": "b", "note": "n", "c": "lower case is not an option"})

    # four correct letters, each a quarter of the answers: the best constant answer is chance, 1/2
    exam = [Two(letter, True) for letter in "ABCD" * 3] + [Two(" b ", False)] * 2
    report = check_choice(exam, min_pass_rate=0.5, name="exam")
    assert report.name == "exam" and report.checks[2].detail.startswith("12/14 vs baseline 50%:")
    assert report.checks[1] == Check("absolute bar", True, "pass rate 12/14 = 86% (needs ≥ 50%)")
    skewed = [Q("B", True)] * 7 + [Q("A", False)] * 3  # B is 70% of the answers: more than chance (1/4)
    assert "7/10 vs baseline 70%" in check_choice(skewed, min_pass_rate=0.5).checks[2].detail
    no_options = [R("B", True)] * 3 + [R("A", True)]  # no option columns: the baseline is the letters' shares
    assert "4/4 vs baseline 75%" in check_choice(no_options, min_pass_rate=0.5).checks[2].detail
    assert check_choice([], min_pass_rate=0.5).checks[1:] == [
        Check("absolute bar", False, "no judged rows"),
        Check("better than the baseline", False, "no judged rows"),
    ]


class G(R):  # a record of a gated row
    def __init__(self, row_id, expected, passed):
        super().__init__(expected, passed)
        self.row_id = row_id


def _figure_rows(repo, figure_id, passed=True):
    figure = read_figures(repo)[figure_id]
    labels = {str(row["id"]): row.get("expected") for row in load_dataset(repo / figure.dataset).rows}
    return figure, [G(row_id, labels[row_id], passed) for row_id in figure.row_ids]


def test_a_named_gate_uses_the_bar_of_its_rows_and_says_what_it_rests_on(repo):
    figure, rows = _figure_rows(repo, "gate/cloze_en/sentiment_en/12")
    report = check("cloze_en", rows)
    assert report.evidence == f"the bar rests on {figure.describe()}"
    assert report.checks[1] == Check("absolute bar", True, "pass rate 12/12 = 100% (needs ≥ 60%)")
    assert [c.name for c in report.checks][3:] == ["recall of 'negative'", "recall of 'positive'"]
    assert require("cloze_en", type("Run", (), {"records": rows})()).passed, "a run's records work too"
    _, wrong = _figure_rows(repo, "gate/cloze_en/sentiment_en/12", passed=False)
    with pytest.raises(GateFailed, match="Gate 'cloze_en' failed — absolute bar: pass rate 0/12 = 0%"):
        require("cloze_en", wrong)
    figure, rows = _figure_rows(repo, "rag/answers/en/with_context")
    rated = check("rag_answers", rows, baseline=0.1)
    assert [c.name for c in rated.checks] == ["no errors", "absolute bar", "better than the baseline"]
    assert rated.checks[1].detail.endswith("(needs ≥ 15%)") and "vs baseline 10%" in rated.checks[2].detail
    _, exam = _figure_rows(repo, "local/exam_cloze@v1/exam_mc/logprob")
    assert check("exam_cloze", exam).checks[1].detail.endswith("(needs ≥ 30%)")


def test_a_named_gate_says_what_is_missing():
    with pytest.raises(ConfigError) as error:
        check("nope", [])
    assert (
        str(error.value)
        == "No gate named 'nope'. Known: cloze_en, cloze_zh, exam_cloze, lora_en, lora_zh, rag_answers, tools_en, "
        "tools_zh."
    )
    with pytest.raises(ConfigError) as error:
        check("rag_answers", [])
    assert str(error.value) == (
        "Gate 'rag_answers' compares with a baseline measured in the same run: pass baseline=<pass rate>, "
        "e.g. check_gate(name, answers, baseline=closed_book.pass_rate)."
    )


def test_a_spec_names_its_figures_and_refuses_rows_none_was_measured_on(repo):
    from workbench.course.gates import Bar

    figure = read_figures(repo)["gate/cloze_en/sentiment_en/12"]
    spec = GateSpec("p", (Bar(0.6, "gate/cloze_en/sentiment_en/12"), Bar(0.5, "no/such/figure")))
    assert (spec.kind, spec.min_recall) == ("labels", 0.5)
    assert spec.measured == (
        f"bar 60% on 12 rows of datasets/sentiment_en.csv: {figure.describe()}\n"
        "figure 'no/such/figure' is missing from benchmarks/results/ — run the benchmark that writes it"
    )
    with pytest.raises(ConfigError) as error:
        spec.bar_for([G("x1", "positive", True), G("x2", "positive", True)], "mine")
    assert str(error.value) == (
        "Gate 'mine' has no bar measured on these 2 rows — its bars rest on figures measured on: 12 rows of "
        "datasets/sentiment_en.csv (gate/cloze_en/sentiment_en/12). A bar only holds for the rows it was measured "
        "on: run the gate on one of those row sets, or measure a figure on yours (benchmarks/bench_local.py --gates) "
        "and add a bar."
    )
    missing = GateSpec("p", (Bar(0.5, "no/such/figure"),))
    with pytest.raises(ConfigError, match=r"^Gate 'p' has no bar measured on these 0 rows .* measured on: none\. "):
        missing.bar_for([])


def test_the_cloze_gates_bars_are_the_table_s_for_each_row_set():
    from workbench.course.gates import GATE_BARS, Bar, _cloze

    assert _cloze("en", (24, 100)) == (
        Bar(0.60, "gate/cloze_en/sentiment_en/12"),
        Bar(0.75, "gate/cloze_en/sentiment_en/24"),
        Bar(0.75, "gate/cloze_en/reviews_en_test/24"),
        Bar(0.85, "gate/cloze_en/reviews_en_test/100"),
    )
    assert _cloze("zh", ()) == (
        Bar(GATE_BARS["cloze_zh/sentiment_zh/12"], "gate/cloze_zh/sentiment_zh/12"),
        Bar(GATE_BARS["cloze_zh/sentiment_zh/24"], "gate/cloze_zh/sentiment_zh/24"),
    )
    assert GATES["cloze_zh"].bars == _cloze("zh", (24, 100))


def test_better_than_the_baseline_needs_p_strictly_below_alpha():
    rows = [R(None, True)] * 4  # 4 of 4 against 1/2: p = (1/2)⁴ = 1/16 exactly
    assert not check_rate(rows, min_pass_rate=0.5, baseline=0.5, alpha=1 / 16).checks[2].passed
    assert check_rate(rows, min_pass_rate=0.5, baseline=0.5, alpha=0.07).checks[2].passed


def test_choice_and_rate_checks_count_errors_and_name_themselves():
    exam = [Q("A", True), Q("B", False), R("C", None, error="timeout")]
    report = check_choice(exam, min_pass_rate=0.5)
    assert report.name == "choice" and report.checks[0] == Check("no errors", False, "1 errored cell(s)")
    assert [c.name for c in report.checks] == ["no errors", "absolute bar", "better than the baseline"]
    assert check_rate(exam, min_pass_rate=0.5, baseline=0.1).checks[0].detail == "1 errored cell(s)"
    # one question: its own letter is 100% of the answers (and the options are read from it, the only record)
    one = check_choice([Q("A", True)], min_pass_rate=0.5)
    assert one.checks[2] == Check("better than the baseline", False, "the baseline is already 100%")


def test_a_row_without_an_expected_label_is_its_own_class():
    class Bare:
        inputs, passed, error = {}, True, None

    report = check_labels([Bare(), R("pos", True)], min_pass_rate=0.5)
    assert [c.name for c in report.checks][3:] == ["recall of ''", "recall of 'pos'"]


def test_a_named_gate_names_itself_and_uses_its_own_recall_and_kind(repo, monkeypatch):
    from workbench.course.gates import Bar

    with pytest.raises(ConfigError, match=r"^Gate 'cloze_en' has no bar measured on these 1 rows"):
        check("cloze_en", [G("nowhere", "positive", True)])
    _, exam = _figure_rows(repo, "local/exam_cloze@v1/exam_mc/logprob")
    assert [c.name for c in check("exam_cloze", exam).checks] == [
        "no errors",
        "absolute bar",
        "better than the baseline",
    ]
    strict = GateSpec("sentiment_cloze_en", (Bar(0.5, "gate/cloze_en/sentiment_en/12"),), min_recall=0.95)
    monkeypatch.setitem(GATES, "strict", strict)
    _, rows = _figure_rows(repo, "gate/cloze_en/sentiment_en/12")
    rows[0].passed = False  # one miss: a class's recall falls below 95%
    recalls = [c for c in check("strict", rows).checks if c.name.startswith("recall")]
    assert [c.passed for c in recalls].count(False) == 1 and all("needs ≥ 95%" in c.detail for c in recalls)


def test_a_refusal_lists_every_row_set_the_bars_rest_on(repo):
    from workbench.course.gates import Bar

    spec = GateSpec("p", (Bar(0.6, "gate/cloze_en/sentiment_en/12"), Bar(0.7, "gate/cloze_en/sentiment_en/24")))
    with pytest.raises(ConfigError) as error:
        spec.bar_for([G("x1", "positive", True)])
    assert (
        "measured on: 12 rows of datasets/sentiment_en.csv (gate/cloze_en/sentiment_en/12); 24 rows of "
        "datasets/sentiment_en.csv (gate/cloze_en/sentiment_en/24). "
    ) in str(error.value)


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
