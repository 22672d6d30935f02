"""Judge calibration: κ against human labels on an OpenAI-compatible endpoint, versions compared, and a judge
scorer that refuses to give verdicts until it is calibrated."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ConfigError
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


def test_limit_calibrates_every_judge_on_the_same_first_rows(repo, tmp_path):
    runner = CliRunner()
    with FakeOpenAIServer(responder=careful) as good, FakeOpenAIServer(responder=lambda p: "PASS") as lazy:
        common = ["judge", "calibrate", "judge_en", "--labels", str(repo / LABELS), "--store", str(tmp_path / "j.db")]
        both = [*common, "-m", good.spec(), "--against", "judge_en@v1", "--format", "json"]
        limited = runner.invoke(app, [*both, "--limit", "12"])
        shown = runner.invoke(app, [*common, "-m", lazy.spec(), "--limit", "12"])
        refused = runner.invoke(app, [*common, "-m", lazy.spec(), "--limit", "0"])
        assert len(lazy.requests) == 12, "the refused --limit 0 called nothing"
    data = json.loads(limited.stdout)
    assert data["n"] == 12 and sum(sum(row.values()) for row in data["confusion"].values()) == 12
    assert data["comparison"]["rows"] == 12 and data["row_set"].startswith("the first 12 labelled rows")
    assert "12 labelled rows" in shown.output and "Row set: the first 12 labelled rows" in shown.output
    assert refused.exit_code == 2 and "--limit" in refused.output


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
        data = json.loads(first.stdout)
        kappa, low = data["kappa"], data["ci95"][0]
        bar = round((kappa + low) / 2, 2)  # κ clears it, the lower end of its interval does not
        assert low < bar < kappa
        strict = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(bar)])
        as_json = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(bar), "--format", "json"])
        lenient = runner.invoke(app, [*common, "-m", judge.spec(), "--min-kappa", str(round(low - 0.01, 2))])
    assert strict.exit_code == 1, "a point estimate above the bar is not enough"
    assert "label more rows" in strict.output and "labelled rows would" in strict.output
    report = json.loads(as_json.stdout)
    assert report["trusted"] is False and report["rows_needed"] > report["n"] and as_json.exit_code == 1
    assert lenient.exit_code == 0 and json.loads(first.stdout)["unjudged"] == 2


def test_a_judge_with_one_answer_has_no_kappa_and_is_never_trusted(repo, tmp_path):
    runner = CliRunner()
    with FakeOpenAIServer(responder=lambda p: "PASS") as lazy:
        calibration = calibrate_judge("judge_en", repo / LABELS, lazy.spec(), store=str(tmp_path / "j.db"))
        common = ["judge", "calibrate", "judge_en", "--labels", str(repo / LABELS), "--store", str(tmp_path / "j.db")]
        shown = runner.invoke(app, [*common, "-m", lazy.spec(), "--min-kappa", "-1"])
    assert calibration.kappa is None and calibration.ci95 is None and not calibration.trusted(-1.0)
    assert "answered 'pass' on every row" in calibration.undefined
    assert "0.00–0.00" not in shown.output and "κ undefined" in shown.output and shown.exit_code == 1


# -- a calibration's figures on hand-built records (the judge's model is not what is tested here) ---------------------
def _judged(row, human, parsed, *, error=None, repeat=0):
    from workbench.store import ResultRecord

    return ResultRecord(
        run_id="cal",
        cell_key=f"{row}-{repeat}",
        prompt="j",
        version=1,
        model="m",
        row_index=int(row[1:]),
        row_id=row,
        repeat=repeat,
        inputs={"answer": f"answer {row}", "expected": human, "id": row, "question": f"question {row}"},
        rendered=row,
        output=f"said {parsed}",
        parsed=parsed,
        error=error,
    )


class _Template:
    ref = "j@v1"
    parser = None
    inputs = {"question": "", "answer": ""}  # the order the judge declares them: the disagreements show them so


def _hand_calibration():
    """r0–r2 agree; r3 the judge says pass where people said fail; r4 it said nothing usable; r5 it failed."""
    from workbench.judge import calibration_from

    records = [
        _judged("r0", "pass", "PASS "),  # compared case- and space-insensitively
        _judged("r1", " Pass", "pass"),
        _judged("r2", "fail", "fail"),
        _judged("r3", "fail", "pass"),
        _judged("r4", "Fail", None),
        _judged("r5", "pass", "pass", error="boom"),
        _judged("r0", "pass", "fail", repeat=1),  # a repeat: not part of the calibration
    ]
    return calibration_from(records, _Template(), "expected", "cal")


def test_a_calibration_counts_every_labelled_row_once_by_hand():
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

    calibration = _hand_calibration()
    table = [[1, 1, 1], [0, 2, 1], [0, 0, 0]]  # people (fail, pass, -) × judge (fail, pass, no verdict)
    wanted = sm_cohens_kappa(np.array(table))
    z = 1.959963984540054
    low, high = max(-1.0, wanted.kappa - z * wanted.std_kappa), min(1.0, wanted.kappa + z * wanted.std_kappa)

    def disagreement(row, human, judge, output):
        return {
            "row_id": row,
            "human": human,
            "judge": judge,
            "question": f"question {row}",
            "answer": f"answer {row}",
            "judge_output": output,
        }

    assert calibration.table() == table and calibration.judge_answers() == ["fail", "pass"]
    assert calibration.to_dict() == {
        "judge": "j@v1",
        "model": "m",
        "run_id": "cal",
        "n": 6,
        "agreement": 0.5,
        "kappa": round(wanted.kappa, 4),
        "labels": ["fail", "pass", "(no verdict)"],
        "confusion": {"fail": {"fail": 1, "pass": 1, "(no verdict)": 1}, "pass": {"pass": 2, "(no verdict)": 1}},
        "disagreements": [
            disagreement("r3", "fail", "pass", "said pass"),
            disagreement("r4", "fail", "(no verdict)", "said None"),
            disagreement("r5", "pass", "(no verdict)", "ERROR: boom"),
        ],
        "unjudged": 2,
        "row_set": "every labelled row; a row the judge gave no verdict on counts as its answer '(no verdict)'",
        "kappa_undefined": None,
        "se": round(wanted.std_kappa, 6),
        "ci95": [round(low, 4), round(high, 4)],
    }
    assert calibration.per_row == {"r0": True, "r1": True, "r2": True, "r3": False, "r4": False, "r5": False}
    assert list(calibration.disagreements_frame()["row_id"]) == ["r3", "r4", "r5"]
    assert list(calibration.disagreements[0])[:5] == ["row_id", "human", "judge", "question", "answer"]
    kappa = f"{round(wanted.kappa, 2) + 0.0:.2f}"
    assert str(calibration) == (
        "judge j@v1 on m: 6 labelled rows, 2 without a verdict (counted as the judge's answer (no verdict)), "
        f"agreement 50%, Cohen's κ {kappa} [95% CI {round(low, 2):.2f}–{round(high, 2):.2f}], 3 disagreement(s)"
    )


def test_a_judges_parser_decides_how_labels_are_read():
    from workbench.judge import calibration_from

    class Parser:
        @staticmethod
        def normalize_label(value):
            return {"1": "pass", "0": "fail"}.get(str(value), value)

    class Template(_Template):
        parser = Parser()

    records = [_judged("r0", "1", "pass"), _judged("r1", "0", "fail"), _judged("r2", "0", "pass")]
    calibration = calibration_from(records, Template(), "expected", "cal")
    assert calibration.labels == ["fail", "pass"] and calibration.agreement == round(2 / 3, 4)
    assert calibration.unjudged == 0 and "without a verdict" not in str(calibration)


@pytest.mark.parametrize(
    ("answers", "people", "why"),
    [
        ([None, None], ["pass", "fail"], "the judge gave no verdict on any row"),
        (
            ["pass", "PASS", None],
            ["pass", "fail", "fail"],
            "the judge answered 'pass' on every row it judged: it does not tell the labels apart — try a larger "
            "model or a clearer judge prompt",
        ),
        (
            ["pass", "fail"],
            ["pass", "pass"],
            "the people's labels are all 'pass': κ cannot tell agreement from chance; label rows of every class",
        ),
    ],
)
def test_kappa_is_undefined_when_either_side_used_one_label(answers, people, why):
    from workbench.judge import calibration_from

    records = [_judged(f"r{i}", h, a) for i, (a, h) in enumerate(zip(answers, people, strict=True))]
    calibration = calibration_from(records, _Template(), "expected", "cal")
    assert (calibration.undefined, calibration.kappa, calibration.se, calibration.ci95) == (why, None, None, None)
    assert calibration.to_dict()["kappa_undefined"] == why and calibration.to_dict()["ci95"] is None
    assert calibration.verdict() == f"κ is undefined ({why}): do not trust this judge"
    assert f"Cohen's κ undefined ({why}), " in str(calibration) and not calibration.trusted(-1.0)


def test_no_labelled_rows_is_an_error_naming_the_judge():
    from workbench.errors import DatasetError
    from workbench.judge import calibration_from

    with pytest.raises(DatasetError, match="No labelled rows to calibrate j@v1 on."):
        calibration_from([_judged("r0", "pass", "pass", repeat=1)], _Template(), "expected", "cal")


def _made(kappa, se, low, high=0.99, n=50):
    from workbench.judge import Calibration

    return Calibration("j@v1", "m", "cal", n, 0.9, kappa, (low, high), ["fail", "pass"], {}, se=se)


def test_trust_rows_needed_and_the_verdict_in_words_by_hand():
    # κ 0.8 with se 0.1 on 50 rows: reaching a lower end of 0.7 needs 50 · (1.96 · 0.1 / 0.1)² = 192.07 → 193 rows
    short = _made(0.8, 0.1, 0.604)
    assert short.trusted(0.6) and not short.trusted(0.61) and _made(0.8, 0.1, 0.6).trusted(0.6)
    assert short.rows_needed(0.7) == 193
    assert short.rows_needed(0.7, confidence=0.99) == 332  # 50 · (2.5758 · 0.1 / 0.1)² = 331.7 → 332
    assert _made(0.9, 0.01, 0.88).rows_needed(0.6) == 50, "never fewer rows than were labelled"
    assert short.rows_needed(0.8) is None and short.rows_needed(0.9) is None, "κ at or below the bar: no count helps"
    assert _made(0.8, None, 0.604).rows_needed(0.7) is None and _made(None, 0.1, 0.6).rows_needed(0.7) is None
    assert short.verdict(0.6) == "κ 0.80, 95% CI from 0.60: trustworthy at κ ≥ 0.6"
    assert short.verdict(0.7) == (
        "κ 0.80 ≥ 0.7, but its 95% interval reaches down to 0.60: not trusted yet — label more rows "
        "(about 193 labelled rows would, if κ stays 0.80)"
    )
    assert short.verdict() == "κ 0.80, 95% CI from 0.60: trustworthy at κ ≥ 0.6"
    assert _made(0.8, None, 0.5).verdict(0.7).endswith("reaches down to 0.50: not trusted yet — label more rows")
    assert _made(0.5, 0.1, 0.3).verdict() == "κ 0.50 ≤ 0.6: do not trust this judge; review the disagreements"
    assert _made(0.6, 0.1, 0.4).verdict(0.6).startswith("κ 0.60 ≤ 0.6: do not trust")
    assert _made(0.3, 0.2, -0.004).verdict(0.2).startswith("κ 0.30 ≥ 0.2, but its 95% interval reaches down to 0.00:")
    assert "Cohen's κ 0.00 [95% CI -0.30–0.29]" in str(_made(-0.001, 0.15, -0.3, 0.29))
    assert "agreement n/a" in str(dataclasses.replace(_made(0.5, 0.1, 0.3), agreement=None))


def test_two_judges_are_compared_on_the_rows_both_were_calibrated_on():
    a, b = _made(0.5, 0.1, 0.3), _made(0.7, 0.1, 0.5)
    a.per_row = {f"r{i}": i >= 7 for i in range(10)} | {"only_a": True}
    b.per_row = {f"r{i}": True for i in range(10)} | {"only_b": False}
    b.judge = "j@v2"
    assert compare_calibrations(a, b) == {
        "a": "j@v1",
        "b": "j@v2",
        "rows": 10,
        "a_only": 0,
        "b_only": 7,
        "p_value": round(2 / 128, 6),  # 7 discordant pairs, all one way: 2 · (1/2)⁷
        "verdict": "better",
        "kappa_a": 0.5,
        "kappa_b": 0.7,
    }
    b.per_row = {"other": True}
    with pytest.raises(ConfigError, match=r"j@v1 and j@v2 were calibrated on different rows; use the same labels file"):
        compare_calibrations(a, b)


def test_the_default_bar_is_kappa_0_6():
    assert _made(0.8, 0.1, 0.6).trusted() and not _made(0.8, 0.1, 0.59).trusted()
    # κ 0.8, se 0.1 on 50 rows against 0.6: 50 · (1.96 · 0.1 / 0.2)² = 48.0 → never fewer than the 50 labelled
    assert _made(0.8, 0.1, 0.59).rows_needed() == 50 and _made(0.8, 0.2, 0.4).rows_needed() == 193


def test_a_kappa_without_an_interval_is_never_trusted_and_says_so():
    from workbench.judge import Calibration

    bare = Calibration("j@v1", "m", "cal", 50, 0.9, 0.8, None, ["fail", "pass"], {})
    assert not bare.trusted(0.7)
    assert bare.verdict(0.7) == (
        "κ 0.80 ≥ 0.7, but its 95% interval reaches down to 0.80: not trusted yet — label more rows"
    )
    assert str(bare) == "judge j@v1 on m: 50 labelled rows, agreement 90%, Cohen's κ 0.80, 0 disagreement(s)"


def test_a_comparison_of_judges_counts_both_ways():
    a, b = _made(0.5, 0.1, 0.3), _made(0.7, 0.1, 0.5)
    a.per_row = {f"r{i}": i == 0 for i in range(9)}  # A alone right on r0
    b.per_row = {f"r{i}": i > 1 for i in range(9)}  # B alone right on r2 … r8
    compared = compare_calibrations(a, b)
    # 1 against 7: p = 2 · P(X ≤ 1 | Binomial(8, 1/2)) = 18/256 = 0.0703125
    assert (compared["a_only"], compared["b_only"], compared["rows"]) == (1, 7, 9)
    assert compared["p_value"] == round(18 / 256, 6) and compared["verdict"] == "no significant difference"


def test_calibrating_names_the_judge_when_the_labels_lack_their_column(tmp_path):
    from workbench.errors import DatasetError
    from workbench.testing.models import MockModel

    judge = MockModel(default="PASS")
    with pytest.raises(
        DatasetError, match=r"no column 'verdict', which calibrating judge_en@v\d+ \(the human labels\)"
    ):
        calibrate_judge("judge_en", [{"question": "q", "answer": "a", "reference": "r"}], judge, label_column="verdict")
    assert judge.calls == 0, "refused before any model call"


def test_the_latest_calibration_is_of_that_judge_on_that_model(repo, tmp_path):
    from workbench.judge import latest_calibration
    from workbench.store import Store
    from workbench.testing.models import MockModel

    store = Store(str(tmp_path / "j.db"))
    rows = _rows(repo)[:6]
    first = calibrate_judge("judge_en", rows, MockModel("mock:yes", default="PASS"), store=store)
    second = calibrate_judge("judge_en", rows, MockModel("mock:no", default="FAIL"), store=store)
    assert first.run_id != second.run_id and store.run(first.run_id)["id"] == first.run_id
    again = latest_calibration(store, first.judge, "mock:yes")
    assert (again.run_id, again.model, again.to_dict()) == (first.run_id, "mock:yes", first.to_dict())
    assert latest_calibration(store, first.judge, "mock:no").run_id == second.run_id
    assert latest_calibration(store, first.judge, "mock:other") is None
    store.close()


def test_kappa_is_rounded_to_four_places_and_one_row_is_enough_to_report():
    from workbench.judge import calibration_from

    pairs = [("pass", "pass")] * 3 + [("fail", "fail")] * 2 + [("fail", "pass"), ("pass", "fail")]
    records = [_judged(f"r{i}", human, judge) for i, (human, judge) in enumerate(pairs)]
    # table [[2, 1], [1, 3]]: observed 5/7, chance (3/7)² + (4/7)² = 25/49, κ = (10/49) / (24/49) = 0.41666…
    assert calibration_from(records, _Template(), "expected", "cal").kappa == 0.4167
    (alone,) = [_judged("r0", "pass", "pass")]
    one = calibration_from([alone], _Template(), "expected", "cal")
    assert (one.n, one.model, one.agreement, one.kappa) == (1, "m", 1.0, None)


def test_a_plain_run_of_a_judge_prompt_is_not_a_calibration(repo, tmp_path):
    from workbench.judge import latest_calibration
    from workbench.pipeline import run
    from workbench.prompts import load_prompt
    from workbench.store import Store
    from workbench.testing.models import MockModel

    store = Store(str(tmp_path / "j.db"))
    template = load_prompt("judge_en")
    run(template.with_changes(assertions=()), _rows(repo)[:3], [MockModel("mock:yes", default="PASS")], store=store)
    assert latest_calibration(store, str(template.ref), "mock:yes") is None
    store.close()


def test_a_calibration_is_silent_and_found_behind_many_newer_runs(repo, tmp_path, capsys):
    from workbench.judge import latest_calibration
    from workbench.store import Store
    from workbench.testing.models import MockModel

    store = Store(str(tmp_path / "j.db"))
    calibration = calibrate_judge("judge_en", _rows(repo)[:3], MockModel("mock:yes", default="PASS"), store=store)
    assert capsys.readouterr().err == "", "a calibration draws no progress bar"
    common = {"config": {}, "config_hash": "h", "dataset": None, "dataset_hash": "d", "n_cells": 0}
    for _ in range(60):  # newer plain runs of the judge prompt on the same model
        store.create_run(prompts=[calibration.judge], models=["mock:yes"], **common)
    for _ in range(200):  # and of other prompts on the same model
        store.create_run(prompts=["other@v1"], models=["mock:yes"], **common)
    assert latest_calibration(store, calibration.judge, "mock:yes").run_id == calibration.run_id
    store.close()
