"""Drive the widgets without a browser: set values, click buttons, read what the panels show — and the state rules:
every action clears the messages it owns, fields reset, defaults follow the template, Refresh picks up the rest."""

import html
import re
import shutil

import pytest

from workbench.pipeline import run
from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.testing.models import FunctionModel
from workbench.ui import BadCaseReview, ResultsView, RunPanel, TemplateEditor, Workbench, WorkbenchState
from workbench.ui.testing import register_test_provider, sentiment_guess

register_test_provider()  # uitest:NAME (the same model in every UI test module)


@pytest.fixture
def state(tmp_path, repo):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(repo / "prompt_library" / "sentiment_cloze_en.prompty", lib)
    shutil.copy(repo / "prompt_library" / "rag_qa.prompty", lib)
    return WorkbenchState(library=PromptLibrary(lib), store=Store(tmp_path / "ui.db"), datasets_dir=repo / "datasets")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_editor_shows_the_file_as_written_and_marks_the_line_an_error_names(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    on_disk = state.library.path_of("sentiment_cloze_en").read_text(encoding="utf-8")
    assert editor.code.value == on_disk, "the file itself, not a re-serialised copy"
    assert "text" in editor.variables.value and "Overall, it was" in editor.preview.value
    assert editor.dataset.value.endswith("sentiment_en.csv"), "the preview defaults to the template's own dataset"
    editor.row.value = 2
    row_text = __import__("workbench").load_dataset(editor.dataset.value).rows[2]["text"]
    assert html.escape(row_text) in editor.preview.value, "the preview shows the chosen row"
    broken = on_disk.replace("Text: {{ text }}", "Text: {{ text ")
    editor.code.value = broken  # what the browser sends 300 ms after the typing stops
    assert "Jinja syntax error" in editor.preview.value
    (marker,) = editor.code.markers
    named = int(re.search(r"\.prompty:(\d+):", marker["message"]).group(1))
    assert marker["line"] == named and named - _line_of(broken, "Text: {{ text ") in (0, 1)  # Jinja sees it there
    editor.code.value = on_disk.replace("{{ text }}", "{{ txt }}")
    assert "Unknown variable 'txt'" in html.unescape(editor.preview.value)
    assert editor.code.markers[0]["line"] == _line_of(on_disk, "{{ text }}")
    editor.code.value = on_disk
    assert editor.code.markers == [] and "error" not in editor.preview.value, "a fixed error does not linger"


def test_saving_writes_what_was_typed_and_clears_stale_messages(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    typed = editor.code.value.replace("Overall, it was", "In short,   it was")  # odd spacing stays as typed
    editor.code.value = typed
    editor.code.save_requests += 1  # Ctrl/Cmd+S in the browser
    assert "Saved sentiment_cloze_en@v2" in editor.messages.value
    saved = state.library.path_of("sentiment_cloze_en").read_text(encoding="utf-8")
    assert saved == typed.replace("version: 1", "version: 2"), "only the version line changed"
    assert editor.code.value == saved and not editor.dirty
    assert state.library.versions("sentiment_cloze_en") == [1, 2]
    assert "In short,   it was" in html.unescape(editor.diff_output.value)
    editor.code.value = saved.replace("{{ text }}", "{{ text ")
    editor.save_button.click()
    assert "Jinja syntax error" in editor.messages.value and "Saved" not in editor.messages.value
    editor.open_template("rag_qa")
    assert editor.messages.value == "", "'Saved …@v2' does not stay while another template is open"


def test_switching_templates_with_unsaved_edits_asks_first(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    editor.code.value += "\n# my edit"
    editor.template_picker.value = "rag_qa"
    assert editor.current == "sentiment_cloze_en" and editor.confirm.layout.display == "flex"
    assert "unsaved edits" in editor.confirm_text.value and editor.code.value.endswith("# my edit")
    editor.keep_button.click()
    assert editor.confirm.layout.display == "none" and editor.code.value.endswith("# my edit")
    assert editor.template_picker.value == "sentiment_cloze_en", "the picker is back on the open template"
    editor.template_picker.value = "rag_qa"
    editor.discard_button.click()
    assert editor.current == "rag_qa" and editor.code.value.startswith("---\nname: rag_qa")


def test_every_library_template_saves_back_byte_identical(tmp_path, repo):
    lib = tmp_path / "lib"
    shutil.copytree(repo / "prompt_library", lib)
    state = WorkbenchState(library=PromptLibrary(lib), store=Store(tmp_path / "s.db"), datasets_dir=repo / "datasets")
    editor = TemplateEditor(state)
    for name in state.library.names():
        before = (lib / f"{name}.prompty").read_bytes()
        versions = state.library.versions(name)
        editor.open_template(name)
        editor.save()
        assert (lib / f"{name}.prompty").read_bytes() == before, name
        assert state.library.versions(name) == versions and "No changes" in editor.messages.value, name


def test_the_run_panel_defaults_to_the_templates_dataset_and_newest_version(state):
    panel, results = RunPanel(state), ResultsView(state)
    panel.template.value = "sentiment_cloze_en"
    assert panel.dataset.value.endswith("sentiment_en.csv") and panel.prompts.value == ("sentiment_cloze_en@v1",)
    panel.models.value = "uitest:a"
    panel.limit.value = 6
    panel.run_button.click()
    assert panel.result is not None and len(panel.result.records) == 6
    assert "pass rate" in panel.messages.value and panel.progress.value == 6 == panel.progress.max
    assert results.run_picker.value == panel.result.run_id
    panel.template.value = "rag_qa"
    assert panel.messages.value == "" and panel.dataset.value.endswith("rag_qa.jsonl")
    panel.models.value = ""
    panel.run_button.click()
    assert "at least one model spec" in panel.messages.value and not panel.run_button.disabled


def test_results_matrix_filters_compare_detail_and_marking(state):
    v1 = state.library.get("sentiment_cloze_en")
    v2 = state.library.save(v1.with_changes(body=v1.body.replace("Overall, it was", "All in all, it was"), version=1))
    rows = [
        {"id": f"r{i}", "text": t, "expected": e}
        for i, (t, e) in enumerate(
            [
                ("It rained all day.", "negative"),
                ("Lovely trip.", "positive"),
                ("I failed the exam.", "negative"),
                ("Rain again, but cosy.", "positive"),
            ]
        )
    ]
    model = FunctionModel(
        lambda p: " terrible" if "All in all" in p and "Lovely" in p else sentiment_guess(p), spec="function:ui"
    )
    result = run([v1, v2], rows, [model], store=state.store, progress=False)
    view = ResultsView(state)
    assert view.run_picker.value == result.run_id and len(view.frame) == 4  # 4 rows × 2 columns, nothing collapsed
    assert list(view.column_a.options) == ["sentiment_cloze_en@v1/function:ui", "sentiment_cloze_en@v2/function:ui"]
    assert "no significant difference" in view.comparison.value and "1 only in A" in view.comparison.value
    view.filter.value = "flipped"
    assert view.visible_ids == ["r1"] and "1 of 4 rows" in view.count.value
    view.filter.value = "failed"
    assert set(view.visible_ids) == {"r1", "r3"}
    view.filter.value, view.search.value = "all", "cosy"
    assert view.visible_ids == ["r3"]
    view.search.value = ""
    view.select_row("r1")
    assert "word diff" in view.detail.value and "All in all" in html.unescape(view.detail.value)
    assert "wb-template-diff" in view.detail.value, "a flipped row shows the template diff between the versions"
    view.mark_column.value = "sentiment_cloze_en@v2/function:ui"
    assert view.expected.value == "positive"
    view.tags.value, view.note.value = "wrong label", "v2 says terrible"
    case = view.mark_bad()
    assert case.version == 2 and case.note == "v2 says terrible" and "Bad case #" in view.messages.value
    assert view.tags.value == "" and view.note.value == "", "the next case does not inherit this note"
    csv_path, html_path = view.export("csv"), view.export("html")
    assert csv_path.read_text(encoding="utf-8").count("\n") == 5 and "✓" in html_path.read_text(encoding="utf-8")
    assert "<svg" in view.charts.value and "95% confidence interval" in view.charts.value


def test_runs_made_in_code_or_elsewhere_appear_and_review_defaults_follow_the_case(state, tmp_path):
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    v1 = state.library.get("sentiment_cloze_en")
    in_code = run(v1, state.datasets_dir / "sentiment_en.csv", ["uitest:x"], store=state.store, limit=6, progress=False)
    assert bench.results.run_picker.value == in_code.run_id, "a run made in code shows up without clicking"
    elsewhere = Store(state.store.path)  # another connection, as another process would have
    other = run(v1, state.datasets_dir / "sentiment_en.csv", ["uitest:y"], store=elsewhere, limit=4, progress=False)
    bench.refresh()
    assert other.run_id in [value for _, value in bench.results.run_picker.options]
    state.tracker.capture_failures(in_code)
    assert bench.review.cases, "captured in code, visible in the review"
    state.library.save(v1.with_changes(body=v1.body + "\n", version=1))
    bench.review.refresh()
    assert bench.review.recheck_prompt.value == "sentiment_cloze_en@v2"
    assert bench.review.recheck_model.value == "uitest:x"
    bench.review.tag_text.value = "rain"
    bench.review.tag_button.click()
    assert bench.review.tag_text.value == "" and "rain" in bench.review.card.value
    outcome = bench.review.recheck()
    assert outcome is not None and "Recheck with sentiment_cloze_en@v2" in bench.review.messages.value


def test_errors_are_messages_not_tracebacks(state):
    review = BadCaseReview(state)
    review.recheck_prompt.options = ["sentiment_cloze_en@v1"]
    review.recheck_prompt.value = "sentiment_cloze_en@v1"
    review.recheck()
    assert "No bad cases" in review.messages.value
    results = ResultsView(state)
    assert results.mark_bad() is None and "Click a row" in results.messages.value


def test_the_workbench_has_a_store_picker_and_a_runs_tab_and_refresh_keeps_what_each_tab_shows(state):
    v1 = state.library.get("sentiment_cloze_en")
    v2 = state.library.save(v1.with_changes(body=v1.body.replace("Overall, it was", "All in all, it was"), version=1))
    result = run([v1, v2], state.datasets_dir / "sentiment_en.csv", ["uitest:x"], store=state.store, progress=False)
    state.tracker.capture_failures(result)
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    assert list(bench.tabs.titles) == ["Template", "Run", "Results", "Runs", "Bad cases"]
    assert bench.store_picker.location.value == state.store.url
    view = bench.results
    view.filter.value = "failed"
    view.table.sort_by("input", descending=True)
    shown = view.visible_ids
    view.select_row(shown[1])
    bench.review.move(1)
    case = bench.review.current.id
    bench.refresh_button.click()
    assert view.run_picker.value == result.run_id and view.filter.value == "failed"
    assert view.table.sort == {"key": "input", "descending": True} and view.visible_ids == shown
    assert view.selected_row == shown[1] and f"Row {shown[1]}" in view.detail.value
    assert bench.review.current.id == case, "the case shown stays"
