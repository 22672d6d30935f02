"""Judge calibration: κ against human labels on an OpenAI-compatible endpoint, versions compared, and a judge
scorer that refuses to give verdicts until it is calibrated."""

from __future__ import annotations

import json
import re

import pytest
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
    data = json.loads(ok.output)
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


# -- one row set, a trusted lower bound, an undefined κ (issue: numbers you can trust at the edges) ----------------
def _rows(repo):
    return [json.loads(line) for line in (repo / LABELS).read_text(encoding="utf-8").splitlines()]


def mumbling(prompt: str) -> str:
    """The careful judge, except that it answers nothing usable on the spider and Python questions."""
    return "hmm, hard to say" if "spider" in prompt or "Python" in prompt else careful(prompt)


def test_agreement_and_kappa_are_computed_on_the_same_rows(repo, tmp_path):
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

    with FakeOpenAIServer(responder=mumbling) as judge:
        calibration = calibrate_judge("judge_en", repo / LABELS, judge.spec(), store=str(tmp_path / "j.db"))
    assert 0 < calibration.unjudged < calibration.n == len(_rows(repo))
    table = calibration.table()
    assert sum(map(sum, table)) == calibration.n, "every labelled row is in the table κ is computed on"
    assert calibration.labels[-1] == "(no verdict)" and sum(row[-1] for row in table) == calibration.unjudged
    assert calibration.kappa == pytest.approx(sm_cohens_kappa(np.array(table)).kappa, abs=1e-4)
    assert calibration.agreement == pytest.approx(sum(table[i][i] for i in range(len(table))) / calibration.n)
    shown = str(calibration)
    assert f"{calibration.unjudged} without a verdict" in shown and "(no verdict)" in shown
    assert calibration.to_dict()["row_set"].startswith("every labelled row")


def test_a_judge_is_trusted_only_when_the_lower_end_of_kappa_clears_the_bar(repo, tmp_path):
    runner = CliRunner()
    with FakeOpenAIServer(responder=mumbling) as judge:
        common = ["judge", "calibrate", "judge_en", "--labels", str(repo / LABELS), "--store", str(tmp_path / "j.db")]
        first = runner.invoke(app, [*common, "-m", judge.spec(), "--format", "json"])
        data = json.loads(first.output)
        kappa, low = data["kappa"], data["ci95"][0]
        bar = round((kappa + low) / 2, 2)  # κ clears it, the lower end of its interval does not
        assert low < bar < kappa
        strict = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(bar)])
        as_json = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(bar), "--format", "json"])
        lenient = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(round(low - 0.01, 2))])
    assert strict.exit_code == 1, "a point estimate above the bar is not enough"
    assert "label more rows" in strict.output and "labelled rows would" in strict.output
    report = json.loads(as_json.output)
    assert report["trusted"] is False and report["rows_needed"] > report["n"] and as_json.exit_code == 1
    assert lenient.exit_code == 0 and json.loads(first.output)["unjudged"] == 2


def test_a_judge_with_one_answer_has_no_kappa_and_is_never_trusted(repo, tmp_path):
    runner = CliRunner()
    with FakeOpenAIServer(responder=lambda p: "PASS") as lazy:
        calibration = calibrate_judge("judge_en", repo / LABELS, lazy.spec(), store=str(tmp_path / "j.db"))
        common = ["judge", "calibrate", "judge_en", "--labels", str(repo / LABELS), "--store", str(tmp_path / "j.db")]
        shown = runner.invoke(app, [*common, "-m", lazy.spec(), "--min-kappa", "-1"])
    assert calibration.kappa is None and calibration.ci95 is None and not calibration.trusted(-1.0)
    assert "answered 'pass' on every row" in calibration.undefined
    assert "0.00–0.00" not in shown.output and "κ undefined" in shown.output and shown.exit_code == 1
