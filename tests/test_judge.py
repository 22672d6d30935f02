"""Judge calibration: κ against human labels on an OpenAI-compatible endpoint, versions compared, and a judge
scorer that refuses to give verdicts until it is calibrated."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from workbench.cli import app
from workbench.judge import calibrate_judge, compare_calibrations
from workbench.testing.fake_openai import FakeOpenAIServer

LABELS = "datasets/judge_en.jsonl"


def careful(prompt: str) -> str:
    """A judge that checks the reference words appear in the answer (agrees with people on most rows)."""
    reference = re.search(r"Reference answer: (.*)", prompt).group(1).strip().lower()
    answer = re.search(r"Answer to grade: (.*)", prompt).group(1).strip().lower()
    return "PASS - matches" if reference and reference.split()[0] in answer else "FAIL - differs"


def test_a_careful_judge_agrees_with_people_and_a_constant_one_does_not(repo, store):
    labels = repo / LABELS
    with FakeOpenAIServer(responder=careful) as good, FakeOpenAIServer(responder=lambda p: "PASS") as lazy:
        calibrated = calibrate_judge("judge_en", labels, good.spec(), store=store)
        constant = calibrate_judge("judge_en", labels, lazy.spec(), store=store)
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    assert calibrated.n == len(rows) and calibrated.kappa is not None and calibrated.kappa > 0.5
    assert calibrated.ci95[0] <= calibrated.kappa <= calibrated.ci95[1]
    assert sum(sum(v.values()) for v in calibrated.confusion.values()) == len(rows)
    assert constant.kappa in (None, 0.0) and "do not trust" in constant.verdict()
    assert constant.judge_answers() == ["pass"] and "answered 'pass' on every row" in constant.verdict()
    assert "-0.00" not in str(constant) and calibrated.judge_answers() == ["fail", "pass"]
    assert len(constant.disagreements) == sum(1 for r in rows if r["expected"] == "fail")
    comparison = compare_calibrations(constant, calibrated)
    assert comparison["rows"] == len(rows) and comparison["b_only"] > comparison["a_only"]


def test_the_cli_reports_kappa_and_exits_1_for_an_untrustworthy_judge(repo, tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "j.db")
    with FakeOpenAIServer(responder=careful) as good, FakeOpenAIServer(responder=lambda p: "PASS") as lazy:
        common = ["judge", "calibrate", "judge_en", "--labels", str(repo / LABELS), "--store", store]
        ok = runner.invoke(app, [*common, "-m", good.spec(), "--format", "json"])
        bad = runner.invoke(app, [*common, "-m", lazy.spec()])
    data = json.loads(ok.stdout)  # the JSON is stdout; a note such as "Created a new store" goes to stderr
    assert ok.exit_code == 0 and data["kappa"] > 0.5 and set(data) >= {"agreement", "kappa", "ci95", "confusion"}
    assert bad.exit_code == 1 and "do not trust this judge" in bad.output and "Disagreements to review" in bad.output


def test_a_judge_scorer_with_min_kappa_gives_no_verdicts_until_calibrated(repo, store):
    from workbench.pipeline import run
    from workbench.prompts import PromptTemplate
    from workbench.testing.models import MockModel

    template = PromptTemplate.from_string("---\nname: qa\n---\nQ: {{ question }}")
    rows = [{"question": "What is the capital of Australia?", "expected": "Canberra"}]
    with FakeOpenAIServer(responder=careful) as judge_server:
        scorer = {"type": "llm_judge", "model": judge_server.spec(), "min_kappa": 0.6}
        before = run(template, rows, [MockModel(default="Canberra")], store=store, progress=False, scorers=[scorer])
        assert before.records[0].passed is None and "needs a calibration" in before.records[0].error
        calibrate_judge("judge_en", repo / LABELS, judge_server.spec(), store=store)
        answer = MockModel(default="It is Canberra.")
        after = run(template, rows, [answer], store=store, progress=False, scorers=[scorer])
    assert after.records[0].error is None and after.records[0].passed is True
