"""Drive the widgets without a browser: set values, click buttons, read what the panels show."""

import html
import shutil

import pytest

from workbench.models import register_provider
from workbench.models.testing import FunctionModel
from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.ui import BadCaseReview, ResultsView, RunPanel, TemplateEditor, Workbench, WorkbenchState


def sentiment_guess(prompt: str) -> str:
    """Says 'great' unless the last text mentions rain or failing: right on some rows, wrong on others."""
    last = prompt.rsplit("Text:", 1)[-1].lower()
    return " terrible" if ("rain" in last or "fail" in last) else " great"


register_provider("uitest", lambda spec, **kw: FunctionModel(sentiment_guess, spec=spec))


@pytest.fixture
def state(tmp_path, repo):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(repo / "prompt_library" / "sentiment_cloze_en.prompty", lib)
    shutil.copy(repo / "prompt_library" / "rag_qa.prompty", lib)
    return WorkbenchState(library=PromptLibrary(lib), store=Store(tmp_path / "ui.db"), datasets_dir=repo / "datasets")


def test_editor_preview_errors_save_and_diff(state):
    editor = TemplateEditor(state)
    editor.template_picker.value = "sentiment_cloze_en"
    assert "text" in editor.variables.value and "Overall, it was" in editor.preview.value
    editor.dataset.value = next(d for d in editor.dataset.options if d.endswith("sentiment_en.csv"))
    editor.row.value = 2
    assert "It rained all day" in editor.preview.value
    editor.text.value = editor.text.value.replace("{{ text }}", "{{ text ")
    assert "Jinja syntax error" in editor.preview.value and "sentiment_cloze_en.prompty:" in editor.preview.value
    editor.text.value = editor.text.value.replace("{{ text \n", "{{ txt }}\n")
    assert "Unknown variable 'txt'" in html.unescape(editor.preview.value)
    editor.text.value = state.library.get("sentiment_cloze_en").to_text().replace("Overall, it was", "In short, it was")
    editor.save_button.click()
    assert "Saved sentiment_cloze_en@v2" in editor.message.value
    assert state.library.versions("sentiment_cloze_en") == [1, 2]
    assert "+In short, it was" in editor.diff_output.value


def test_run_panel_runs_reports_and_feeds_results(state):
    panel, results = RunPanel(state), ResultsView(state)
    panel.dataset.value = next(d for d in panel.dataset.options if d.endswith("sentiment_en.csv"))
    panel.prompts.value = ("sentiment_cloze_en@v1",)
    panel.models.value = "uitest:a"
    panel.limit.value = 6
    panel.run_button.click()
    assert panel.result is not None and len(panel.result.records) == 6
    assert "pass rate" in panel.status.value and panel.progress.value == 6
    assert results.run_picker.value == panel.result.run_id
    assert "great" in results.table.value and "<svg" in results.charts.value
    results.filter.value = "failed"
    failed = [r for r in panel.result.records if r.passed is False]
    assert len(results.row_picker.options) == len(failed) > 0
    assert "Rendered prompt" in results.detail.value


def test_run_panel_errors_are_messages_not_tracebacks(state):
    panel = RunPanel(state)
    panel.models.value = ""
    panel.run_button.click()
    assert "at least one model spec" in panel.status.value
    panel.models.value = "openai:nothing@http://127.0.0.1:9/v1"
    panel.prompts.value = ("sentiment_cloze_en@v1",)
    panel.dataset.value = next(d for d in panel.dataset.options if d.endswith("topics_en.csv"))
    panel.run_button.click()
    assert "no column 'text'" in html.unescape(panel.status.value)  # wrong dataset: before any model call


def test_mark_bad_review_and_recheck(state):
    panel, results, review = RunPanel(state), ResultsView(state), BadCaseReview(state)
    panel.dataset.value = next(d for d in panel.dataset.options if d.endswith("sentiment_en.csv"))
    panel.prompts.value = ("sentiment_cloze_en@v1",)
    panel.models.value = "uitest:b"
    panel.limit.value = 6
    panel.run_button.click()
    results.filter.value = "failed"
    results.tags.value = "wrong label, too positive"
    results.note.value = "misses negative events"
    results.mark_button.click()
    assert "Bad case #1" in results.message.value
    assert "#1" in review.card.value and "wrong label" in review.card.value
    review.recheck_prompt.value = "sentiment_cloze_en@v1"
    review.recheck_model.value = "uitest:b"
    review.recheck_button.click()
    assert "still failing: 1" in review.message.value
    review.fixed_button.click()
    review.status_filter.value = "fixed"
    assert "[fixed]" in review.card.value and "wrong label" in review.report.value


def test_whole_workbench_wires_the_panels(state, tmp_path):
    bench = Workbench(library=state.library.root, store=tmp_path / "wb.db", datasets=state.datasets_dir)
    assert [bench.tabs.get_title(i) for i in range(4)] == ["Template", "Run", "Results", "Bad cases"]
    bench.run_panel.prompts.value = ("sentiment_cloze_en@v1",)
    bench.run_panel.models.value = "uitest:c"
    bench.run_panel.limit.value = 3
    bench.run_panel.dataset.value = next(d for d in bench.run_panel.dataset.options if d.endswith("sentiment_en.csv"))
    bench.run_panel.run_button.click()
    assert bench.tabs.selected_index == 2 and bench.results.records
    bench.editor.template_picker.value = "sentiment_cloze_en"
    bench.editor.text.value = bench.editor.text.value.replace("Overall", "All told")
    bench.editor.save_button.click()
    assert "sentiment_cloze_en@v2" in bench.run_panel.prompts.options
