"""A trend line is one experiment: (prompt version, model, dataset content, generation parameters). Runs that
differ in any of them are never pooled into one figure — on SQLite and on PostgreSQL, in the table, the JSON and
the chart."""

from __future__ import annotations

import json

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
    assert {v["params"] for v in json.loads(as_json.output)["versions"]} == {"defaults", "temperature=0.8"}
