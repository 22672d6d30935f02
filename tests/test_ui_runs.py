"""The team store in the UI without a browser: the store picker, runs from other people and the nightly job shown
with their origin, the Runs view's filters, and the pass-rate trend per version (what ``workbench runs trend``
computes, drawn)."""

import datetime as dt
import html
import re

import pytest

from workbench.pipeline import run
from workbench.store import Store
from workbench.trend import trend
from workbench.ui import RunsView, Workbench
from workbench.ui.testing import make_state


@pytest.fixture
def state(tmp_path, repo):
    return make_state(tmp_path, repo)


def _plain(widget) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)).split())


def _run_as(state, monkeypatch, user: str, origin: str, *, model: str = "uitest:a", limit: int = 4, prompt=None):
    """A run made by ``user`` from ``origin`` (the provenance records the login name)."""
    monkeypatch.setenv("LOGNAME", user)
    template = prompt or state.library.get("sentiment_cloze_en")
    dataset = state.dataset_of(template)  # the template's own
    return run(template, dataset, [model], store=state.store, limit=limit, origin=origin, progress=False)


def test_runs_from_other_people_and_the_nightly_job_show_where_they_came_from(state, monkeypatch):
    mine = _run_as(state, monkeypatch, "alice", "notebook")
    nightly = _run_as(state, monkeypatch, "nightlybot", "nightly", model="uitest:b")
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    labels = {value: label for label, value in bench.results.run_picker.options}
    assert "nightly" in labels[nightly.run_id] and "nightlybot@" in labels[nightly.run_id]
    assert "notebook" in labels[mine.run_id] and "alice@" in labels[mine.run_id]
    bench.results.run_picker.value = nightly.run_id
    assert "nightly" in _plain(bench.results.provenance) and "nightlybot@" in _plain(bench.results.provenance)


def test_the_runs_view_filters_by_prompt_model_origin_and_date(state, monkeypatch):
    notebook = _run_as(state, monkeypatch, "alice", "notebook")
    cli = _run_as(state, monkeypatch, "bob", "cli", model="uitest:b")
    cluster = _run_as(state, monkeypatch, "carol", "cluster")
    rag = _run_as(state, monkeypatch, "alice", "notebook", prompt=state.library.get("rag_qa"), limit=2)
    view = RunsView(state)
    assert set(view.table.row_ids) == {notebook.run_id, cli.run_id, cluster.run_id, rag.run_id}
    view.origin.value = "cli"
    assert view.table.row_ids == [cli.run_id]
    row = view.table.rows[0]["cells"]
    assert "bob@" in " ".join(row) and "CLI" in " ".join(row), "who and where, in the list"
    view.origin.value = "(any)"
    view.model.value = "uitest:a"
    assert set(view.table.row_ids) == {notebook.run_id, cluster.run_id, rag.run_id}
    view.model.value = "(any)"
    view.prompt.value = "rag_qa"
    assert view.table.row_ids == [rag.run_id]
    view.prompt.value = "(any)"
    view.since.value = dt.date.today() + dt.timedelta(days=1)
    assert view.table.row_ids == [] and "0 runs" in view.count.value
    view.since.value = dt.date.today() - dt.timedelta(days=1)
    assert len(view.table.row_ids) == 4


def test_the_trend_shows_each_versions_pass_rate_with_its_95_percent_interval(state, monkeypatch):
    v1 = state.library.get("sentiment_cloze_en")
    v2 = state.library.save(v1.with_changes(body=v1.body.replace("Overall, it was", "In short, it was"), version=1))
    _run_as(state, monkeypatch, "alice", "notebook", prompt=v1, limit=12)
    _run_as(state, monkeypatch, "nightlybot", "nightly", prompt=v2, limit=12)
    view = RunsView(state)
    view.prompt.value = "sentiment_cloze_en"
    assert view.trend_dataset.value == "sentiment_en.csv", "the prompt's own dataset first"
    expected = trend(state.store, "sentiment_cloze_en", None, "sentiment_en.csv")
    shown = _plain(view.trend_table)
    for point in expected.versions:
        ci = f"{point['ci_low']:.0%}–{point['ci_high']:.0%}"
        assert f"v{point['version']} uitest:a sentiment_en.csv" in shown and ci in shown, "the store's own figures"
    assert "exact McNemar" in shown and "<svg" in view.trend_chart.value
    assert "pass rate per version" in view.trend_chart.value and "95% CI" in view.trend_chart.value


def test_open_in_results_shows_the_run_chosen_in_the_runs_view(state, monkeypatch):
    first = _run_as(state, monkeypatch, "alice", "notebook")
    _run_as(state, monkeypatch, "bob", "cli")
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    assert bench.results.run_picker.value != first.run_id
    bench.runs.table.select(first.run_id)
    assert "alice@" in _plain(bench.runs.detail) and not bench.runs.open_button.disabled
    bench.runs.open_button.click()
    assert bench.results.run_picker.value == first.run_id
    assert bench.tabs.selected_index == bench.tabs.titles.index("Results")


def test_the_store_picker_defaults_to_workbench_store_and_opens_another_store(state, tmp_path, monkeypatch):
    default = tmp_path / "team.db"
    monkeypatch.setenv("WORKBENCH_STORE", str(default))
    Store(default).close()
    bench = Workbench(library=state.library.root, datasets=state.datasets_dir)
    assert bench.state.store.path == default and bench.store_picker.location.value == str(default)
    other = Store(tmp_path / "other.db")  # someone's run in another store
    elsewhere = run(
        state.library.get("sentiment_cloze_en"),
        state.datasets_dir / "sentiment_en.csv",
        ["uitest:a"],
        store=other,
        limit=3,
        progress=False,
    )
    assert bench.results.run_picker.options == ()
    bench.store_picker.open_location(str(tmp_path / "other.db"))
    assert bench.state.store.path == tmp_path / "other.db" and "Now using" in bench.store_picker.messages.value
    assert bench.results.run_picker.value == elsewhere.run_id, "every panel reads the new store"
    assert elsewhere.run_id in bench.runs.table.row_ids


def test_the_store_picker_does_not_create_a_store_from_a_typo_and_keeps_no_password(state, tmp_path):
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    picker = bench.store_picker
    typo = tmp_path / "wrokbench.db"
    assert picker.open_location(str(typo)) is None
    assert not typo.exists() and bench.state.store is state.store and "no store at" in picker.messages.value
    assert picker.create_button.layout.display == "flex"
    picker.location.value = str(typo)
    picker.create_button.click()
    assert typo.exists() and bench.state.store.path == typo
    assert picker.open_location("mysql://db.example/x") is None and "still using" in picker.messages.value
    assert picker.location.value == str(typo), "a failed Open puts the box back to the store in use"
    picker.location.value = "postgresql://wb:hunter2@127.0.0.1:1/workbench"  # nothing listens on port 1
    picker.open_button.click()
    assert "hunter2" not in picker.location.value and "hunter2" not in picker.messages.value
    assert "still using" in picker.messages.value and bench.state.store.path == typo


@pytest.mark.postgres
def test_the_store_picker_opens_a_shared_postgresql_store(state, postgres_url):
    shared = Store(postgres_url)
    made = run(
        state.library.get("sentiment_cloze_en"),
        state.datasets_dir / "sentiment_en.csv",
        ["uitest:a"],
        store=shared,
        limit=2,
        origin="nightly",
        progress=False,
    )
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    bench.store_picker.open_location(postgres_url)
    assert bench.state.store.dialect == "postgresql" and "PostgreSQL" in bench.store_picker.kind.value
    assert bench.results.run_picker.value == made.run_id and "nightly" in bench.results.run_picker.label


def test_on_a_narrow_screen_the_runs_table_keeps_who_and_another_store_clears_the_filters(state, monkeypatch, tmp_path):
    """Issue 37, points 4 and 5: "who" is among the first columns and never wraps; the run id (also in the detail
    line) comes last; opening another store resets the filters and the selection."""
    _run_as(state, monkeypatch, "alice", "notebook")
    view = RunsView(state)
    keys = [c["key"] for c in view.table.columns]
    assert keys[:2] == ["started", "who"] and keys[-1] == "id"
    kinds = {c["key"]: c["kind"] for c in view.table.columns}
    assert kinds["who"] == "key" and kinds["prompts"] == "text"
    view.origin.value = "notebook"
    view.table.selected = view.runs[0]["id"]
    assert "alice" in view.detail.value
    state.set_store(Store(tmp_path / "other.db"))
    assert view.origin.value == "(any)" and view.table.selected is None and view.detail.value == ""
    assert view.runs == [] and "0 runs (no filter)" in _plain(view.count)
