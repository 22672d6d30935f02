"""Benchmark figures: written by a script, merged per script, read back exactly; the text a gate prints is built
from them."""

from __future__ import annotations

import json

from workbench.course.evidence import proportion, read_figures, write_figures


def test_figures_round_trip_and_a_partial_run_keeps_the_others(tmp_path):
    first = proportion("local/a", "prompt a on set x", 23, 24, script="bench_local.py")
    second = proportion("local/b", "prompt b on set x", 0, 24, script="bench_local.py")
    path = write_figures([first, second], root=tmp_path)
    assert path == tmp_path / "benchmarks" / "results" / "bench_local.json"
    again = proportion("local/b", "prompt b on set x", 12, 24, script="bench_local.py")
    write_figures([again], root=tmp_path)
    figures = read_figures(tmp_path)
    assert figures["local/a"] == first and figures["local/b"] == again
    assert sorted(json.loads(path.read_text(encoding="utf-8"))) == ["local/a", "local/b"]


def test_a_figure_carries_its_wilson_interval_and_names_its_script():
    figure = proportion("local/x", "cloze on held-out reviews", 95, 100, script="bench_local.py")
    assert (figure.low, figure.high) == (0.8882, 0.9785)
    assert figure.describe().startswith("cloze on held-out reviews: 95/100 = 95.0% (95% CI 88.8%–97.9%)")
    assert "benchmarks/bench_local.py" in figure.describe()


def test_no_results_folder_means_no_figures(tmp_path):
    assert read_figures(tmp_path) == {}


def test_timings_beside_the_figures_are_not_read_as_figures(tmp_path):
    """bench_setup.json (seconds, a commit) shares the folder: the gates' figures are read, the timings skipped."""
    write_figures([proportion("local/a", "prompt a", 23, 24, script="bench_local.py")], root=tmp_path)
    timings = {"commit": "abc1234", "make demo": {"seconds": 61.0, "install_seconds": 40.2}}
    (tmp_path / "benchmarks" / "results" / "bench_setup.json").write_text(json.dumps(timings), encoding="utf-8")
    assert list(read_figures(tmp_path)) == ["local/a"]


def test_a_figure_keeps_the_rows_it_was_measured_on(tmp_path):
    figure = proportion(
        "gate/x", "prompt on 3 rows", 2, 3, script="bench_local.py", dataset="d.csv", row_ids=["a", "b", "c"]
    )
    write_figures([figure], root=tmp_path)
    again = read_figures(tmp_path)["gate/x"]
    assert again == figure and again.rows == {"a", "b", "c"} and again.dataset == "d.csv"
    import pytest

    with pytest.raises(ValueError, match="2 row ids for n=3"):
        proportion("gate/y", "mismatch", 1, 3, script="bench_local.py", row_ids=["a", "b"])
