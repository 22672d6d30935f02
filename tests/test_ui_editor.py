"""The Template tab without a browser: markers on the line of the mistake, "Not saved" that goes once fixed, two
editors on one file, readable version diffs, a preview that names its row, and names that must be new."""

import html
import re

import pytest

from workbench.ui import TemplateEditor
from workbench.ui.testing import make_state


@pytest.fixture
def state(tmp_path, repo):
    return make_state(tmp_path, repo)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _plain(widget) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)).split())


def _diff_lines(widget) -> list[str]:
    """The lines of a coloured diff (one ``<div>`` each)."""
    return [html.unescape(line) for line in re.findall(r"<div style='[^']*'>(.*?)</div>", widget.value)]


def test_markers_land_on_the_line_of_the_mistake_not_the_line_after(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    on_disk = editor.code.value
    unclosed = on_disk.replace("Text: {{ text }}", "Text: {{ text")  # the next line is plain text again
    editor.code.value = unclosed
    (marker,) = editor.code.markers
    assert marker["line"] == _line_of(unclosed, "Text: {{ text"), "the unclosed {{ is on this line"
    assert f".prompty:{marker['line']}:" in marker["message"], "the message names the same line"
    badly_indented = on_disk.replace("  parser: label", "   parser: label")  # one space too many
    editor.code.value = badly_indented
    (marker,) = editor.code.markers
    assert marker["line"] == _line_of(badly_indented, "   parser: label")
    editor.code.value = on_disk
    assert editor.code.markers == []


def test_a_refused_save_says_not_saved_and_the_message_goes_once_the_text_is_fixed(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    good = editor.code.value
    editor.code.value = good.replace("{{ text }}", "{{ text ")
    assert editor.save() is None
    assert "Not saved" in editor.messages.value and "Jinja syntax error" in editor.messages.value
    editor.code.value = good + "\n"  # fixed (and changed)
    assert "wb-error" not in editor.messages.value, "a fixed error does not stay above the editor"
    assert editor.save() is not None and "Saved sentiment_cloze_en@v2" in editor.messages.value


def test_a_second_editor_on_the_same_file_is_warned_and_never_overwrites_silently(state):
    first, second = TemplateEditor(state), TemplateEditor(state)
    for editor in (first, second):
        editor.open_template("sentiment_cloze_en")
    path = state.library.path_of("sentiment_cloze_en")
    second.code.value = second.code.value.replace("Overall, it was", "All in all, it was")
    assert second.save().version == 2
    theirs = path.read_text(encoding="utf-8")
    first.code.value = first.code.value.replace("Text: {{ text }}", "Review: {{ text }}")  # still on v1's text
    assert first.disk_warning.layout.display == "flex", "warned while typing, before any save"
    assert "changed on disk" in _plain(first.disk_text) and "now v2" in _plain(first.disk_text)
    assert first.save() is None and "Not saved" in first.messages.value
    assert path.read_text(encoding="utf-8") == theirs, "v2's change is still in the file"
    assert state.library.versions("sentiment_cloze_en") == [1, 2]
    first.disk_diff_button.click()
    shown = _plain(first.disk_diff)
    assert "All in all, it was" in shown and "Review: {{ text }}" in shown, "both changes in the difference"
    first.overwrite_button.click()  # the user chooses: mine as the next version, on top of theirs
    assert state.library.versions("sentiment_cloze_en") == [1, 2, 3]
    assert "Review: {{ text }}" in path.read_text(encoding="utf-8")
    assert "All in all, it was" in state.library.get("sentiment_cloze_en", 2).to_text(), "theirs stays in history"
    second.code.value += "\n"
    assert second.disk_warning.layout.display == "flex"
    second.reload_button.click()
    assert second.code.value == path.read_text(encoding="utf-8") and second.disk_warning.layout.display == "none"


def test_the_version_diff_is_compact_and_starts_with_the_real_change(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    editor.code.value = editor.code.value.replace("Overall, it was", "All in all, it was")
    editor.save()
    diff = editor.diff_output.value
    lines = _diff_lines(editor.diff_output)
    changed = [line for line in lines if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
    assert changed and "All in all, it was" in " ".join(changed[:2]), "the real change comes first"
    assert not any(line.lstrip("+-").startswith("version:") for line in changed)
    assert "v1 → v2" in _plain(editor.diff_output), "the version numbers are still said"
    assert "line-height:1.35" in diff and "max-height:40em" in diff, "single-spaced, in a tall box"


def test_the_preview_names_the_row_id_and_the_expected_label(state):
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    editor.row.value = 2
    from workbench.datasets import load_dataset

    data = load_dataset(editor.dataset.value)
    row = data.rows[2]
    heading = _plain(editor.preview).split("Text:")[0]
    assert f"row 2 of {len(data)}" in heading and str(row[data.id_column]) in heading
    assert f"expected {row['expected']}" in heading


def test_a_new_template_with_an_existing_name_is_refused(state):
    editor = TemplateEditor(state)
    editor.template_picker.value = "(new template)"
    text = editor.code.value.replace("name: my_prompt", "name: sentiment_cloze_en")
    editor.code.value = text
    assert editor.save() is None
    message = html.unescape(editor.messages.value)
    assert "Not saved" in message and "already has a template named 'sentiment_cloze_en'" in message
    assert "another name" in message, "says what to do in the UI"
    assert editor.code.markers and editor.code.markers[0]["line"] == _line_of(text, "name:")
    assert state.library.versions("sentiment_cloze_en") == [1]
    editor.code.value = text.replace("name: sentiment_cloze_en", "name: my_sentiment")
    assert editor.save().name == "my_sentiment"


def test_editor_polish_not_saved_goes_with_the_text_one_full_stop_the_question_goes_the_edits_are_marked(state):
    """Issue 37, point 8."""
    editor = TemplateEditor(state)
    editor.open_template("sentiment_cloze_en")
    good = editor.code.value
    assert editor.unsaved.value == ""
    editor.code.value = good.rstrip("\n") + " {{ text\n"  # an unclosed {{ at the end of the file
    assert "● unsaved edits" in editor.unsaved.value, "marked as soon as the text differs from the file"
    assert editor.save() is None and "Not saved" in editor.messages.value
    assert "'end of print statement'. Check" in _plain(editor.messages), "one full stop, not '..'"
    assert ".." not in _plain(editor.messages).replace("...", "")
    editor.code.value = good.rstrip("\n") + " {{ text }\n"  # changed, still broken
    assert "Not saved" not in editor.messages.value, "the refusal was about a text that is gone"
    assert "Jinja syntax error" in editor.preview.value, "the preview still says what is wrong now"
    editor.template_picker.value = "rag_qa"  # unsaved edits: the editor asks first
    assert editor.confirm.layout.display == "flex"
    editor.template_picker.value = "sentiment_cloze_en"  # the open template chosen again
    assert editor.confirm.layout.display == "none" and editor.current == "sentiment_cloze_en"
    editor.code.value = good.replace("Overall, it was", "In short, it was")
    editor.save()
    assert editor.unsaved.value == "", "saved: nothing unsaved"


def test_a_second_workbench_in_the_kernel_shows_a_version_the_first_saved_at_once(state):
    """Issue 37, point 9: the widgets of one kernel share one notification of saves."""
    from workbench.ui import Workbench

    first = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    second = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    first.editor.template_picker.value = "sentiment_cloze_en"  # the Run tab follows
    second.editor.template_picker.value = "sentiment_cloze_en"
    second.editor.code.value = second.editor.code.value.replace("Overall, it was", "In short, it was")
    saved = second.editor.save()
    assert saved.version == 2
    assert first.editor.disk_warning.shown, "the first editor says the file changed, without typing or Refresh"
    assert "v2" in [label for label, _ in first.editor.diff_b.options]
    assert "sentiment_cloze_en@v2" in first.run_panel.prompts.options
    assert "sentiment_cloze_en@v2" in [ref for ref in first.review.recheck_prompt.options]
