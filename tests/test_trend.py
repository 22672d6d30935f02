"""A trend line is one experiment: (prompt version, model, dataset content, generation parameters). Runs that
differ in any of them are never pooled into one figure — on SQLite and on PostgreSQL, in the table, the JSON and
the chart."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.testing.models import FunctionModel
from workbench.trend import trend

TEMPLATE = PromptTemplate.from_string("---\nname: tl\nassertions: [{type: equals}]\n---\nSay {{ text }}")
ROWS = [{"id": f"r{i}", "text": f"t{i}", "expected": "yes"} for i in range(20)]


def _model(wrong: set[int]) -> FunctionModel:
    return FunctionModel(lambda p: "no" if int(p.split("t")[-1]) in wrong else "yes", spec="function:tl")


def test_a_greedy_and_a_sampled_run_of_one_version_are_two_lines(store):
    run(TEMPLATE, ROWS, [_model({1})], store=store, progress=False)
    run(TEMPLATE, ROWS, [_model(set(range(10)))], store=store, progress=False, params={"temperature": 0.8})
    report = trend(store, "tl", dataset=None)
    lines = {(v["params"], v["rows"], v["passed"]) for v in report.versions}
    assert lines == {("defaults", 20, 19), ("temperature=0.8", 20, 10)}, "never one pooled figure of 29/40"
    assert {p["params"] for p in report.runs} == {"defaults", "temperature=0.8"}
    assert report.comparisons == [], "one version: nothing to compare"
    from workbench.trend import line_label

    assert len({line_label(v) for v in report.versions}) == 2, "the chart draws two lines"


def test_two_files_with_the_same_name_are_two_lines(store, tmp_path):
    first, second = tmp_path / "a" / "test.csv", tmp_path / "b" / "test.csv"
    for path, texts in ((first, range(20)), (second, range(100, 120))):
        path.parent.mkdir()
        path.write_text("id,text,expected\n" + "".join(f"r{i},t{t},yes\n" for i, t in enumerate(texts)), "utf-8")
    run(TEMPLATE, first, [_model({0, 1})], store=store, progress=False)
    run(TEMPLATE, second, [_model(set())], store=store, progress=False)
    report = trend(store, "tl", dataset="test.csv")
    assert sorted((v["dataset"], v["passed"]) for v in report.versions) == [("test.csv", 18), ("test.csv", 20)]
    assert len({v["dataset_hash"] for v in report.versions}) == 2


def test_versions_are_compared_only_on_the_same_setting_and_the_cli_shows_the_parameters(store, tmp_path):
    v2 = TEMPLATE.with_changes(version=2, body="Now say {{ text }}")
    run(TEMPLATE, ROWS, [_model(set(range(8)))], store=store, progress=False)
    run(v2, ROWS, [_model(set())], store=store, progress=False)
    run(v2, ROWS, [_model(set(range(20)))], store=store, progress=False, params={"temperature": 0.8})
    report = trend(store, "tl", dataset=None)
    (comparison,) = report.comparisons
    assert (comparison["a"], comparison["b"], comparison["params"]) == ("v1", "v2", "defaults")
    assert (comparison["a_only"], comparison["b_only"], comparison["verdict"]) == (0, 8, "better")
    shown = CliRunner().invoke(
        app, ["runs", "trend", "tl", "--store", store.url if store.path is None else str(store.path)]
    )
    as_json = CliRunner().invoke(
        app,
        ["runs", "trend", "tl", "--format", "json", "--store", store.url if store.path is None else str(store.path)],
    )
    assert shown.exit_code == 0 and "temperature=0.8" in shown.output and "defaults" in shown.output
    assert {v["params"] for v in json.loads(as_json.stdout)["versions"]} == {"defaults", "temperature=0.8"}


# -- the figures of a trend, worked out by hand on rows a store would return -------------------------------------------
class RowsStore:
    """What :func:`trend` reads from a store (``prompt_results``): hand-written rows, filtered by model."""

    def __init__(self, rows):
        self.rows = rows

    def prompt_results(self, prompt, *, model=None):
        return [r for r in self.rows if model is None or r["model"] == model]


HASH = "0123456789abcdef"


def _sample(run_id, day, version, row_id, passed, *, repeat=0, cached=False, params=None, model="m", data="data/t.csv"):
    return {
        "run_id": run_id,
        "started_at": f"2026-01-0{day}",
        "version": version,
        "model": model,
        "row_id": row_id,
        "repeat": repeat,
        "passed": passed,
        "cached": cached,
        "dataset": data,
        "dataset_hash": HASH,
        "config": json.dumps({"params": params or {}}),
    }


def _hand_rows():
    """v1 (run a): x0 ✓, x1 ✓✗ (a tie: fails), x2 ✗, x3 ✓✓✗ → 2 of 4. v2 (run b): all four ✓. v2 again (run c): x0
    from the cache as ✗ (not generated: not counted for v2) and x4 from the cache as ✓ (its only sample: counted).
    v2 at temperature 0.8 (run d): x0 ✗ — another line."""
    rows = [_sample("a", 1, 1, "x0", True), _sample("a", 1, 1, "x1", True), _sample("a", 1, 1, "x1", False, repeat=1)]
    rows += [_sample("a", 1, 1, "x2", False)]
    rows += [_sample("a", 1, 1, "x3", v, repeat=i) for i, v in enumerate([True, True, False])]
    rows += [_sample("b", 2, 2, f"x{i}", True) for i in range(4)]
    rows += [_sample("c", 3, 2, "x0", False, cached=True), _sample("c", 3, 2, "x4", True, cached=True)]
    rows += [_sample("d", 4, 2, "x0", False, params={"top_p": 0.9, "temperature": 0.8})]
    return rows


def _wilson(passed, n):
    from statsmodels.stats.proportion import proportion_confint

    return tuple(round(x, 4) for x in proportion_confint(passed, n, alpha=0.05, method="wilson"))


def _figure(passed, n):
    low, high = _wilson(passed, n)
    return {"rows": n, "passed": passed, "pass_rate": round(passed / n, 4), "ci_low": low, "ci_high": high}


LINE = {"model": "m", "dataset": "t.csv", "dataset_hash": HASH[:12], "params": "defaults"}
WARM = LINE | {"params": "temperature=0.8 top_p=0.9"}


def test_a_trend_counts_each_row_once_per_run_and_per_version_by_hand():
    report = trend(RowsStore(_hand_rows()), "tl", dataset="t.csv")
    assert report.to_dict() == {
        "prompt": "tl",
        "dataset": "t.csv",
        "runs": [
            {"run_id": "a", "started_at": "2026-01-01", "version": 1, **LINE, **_figure(2, 4)},
            {"run_id": "b", "started_at": "2026-01-02", "version": 2, **LINE, **_figure(4, 4)},
            {"run_id": "c", "started_at": "2026-01-03", "version": 2, **LINE, **_figure(1, 2)},
            {"run_id": "d", "started_at": "2026-01-04", "version": 2, **WARM, **_figure(0, 1)},
        ],
        "versions": [
            {"version": 1, **LINE, "runs": 1, **_figure(2, 4)},
            {"version": 2, **LINE, "runs": 2, **_figure(5, 5)},
            {"version": 2, **WARM, "runs": 1, **_figure(0, 1)},
        ],
        "comparisons": [
            {
                "a": "v1",
                "b": "v2",
                **LINE,
                "shared_rows": 4,
                "a_passed": 2,
                "b_passed": 4,
                "a_only": 0,
                "b_only": 2,
                "p_value": 0.5,  # 2 discordant pairs, both one way: 2 · (1/2)² = 1/2
                "verdict": "no significant difference",
                "note": "rows differ: v1 has 4, v2 has 5",
            }
        ],
    }
    assert not report.empty and trend(RowsStore([]), "tl", dataset="t.csv").empty
    assert report.runs_frame().to_dict("records")[0] == {
        key: report.runs[0][key] for key in ["run_id", "started_at", "version", "model", "dataset", "params"]
    } | {key: report.runs[0][key] for key in ["rows", "passed", "pass_rate", "ci_low", "ci_high"]}
    assert list(report.versions_frame().columns) == [
        "version", "model", "dataset", "params", "runs", "rows", "passed", "pass_rate", "ci_low", "ci_high"
    ]  # fmt: skip
    assert report.versions_frame()["passed"].tolist() == [2, 5, 0]


def test_a_trend_compares_versions_only_within_one_model_dataset_and_setting():
    rows = [_sample("a", 1, 1, f"x{i}", False) for i in range(6)]
    rows += [_sample("b", 2, 2, f"x{i}", True) for i in range(6)]  # 6 fixed rows, all one way: p = 1/32
    rows += [_sample("c", 3, 3, f"x{i}", True, model="other") for i in range(6)]  # another model: not compared
    report = trend(RowsStore(rows), "tl", dataset=None)
    (comparison,) = report.comparisons
    assert (comparison["a"], comparison["b"], comparison["model"], comparison["verdict"]) == ("v1", "v2", "m", "better")
    assert comparison["p_value"] == round(2 / 64, 6) and comparison["note"] == ""
    assert [p["model"] for p in trend(RowsStore(rows), "tl", model="other", dataset=None).runs] == ["other"]


def test_which_runs_a_trend_takes_by_the_dataset_asked_for():
    rows = [_sample("a", 1, 1, "x0", True, data="data/t.csv"), _sample("b", 2, 1, "x0", True, data="other/u.csv")]
    rows += [_sample("c", 3, 1, "x0", True, data=None)]

    def runs(dataset):
        return [p["run_id"] for p in trend(RowsStore(rows), "tl", dataset=dataset).runs]

    assert runs("data/t.csv") == ["a"] and runs("t.csv") == ["a"] and runs("elsewhere/t.csv") == ["a"]
    assert runs("u.csv") == ["b"] and runs("nothing.csv") == []
    assert runs(None) == ["a", "b", "c"]  # the prompt "tl" is in no library: no dataset of its own, every run
    assert trend(RowsStore(rows), "tl").dataset is None
    assert trend(RowsStore([]), "sentiment_cloze_en").dataset == "datasets/sentiment_en.csv"  # its `dataset:`


def test_how_a_trend_names_datasets_and_parameters():
    from workbench.trend import _name, describe_params

    assert _name("data/sub/t.csv", HASH) == "t.csv" and _name(None) == "(in memory)" and _name("") == "(in memory)"
    assert _name("records", HASH) == "records 01234567" and _name("dataframe", HASH) == "dataframe 01234567"
    assert _name("data", HASH) == "data 01234567" and _name("records") == "records"
    assert describe_params({}) == "defaults" and describe_params({"params": {}}) == "defaults"
    assert describe_params({"params": "x"}) == "defaults"
    assert describe_params({"params": {"top_p": 0.9, "temperature": 0.8}}) == "temperature=0.8 top_p=0.9"
    assert describe_params({"params": {"stop": ["。", "\n"]}}) == 'stop=["。", "\\n"]'
    rows = [_sample("a", 1, 1, "x0", True, data="records")]
    rows[0]["config"] = {"params": {"seed": 1}}  # a dict as PostgreSQL returns JSON, not text
    (point,) = trend(RowsStore(rows), "tl", dataset=None).runs
    assert (point["dataset"], point["params"]) == ("records 01234567", "seed=1")
    rows[0]["config"] = None
    assert trend(RowsStore(rows), "tl", dataset=None).runs[0]["params"] == "defaults"


def test_the_trend_chart_draws_each_line_with_its_intervals_and_labels(tmp_path):
    import matplotlib.pyplot as plt

    from workbench.trend import line_label, plot_trend

    report = trend(RowsStore(_hand_rows()), "tl", dataset="t.csv")
    fig = plot_trend(report)
    ax = fig.axes[0]
    assert ax.get_title() == "tl on t.csv" and ax.get_ylim() == (0, 1.05)
    assert ax.get_ylabel() == "pass rate on distinct rows (95% CI)" and ax.get_xlabel() == "run (oldest → newest)"
    defaults, warm = line_label(report.runs[0]), line_label(report.runs[3])
    assert defaults == f"m · t.csv#{HASH[:6]} · defaults"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [defaults, warm]
    assert [container.get_label() for container in ax.containers] == [defaults, warm]
    data_lines = [container.lines[0] for container in ax.containers]  # the points; the bars are lines[2]
    assert [list(line.get_xdata()) for line in data_lines] == [[0, 1, 2], [0]]
    assert [list(line.get_ydata()) for line in data_lines] == [[0.5, 1.0, 0.5], [0.0]]
    assert all(line.get_marker() == "o" for line in data_lines)
    bars = [segment.tolist() for collection in ax.collections for segment in collection.get_segments()]
    wanted = [_wilson(2, 4), _wilson(4, 4), _wilson(1, 2), _wilson(0, 1)]
    assert [[pytest.approx(list(end), abs=1e-9) for end in bar] for bar in bars] == [
        [[x, low], [x, high]] for x, (low, high) in zip([0, 1, 2, 0], wanted, strict=True)
    ]
    notes = [(t.get_text(), t.xy) for t in ax.texts]
    assert notes == [
        ("v1 · 4 rows", (0, 0.5)),
        ("v2 · 4 rows", (1, 1.0)),
        ("v2 · 2 rows", (2, 0.5)),
        ("v2 · 1 rows", (0, 0.0)),
    ]
    assert plot_trend(report, title="mine").axes[0].get_title() == "mine"
    report.dataset = None
    assert plot_trend(report).axes[0].get_title() == "tl"
    path = tmp_path / "trend.png"
    saved = plot_trend(report, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and saved.number not in plt.get_fignums()
    plt.close("all")


def test_a_dataset_asked_for_by_name_is_that_file_not_one_whose_name_ends_like_it():
    rows = [_sample("a", 1, 1, "x0", True, data="data/t.csv"), _sample("b", 2, 1, "x0", True, data="data/st.csv")]
    assert [p["run_id"] for p in trend(RowsStore(rows), "tl", dataset="t.csv").runs] == ["a"]
    assert [p["run_id"] for p in trend(RowsStore(rows), "tl", dataset="data/st.csv").runs] == ["b"]


def test_versions_are_compared_after_a_line_that_has_no_neighbour():
    # sorted by model first: model "a" (one version) comes before model "m", whose v1 and v2 are compared
    rows = [_sample("z", 1, 1, "x0", True, model="a")]
    rows += [_sample("a", 1, 1, f"x{i}", i < 2) for i in range(9)]  # v1 passes x0, x1
    rows += [_sample("b", 2, 2, f"x{i}", i >= 1) for i in range(9)]  # v2 fails x0, passes x1 … x8
    (comparison,) = trend(RowsStore(rows), "tl", dataset=None).comparisons
    # discordant: x0 only in v1; x2 … x8 only in v2: p = 2 · P(X ≤ 1 | Binomial(8, 1/2)) = 18/256 = 0.0703125
    assert (comparison["a_only"], comparison["b_only"], comparison["a_passed"], comparison["b_passed"]) == (1, 7, 2, 8)
    assert comparison["p_value"] == round(18 / 256, 6) and comparison["verdict"] == "no significant difference"


def test_a_run_without_a_content_hash_and_a_rate_of_thirds():
    rows = [_sample("a", 1, 1, f"x{i}", i == 0) for i in range(3)]
    for row in rows:
        del row["dataset_hash"]
    (point,) = trend(RowsStore(rows), "tl", dataset=None).runs
    assert (point["dataset_hash"], point["pass_rate"]) == ("", round(1 / 3, 4))


def test_the_trend_charts_look(tmp_path):
    import matplotlib.pyplot as plt

    from workbench.trend import plot_trend

    low = [_sample("a", 1, 1, f"x{i}", i == 0) for i in range(12)]  # 1 of 12: the axis still reaches 1.05
    ax = plot_trend(trend(RowsStore(low), "tl", dataset=None)).axes[0]
    assert ax.get_ylim() == (0, 1.05) and tuple(ax.figure.get_size_inches()) == (8, 4)
    legend = ax.get_legend()
    assert legend._loc == 4 and legend.get_texts()[0].get_fontsize() == 8  # 4: "lower right"
    (note,) = ax.texts
    assert (note.get_fontsize(), note.get_horizontalalignment(), note.xyann, note.anncoords) == (
        7,
        "center",
        (0, 8),
        "offset points",
    )
    (container,) = ax.containers
    assert [cap.get_markersize() for cap in container.lines[1]] == [8, 8]  # caps of 4 points on each side
    assert ax.xaxis.get_gridlines()[0].get_alpha() == 0.3
    plt.close("all")
