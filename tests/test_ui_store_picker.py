"""The header's store picker (issue 37, points 2 and 11): ``Workbench()`` in ``notebooks/`` opens the project's
store and says where it really is, a new or empty store says so, a failed Open puts the box back to the store in
use, and no store is switched under a running run."""

import html
import shutil

import pytest

from workbench.pipeline import run
from workbench.store import Store
from workbench.ui import Workbench
from workbench.ui.testing import register_test_provider

register_test_provider()


@pytest.fixture
def project(tmp_path, repo, monkeypatch):
    """A course folder: its prompt library and datasets, a notebooks/ subfolder where the kernel runs."""
    root = tmp_path / "course"
    (root / "prompt_library").mkdir(parents=True)
    shutil.copy(repo / "prompt_library" / "sentiment_cloze_en.prompty", root / "prompt_library")
    shutil.copytree(repo / "datasets", root / "datasets")
    (root / "notebooks").mkdir()
    for name in ("WORKBENCH_STORE", "WORKBENCH_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root / "notebooks")
    return root


def _said(widget) -> str:
    return html.unescape(widget.value)


def test_a_notebook_in_notebooks_opens_the_projects_store_and_says_where_it_is(project):
    made = run("sentiment_cloze_en", project / "datasets" / "sentiment_en.csv", ["uitest:a"], limit=2, progress=False)
    bench = Workbench(lang="en")
    store_file = project / ".workbench" / "workbench.db"
    assert made.store.path == store_file == bench.state.store.path, "the run made from notebooks/ is in it"
    assert bench.store_picker.location.value == str(store_file), "the absolute location, not '.workbench/…'"
    assert "the project's store" in _said(bench.store_picker.kind)
    assert bench.results.run_picker.value == made.run_id, "no run seems to have vanished"
    assert bench.store_picker.messages.value == "", "an existing store with runs needs no announcement"
    assert not (project / "notebooks" / ".workbench").exists()


def test_a_new_empty_store_is_announced_as_new(project):
    bench = Workbench(lang="en")
    said = _said(bench.store_picker.messages)
    assert "A new, empty store" in said and str(project / ".workbench" / "workbench.db") in said
    again = Workbench(lang="zh")
    assert "这个存储还没有运行" in _said(again.store_picker.messages), "still empty: it has no runs yet"
    assert "项目的存储" in again.store_picker.kind.value


def test_a_failed_open_puts_the_box_back_to_the_store_in_use(project):
    bench = Workbench(lang="en")
    picker = bench.store_picker
    in_use = bench.state.store.url
    picker.location.value = "mysql://db.example/x"
    picker.open_button.click()
    said = _said(picker.messages)
    assert picker.location.value == in_use and "Could not open mysql://db.example/x; still using" in said
    assert "'mysql' is not a store" in said, "the core's reason stays"
    picker.location.value = "postgresql://wb:hunter2@127.0.0.1:1/workbench"
    picker.open_button.click()
    assert picker.location.value == in_use and "hunter2" not in picker.messages.value
    assert "password was left out" in picker.messages.value


def test_no_store_is_opened_under_a_running_run(project, tmp_path):
    bench = Workbench(lang="en")
    other = tmp_path / "other.db"
    Store(other)
    bench.state.running = True  # the Run tab is executing
    assert bench.store_picker.open_location(str(other)) is None
    assert bench.state.store.path == project / ".workbench" / "workbench.db"
    assert "stop it or let it finish" in bench.store_picker.messages.value
    bench.state.running = False
    assert bench.store_picker.open_location(str(other)).path == other
