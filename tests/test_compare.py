"""The comparison and the sampling view on hand-built records, each figure worked out by hand (the statistics
themselves are tested against scipy/statsmodels in tests/test_stats.py)."""

from __future__ import annotations

import pytest

from workbench.compare import (
    STABILITY_COLUMNS,
    compare_runs,
    format_interval,
    matrix,
    pick_column,
    rate_with_interval,
    stability,
    stability_report,
)
from workbench.errors import ConfigError, WorkbenchError
from workbench.identity import Column
from workbench.stats import mcnemar_exact
from workbench.store import ResultRecord


def record(row: str, passed: bool | None, *, prompt: str = "p", version: int = 1, repeat: int = 0, parsed=None):
    return ResultRecord(
        run_id="run",
        cell_key=f"{prompt}{version}-{row}-{repeat}",
        prompt=prompt,
        version=version,
        model="m",
        row_index=int(row[1:]),
        row_id=row,
        repeat=repeat,
        inputs={"text": row},
        rendered=row,
        output=str(parsed),
        parsed=parsed if parsed is not None else ("yes" if passed else "no"),
        passed=passed,
    )


def sampled(row: str, verdicts: list[bool], answers: list[str] | None = None) -> list[ResultRecord]:
    answers = answers or ["yes" if v else "no" for v in verdicts]
    return [record(row, v, repeat=i, parsed=a) for i, (v, a) in enumerate(zip(verdicts, answers, strict=True))]


def test_stability_by_hand():
    """Three rows × three samples: r0 always passes, r1 passes once, r2 never; r1 is the only flaky row."""
    records = sampled("r0", [True] * 3) + sampled("r1", [True, False, False]) + sampled("r2", [False] * 3)
    (entry,) = stability_report(records)["columns"]
    assert (entry["k"], entry["rows"]) == (3, 3)
    assert entry["pass_rate"] == round(4 / 9, 4)
    assert entry["pass_at_k"] == round(2 / 3, 4), "rows with at least one passing sample"
    assert entry["pass_all_k"] == round(1 / 3, 4), "rows whose every sample passes"
    assert entry["flaky"] == ["r1"]
    assert entry["agreement"] == round((1 + 2 / 3 + 1) / 3, 4), "share of the most common answer, per row"


def test_stability_majority_vote_scores_each_rows_most_common_answer():
    records = sampled("r0", [True, True, False]) + sampled("r1", [True, False, False])
    (entry,) = stability_report(records, aggregate="majority")["columns"]
    assert (entry["majority"]["passed"], entry["majority"]["n"]) == (1, 2)
    frame = stability(records, aggregate="majority")
    assert list(frame.columns[-1:]) == ["majority"] and frame["majority"][0] == 0.5


def test_stability_of_a_greedy_run_is_one_sample_per_row():
    records = [record(f"r{i}", i % 2 == 0) for i in range(4)]
    (entry,) = stability_report(records)["columns"]
    assert entry["k"] == 1 and entry["flaky"] == [] and entry["agreement"] == 1.0
    assert entry["pass_rate"] == entry["pass_at_k"] == entry["pass_all_k"] == 0.5


def test_a_comparison_pairs_rows_and_counts_the_discordant_ones():
    """B fixes 6 rows A failed and breaks none: exact McNemar p = 2 × 0.5⁶ = 0.03125 → better."""
    a = [record(f"r{i}", i >= 6) for i in range(10)]
    b = [record(f"r{i}", True, version=2) for i in range(10)]
    comparison = compare_runs(a, b)
    assert (comparison.b_only, comparison.a_only) == (6, 0)
    assert comparison.p_value == pytest.approx(mcnemar_exact(6, 0)) == pytest.approx(0.03125)
    assert comparison.verdict == "better"
    assert compare_runs(b, a).verdict == "worse"


def test_five_flips_are_not_enough_and_ties_do_not_count():
    a = [record(f"r{i}", i >= 5) for i in range(10)]
    b = [record(f"r{i}", True, version=2) for i in range(10)]
    assert compare_runs(a, b).verdict == "no significant difference"  # p = 0.0625
    same = compare_runs(b, [record(f"r{i}", True, version=3) for i in range(10)])
    assert (same.a_only, same.b_only, same.verdict) == (0, 0, "no significant difference")


def test_only_shared_rows_are_paired():
    a = [record(f"r{i}", False) for i in range(6)] + [record("r9", False)]
    b = [record(f"r{i}", True, version=2) for i in range(6)] + [record("r8", True, version=2)]
    comparison = compare_runs(a, b)
    assert comparison.pairs == 6 and comparison.b_only == 6
    with pytest.raises(WorkbenchError, match="share no rows"):
        compare_runs([record("x1", True)], [record("y1", True, version=2)])


def test_one_verdict_rule_serves_compare_trend_and_judge_comparisons():
    """The McNemar verdict is decided in one place, :func:`workbench.stats.paired_verdict`: the comparison of two
    columns, the trend between versions and the comparison of two judges call it and never test p themselves."""
    import ast
    import inspect

    import workbench.compare
    import workbench.judge
    import workbench.trend

    for module in (workbench.compare, workbench.trend, workbench.judge):
        tree = ast.parse(inspect.getsource(module))
        called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and hasattr(node.func, "id")}
        assert "paired_verdict" in called, f"{module.__name__} decides a verdict without paired_verdict"
        assert "mcnemar_exact" not in called, f"{module.__name__} tests a p-value itself"


@pytest.mark.parametrize(("a_only", "b_only"), [(0, 6), (6, 0), (2, 9), (3, 3), (0, 5), (11, 2)])
def test_the_three_comparisons_agree_with_the_one_rule(a_only, b_only):
    from workbench.judge import Calibration, compare_calibrations
    from workbench.stats import paired_verdict

    rows = [f"r{i}" for i in range(a_only + b_only + 4)]
    a_pass = {r: i < a_only or i >= a_only + b_only for i, r in enumerate(rows)}
    b_pass = {r: a_only <= i for i, r in enumerate(rows)}
    records = [record(r, a_pass[r]) for r in rows] + [record(r, b_pass[r], version=2) for r in rows]
    compared = compare_runs(records, a="v1", b="v2")
    judges = [Calibration("j@v1", "m", "x", len(rows), None, None, None, [], {}, per_row=a_pass)]
    judges.append(Calibration("j@v2", "m", "y", len(rows), None, None, None, [], {}, per_row=b_pass))
    judged = compare_calibrations(*judges)
    p_value, verdict = paired_verdict(a_only, b_only)
    assert (compared.a_only, compared.b_only) == (a_only, b_only) == (judged["a_only"], judged["b_only"])
    assert compared.verdict == judged["verdict"] == verdict
    assert compared.p_value == pytest.approx(p_value, rel=1e-5) and judged["p_value"] == pytest.approx(
        p_value, abs=1e-6
    )


# -- the matrix, the comparison's report and column picking: every figure worked out by hand --------------------------
def cell(row, passed, *, version=1, prompt="p", model="m", repeat=0, parsed=None, output=None, error=None):
    """A record with its output and error spelled out (``record`` above derives them)."""
    return ResultRecord(
        run_id="run",
        cell_key=f"{prompt}{version}{model}-{row}-{repeat}",
        prompt=prompt,
        version=version,
        model=model,
        row_index=int(row[1:]),
        row_id=row,
        repeat=repeat,
        inputs={"text": f"text of {row}"},
        rendered=row,
        output=output if output is not None else f"out {row}/{version}/{repeat}",
        parsed=parsed,
        passed=passed,
        error=error,
    )


def _wilson(passed: int, n: int) -> list[float]:
    from statsmodels.stats.proportion import proportion_confint

    return [round(x, 4) for x in proportion_confint(passed, n, alpha=0.05, method="wilson")]


def _plain(frame) -> list[dict]:
    """The frame's lines as dicts, with pandas' NaN for a missing value read back as None."""
    return [
        {k: None if isinstance(v, float) and v != v else v for k, v in line.items()}
        for line in frame.to_dict("records")
    ]


def test_the_matrix_of_one_sample_per_row_puts_flipped_rows_first():
    records = [
        cell("r0", True, parsed="yes"),
        cell("r0", True, version=2, parsed="yes"),
        cell("r1", False, parsed="no"),
        cell("r1", True, version=2, parsed="yes"),  # fixed by v2: flipped
        cell("r2", None, error="timeout"),  # an error is shown, and carries no verdict
        cell("r2", False, version=2, parsed="no"),
        cell("r3", True, parsed="yes"),  # v2 never ran r3
    ]
    got = _plain(matrix(records))

    def line(row, out1, parsed1, passed1, out2, parsed2, passed2, flipped):
        return {
            "row_id": row,
            "text": f"text of {row}",
            "p@v1/m|output": out1,
            "p@v1/m|parsed": parsed1,
            "p@v1/m|passed": passed1,
            "p@v2/m|output": out2,
            "p@v2/m|parsed": parsed2,
            "p@v2/m|passed": passed2,
            "flipped": flipped,
        }

    assert got == [
        line("r1", "out r1/1/0", "no", False, "out r1/2/0", "yes", True, True),
        line("r0", "out r0/1/0", "yes", True, "out r0/2/0", "yes", True, False),
        line("r2", "ERROR: timeout", None, None, "out r2/2/0", "no", False, False),
        line("r3", "out r3/1/0", "yes", True, None, None, None, False),
    ]
    assert matrix([]).empty


def test_the_matrix_with_repeats_shows_passes_flakiness_and_agreement():
    def three(row, version, verdicts, answers):
        return [
            cell(row, v, version=version, repeat=i, parsed=a)
            for i, (v, a) in enumerate(zip(verdicts, answers, strict=True))
        ]

    records = (
        three("r0", 1, [True, False, True], ["yes", "no", "yes"])
        + three("r0", 2, [False, False, False], ["no", "no", "maybe"])
        + three("r1", 1, [True, True, True], ["yes", "yes", "yes"])
    )
    got = _plain(matrix(records))
    assert got[0] == {
        "row_id": "r0",
        "text": "text of r0",
        "p@v1/m|output": "out r0/1/0",  # the first sample's output
        "p@v1/m|parsed": "yes",  # the most common answer (2 of 3)
        "p@v1/m|passed": True,  # the majority of the samples
        "p@v1/m|passes": "2/3",
        "p@v1/m|flaky": True,
        "p@v1/m|agreement": round(2 / 3, 4),
        "p@v2/m|output": "out r0/2/0",
        "p@v2/m|parsed": "no",
        "p@v2/m|passed": False,
        "p@v2/m|passes": "0/3",
        "p@v2/m|flaky": False,
        "p@v2/m|agreement": round(2 / 3, 4),
        "flipped": True,
    }
    assert got[1]["p@v1/m|passes"] == "3/3" and got[1]["p@v1/m|flaky"] is False
    assert got[1]["p@v1/m|agreement"] == 1.0 and got[1]["flipped"] is False
    assert got[1]["p@v2/m|passes"] == "0/0" and got[1]["p@v2/m|agreement"] is None
    assert got[1]["p@v2/m|output"] is None and got[1]["p@v2/m|passed"] is None


def test_a_rows_verdict_is_the_majority_of_its_judged_samples_and_a_tie_fails():
    def two_sided(a_samples, version=2):
        return [cell("r0", v, repeat=i, error=e) for i, (v, e) in enumerate(a_samples)] + [
            cell("r0", True, version=version)
        ]

    # a tie (1 of 2) fails; an errored sample does not count even when it says passed
    assert compare_runs(two_sided([(True, None), (False, None)])).a_only == 0
    assert compare_runs(two_sided([(True, None), (False, None)])).b_only == 1
    assert compare_runs(two_sided([(True, None), (True, "boom"), (False, None)])).b_only == 1
    assert compare_runs(two_sided([(True, None), (True, None), (False, None)])).both_pass == 1
    # nothing judged (an error, a verdict of None): the row is excluded from the pairs
    excluded = compare_runs(two_sided([(True, "boom"), (None, None)]))
    assert (excluded.pairs, excluded.excluded) == (0, 1)


def _hand_comparison():
    """12 shared rows: both pass r0–r1, only A r2–r3, only B r4–r9, both fail r10, r11 unjudged on A."""
    a = [cell(f"r{i}", i < 4) for i in range(11)] + [cell("r11", None)]
    b = [cell(f"r{i}", i < 2 or 4 <= i < 10, version=2) for i in range(12)]
    return compare_runs(a, b)


def test_a_comparisons_dict_is_every_count_worked_by_hand():
    got = _hand_comparison().to_dict()
    flipped = [{"row_id": f"r{i}", "a": {"output": f"out r{i}/1/0", "passed": i < 4}} for i in range(2, 10)]
    for f in flipped:
        f["b"] = {"output": f"{f['a']['output'][:-4]}/2/0", "passed": not f["a"]["passed"]}
    assert got == {
        "a": {"column": "p@v1/m", "n": 11, "passed": 4, "pass_rate": round(4 / 11, 4), "ci95": _wilson(4, 11)},
        "b": {"column": "p@v2/m", "n": 11, "passed": 8, "pass_rate": round(8 / 11, 4), "ci95": _wilson(8, 11)},
        "pairs": 11,
        "a_only": 2,
        "b_only": 6,
        "both_pass": 2,
        "both_fail": 1,
        "excluded": 1,
        "p_value": pytest.approx(2 * (1 + 8 + 28) / 256, rel=5e-6),  # 2 · P(X ≤ 2), X ~ Binomial(8, 1/2); 6 digits
        "verdict": "no significant difference",
        "flipped": flipped,
        "alpha": 0.05,
        "min_detectable_difference": round(6 / 11, 4),  # 6 flips all one way is the least significant count
    }


def test_a_comparison_reads_as_text_and_as_html():
    comparison = _hand_comparison()
    a_low, a_high = _wilson(4, 11)
    b_low, b_high = _wilson(8, 11)
    text = (
        f"A p@v1/m: 4/11 = 36.4% [95% CI {a_low:.1%}–{a_high:.1%}]\n"
        f"B p@v2/m: 8/11 = 72.7% [95% CI {b_low:.1%}–{b_high:.1%}]\n"
        "11 paired rows: 6 pass only in B, 2 only in A; exact McNemar p = 0.2891 → no significant difference (α = 0.05)"
    )
    assert str(comparison) == text
    better = compare_runs([cell(f"r{i}", False) for i in range(6)], [cell(f"r{i}", True, version=2) for i in range(6)])
    assert str(better).endswith("exact McNemar p = 0.03125 → B is better than A (α = 0.05)")
    frame = comparison.flipped_frame()
    assert list(frame.columns) == ["row_id", "a_output", "a_passed", "b_output", "b_passed"]
    assert frame.iloc[0].to_dict() == {
        "row_id": "r2",
        "a_output": "out r2/1/0",
        "a_passed": True,
        "b_output": "out r2/2/0",
        "b_passed": False,
    }
    assert len(frame) == 8
    page = comparison._repr_html_()
    assert page.startswith("<pre>" + text + "</pre><table") and "out r9/2/0" in page
    same = compare_runs([cell("r0", True)], [cell("r0", True, version=2)])
    assert same._repr_html_() == "<pre>" + str(same) + "</pre>"
    assert "A p@v1/m: 1/1 = 100.0% [95% CI" in str(same)
    nothing = compare_runs([cell("r0", None)], [cell("r0", True, version=2)])
    assert str(nothing).startswith("A p@v1/m: 0/0 = n/a\nB p@v2/m: 0/0 = n/a\n0 paired rows")


COLUMNS = [Column("p", 1, "m"), Column("p", 2, "m"), Column("q", 1, "local")]


@pytest.mark.parametrize(
    ("wanted", "picked"),
    [
        ("p@v2/m", 1),  # the whole column
        ("  p@v2/m ", 1),
        ("q", 2),  # a whole part: the prompt
        ("local", 2),  # the model
        ("p@v1", 0),  # the prompt version
        ("v2", 1),  # the version
        ("@v2/", 1),  # any unique piece of the column
        (Column("q", 1, "local"), 2),
    ],
)
def test_a_column_is_picked_by_any_unique_part_of_its_name(wanted, picked):
    assert pick_column(COLUMNS, wanted, "a") == COLUMNS[picked]


def test_picking_a_column_says_what_to_write_when_it_cannot():
    assert pick_column(COLUMNS[:1], None, "b") == COLUMNS[0]
    names = "p@v1/m, p@v2/m, q@v1/local"
    with pytest.raises(ConfigError) as error:
        pick_column(COLUMNS, None, "b")
    assert str(error.value) == f"Say which column is B: the run has 3 — {names}. Pass --b COLUMN (b=... in Python)."
    with pytest.raises(ConfigError) as error:
        pick_column(COLUMNS, "v1", "a")
    assert str(error.value) == (
        "--a 'v1' matches several columns: p@v1/m, q@v1/local. Give more of it (PROMPT@vN/MODEL)."
    )
    with pytest.raises(ConfigError) as error:
        pick_column(COLUMNS, "zzz", "b")
    assert str(error.value) == f"--b 'zzz' matches none of the columns: {names}."


def test_compare_runs_picks_the_columns_within_a_run_and_across_two():
    one_run = [cell("r0", False), cell("r0", True, version=2), cell("r0", True, prompt="q", model="local")]
    assert str(compare_runs(one_run, a="p@v1", b="v2").b.column) == "p@v2/m"
    assert compare_runs(one_run, a="local", b="p@v1").a.column == "q@v1/local"
    two = one_run[:2]
    assert (compare_runs(two).a.column, compare_runs(two).b.column) == ("p@v1/m", "p@v2/m")
    with pytest.raises(ConfigError, match=r"A and B are the same column \(p@v1/m\); compare two different columns"):
        compare_runs(one_run, a="p@v1", b="p@v1/m")
    with pytest.raises(ConfigError, match=r"Say which column is A: .* Pass --a COLUMN \(a=\.\.\. in Python\)\.$"):
        compare_runs(one_run)
    across = compare_runs([cell("r0", False), cell("r0", True, prompt="q")], [cell("r0", True, version=2)], a="q")
    assert (across.a.column, across.b.column, across.b_only) == ("q@v1/m", "p@v2/m", 0)
    with pytest.raises(WorkbenchError, match="p@v1/m and p@v2/m share no rows: compare runs over the same dataset"):
        compare_runs([cell("r0", True)], [cell("r1", True, version=2)])


def test_stability_counts_only_judged_samples_and_names_an_unknown_aggregate():
    records = [
        cell("r0", True, repeat=0, parsed="a"),
        cell("r0", None, repeat=1, parsed="a", error="boom"),  # no verdict: not in the pass rate
        cell("r1", False, repeat=0, parsed="b"),
        cell("r1", False, repeat=1, parsed="c"),
        cell("r0", True, version=2, parsed="a"),
    ]
    first, second = stability_report(records, aggregate="majority")["columns"]
    assert first == {
        "column": "p@v1/m",
        "k": 2,
        "rows": 2,
        "pass_rate": round(1 / 3, 4),
        "pass_at_k": 0.5,
        "pass_all_k": 0.0,
        "flaky": ["r0"],
        "agreement": round((1 + 1 / 2) / 2, 4),
        "majority": {"n": 2, "passed": 1, "pass_rate": 0.5, "ci95": _wilson(1, 2)},
    }
    assert second["column"] == "p@v2/m" and second["k"] == 1 and second["majority"]["n"] == 1
    frame = stability(records)
    assert list(frame.columns) == ["column", "k", "rows", "pass_rate", "pass_at_k", "pass_all_k", "flaky", "agreement"]
    assert frame.to_dict("records")[0] == {key: value for key, value in first.items() if key != "majority"}
    with pytest.raises(ConfigError) as error:
        stability_report(records, aggregate="mean")
    assert str(error.value) == "Unknown aggregate 'mean': use 'majority'."


def test_majority_vote_scores_the_answer_most_samples_gave_and_skips_rows_without_a_verdict():
    records = [
        cell("r0", False, repeat=0, parsed="x"),  # the first answer, but not the most common one
        cell("r0", True, repeat=1, parsed="y"),
        cell("r0", True, repeat=2, parsed="y"),
        cell("r1", None, repeat=0, parsed="z"),  # never judged: not a row of the vote
        cell("r1", None, repeat=1, parsed="z"),
        cell("r2", True, repeat=0, parsed="w"),  # a tie between answers: the first seen wins
        cell("r2", False, repeat=1, parsed="v"),
    ]
    (entry,) = stability_report(records, aggregate="majority")["columns"]
    assert entry["majority"] == {"n": 2, "passed": 2, "pass_rate": 1.0, "ci95": _wilson(2, 2)}


def test_a_rate_with_its_interval_and_how_an_interval_is_written():
    assert rate_with_interval(3, 8) == {"n": 8, "passed": 3, "pass_rate": 0.375, "ci95": _wilson(3, 8)}
    assert rate_with_interval(0, 0) == {"n": 0, "passed": 0, "pass_rate": None, "ci95": None}
    assert format_interval([0.1234, 0.5]) == "12%–50%"
    assert format_interval(None) == "" and format_interval([]) == ""
    assert format_interval([float("nan"), 0.5]) == "" and format_interval([0.5, float("nan")]) == ""


def test_the_matrix_keeps_the_row_order_within_flipped_and_unflipped_rows():
    flipped = [i % 3 == 0 for i in range(30)]  # rows 0, 3, 6, ... flip
    records = [cell(f"r{i}", True) for i in range(30)] + [
        cell(f"r{i}", not f, version=2) for i, f in enumerate(flipped)
    ]
    order = list(matrix(records)["row_id"])
    assert order == [f"r{i}" for i in range(30) if flipped[i]] + [f"r{i}" for i in range(30) if not flipped[i]]


def test_the_matrix_with_two_samples_per_row():
    records = [cell("r0", True, repeat=0, parsed="a"), cell("r0", False, repeat=1, parsed="b")]
    (line,) = _plain(matrix(records))
    assert (line["p@v1/m|passes"], line["p@v1/m|flaky"], line["p@v1/m|agreement"]) == ("1/2", True, 0.5)
    assert line["p@v1/m|passed"] is False, "a tie fails"


def test_paired_uses_its_alpha_and_counts_every_excluded_row():
    from workbench.compare import paired

    a = [cell("r0", None), cell("r1", None)] + [cell(f"r{i}", False) for i in range(2, 7)]
    b = [cell(f"r{i}", True, version=2) for i in range(7)]
    strict = paired(a, b, "A", "B")
    loose = paired(a, b, "A", "B", alpha=0.1)  # 5 flips all one way: p = 2/32 = 0.0625
    assert (strict.excluded, strict.pairs, strict.b_only) == (2, 5, 5), "unjudged rows first do not stop the count"
    assert (strict.verdict, loose.verdict) == ("no significant difference", "better")
    assert (strict.alpha, loose.alpha) == (0.05, 0.1)
    assert (strict.min_detectable_difference, loose.min_detectable_difference) == (1.0, 1.0)
    # at α = 0.2, 4 flips all one way suffice (2·(1/2)⁴ = 0.125; 3 give 0.25): 4 of 7 rows
    assert paired(b * 2, b * 2, "A", "B", alpha=0.2).min_detectable_difference == round(4 / 7, 4)
    nothing = paired(a[:2], b[:2], "A", "B").to_dict()
    assert (nothing["a"]["ci95"], nothing["b"]["ci95"], nothing["pairs"]) == (None, None, 0)


def test_compare_runs_asks_for_the_column_it_cannot_pick():
    one_run = [cell("r0", False), cell("r0", True, version=2), cell("r0", True, prompt="q", model="local")]
    with pytest.raises(ConfigError, match=r"^Say which column is B: .* Pass --b COLUMN \(b=\.\.\. in Python\)\.$"):
        compare_runs(one_run, a="p@v1")
    with pytest.raises(ConfigError, match=r"^--b 'zzz' matches none"):
        compare_runs(one_run, a="p@v1", b="zzz")
    with pytest.raises(ConfigError, match=r"^Say which column is A: .* Pass --a COLUMN \(a=\.\.\. in Python\)\.$"):
        compare_runs(one_run, [cell("r0", True, version=9)])
    with pytest.raises(ConfigError, match=r"^Say which column is B: .* Pass --b COLUMN"):
        compare_runs([cell("r0", True)], one_run)
    with pytest.raises(ConfigError, match=r"^--a 'zzz' matches none"):
        compare_runs(one_run, [cell("r0", True, version=9)], a="zzz")
    with pytest.raises(ConfigError, match=r"^--b 'zzz' matches none"):
        compare_runs([cell("r0", True)], one_run, b="zzz")
    assert compare_runs([cell("r0", True)], one_run, b="local").b.column == "q@v1/local"


def test_a_whole_column_or_prompt_version_wins_over_a_longer_name_containing_it():
    columns = [Column("p", 1, "m"), Column("p", 1, "m2")]
    assert pick_column(columns, "p@v1/m", "a") == columns[0]
    mixed = [Column("p", 1, "m"), Column("p", 12, "m")]
    assert pick_column(mixed, "p@v1", "a") == mixed[0], "p@v1 is a whole part of p@v1/m, a piece of p@v12/m"


def test_the_stability_table_of_no_records_still_has_its_columns():
    assert list(stability([]).columns) == STABILITY_COLUMNS
    assert list(stability([], aggregate="majority").columns) == [*STABILITY_COLUMNS, "majority"]
