"""The comparison and the sampling view on hand-built records, each figure worked out by hand (the statistics
themselves are tested against scipy/statsmodels in tests/test_stats.py)."""

from __future__ import annotations

import pytest

from workbench.compare import compare_runs, stability, stability_report
from workbench.errors import WorkbenchError
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
