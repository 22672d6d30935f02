"""The Run tab without a browser: choices that stay through Refresh and saves (so a second Run resumes), the
versions hint, the temperature that only applies without the template's parameters, and all rows by default."""

import pytest

from workbench.datasets import load_dataset
from workbench.ui import Workbench
from workbench.ui.testing import make_state


@pytest.fixture
def bench(tmp_path, repo):
    state = make_state(tmp_path, repo)
    return Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)


def test_refresh_keeps_the_run_tabs_choices_and_status_and_updates_the_template_list(bench, repo):
    v1 = bench.state.library.get("sentiment_cloze_en")
    bench.state.library.save(v1.with_changes(body=v1.body + "\n# v2", version=1))
    panel = bench.run_panel
    panel.template.value = "sentiment_cloze_en"
    panel.prompts.value = ("sentiment_cloze_en@v2", "sentiment_cloze_en@v1")  # both, chosen by the user
    panel.models.value, panel.limit.value = "uitest:a", 4
    panel.run_button.click()
    status = panel.messages.value
    assert "Run " in status
    (repo_file,) = [repo / "prompt_library" / "sentiment_cloze_zh.prompty"]
    (bench.state.library.root / repo_file.name).write_text(repo_file.read_text(encoding="utf-8"), encoding="utf-8")
    bench.refresh_button.click()
    assert set(panel.prompts.value) == {"sentiment_cloze_en@v1", "sentiment_cloze_en@v2"}, "the choice stays"
    assert panel.messages.value == status and panel.models.value == "uitest:a" and panel.limit.value == 4
    assert "sentiment_cloze_zh" in dict(bench.editor.template_picker.options).values(), (
        "the Template tab's list is updated"
    )
    assert "sentiment_cloze_zh" in panel.template.options
    panel.run_button.click()
    assert "0 model calls" in panel.messages.value, "the same choices again: answered from what is stored"


def test_saving_a_template_does_not_switch_the_run_tab(bench):
    panel = bench.run_panel
    panel.template.value = "rag_qa"
    panel.models.value = "uitest:a"
    bench.editor.open_template("sentiment_cloze_en")
    bench.editor.code.value = bench.editor.code.value.replace("Overall, it was", "All in all, it was")
    assert bench.editor.save().version == 2
    assert panel.template.value == "rag_qa" and panel.models.value == "uitest:a"
    panel.template.value = "sentiment_cloze_en"
    assert panel.prompts.value == ("sentiment_cloze_en@v2",), "a template opened afresh defaults to its newest"


def test_a_save_of_the_shown_template_moves_its_default_version_but_not_a_users_choice(bench):
    panel = bench.run_panel
    panel.template.value = "sentiment_cloze_en"
    editor = bench.editor
    editor.open_template("sentiment_cloze_en")
    editor.code.value += "\n# two"
    editor.save()
    assert panel.prompts.value == ("sentiment_cloze_en@v2",), "the default follows the newest"
    panel.prompts.value = ("sentiment_cloze_en@v1",)
    editor.code.value += "\n# three"
    editor.save()
    assert panel.prompts.value == ("sentiment_cloze_en@v1",), "a version the user chose stays chosen"
    assert "sentiment_cloze_en@v3" in panel.prompts.options


def test_the_versions_list_says_how_to_choose_several_and_parameters_follow_the_checkbox(bench):
    panel = bench.run_panel
    assert "Ctrl-click" in panel.versions_hint.value and "Shift-click" in panel.versions_hint.value
    css = bench.run_panel.children[0].value
    assert ".wb-run-versions select option:checked" in css, "chosen versions do not look disabled"
    assert panel.use_template_params.value and panel.temperature.disabled
    panel.use_template_params.value = False
    assert not panel.temperature.disabled
    panel.use_template_params.value = True
    assert panel.temperature.disabled


def test_rows_default_to_the_whole_dataset_and_say_how_many_it_has(bench):
    panel = bench.run_panel
    panel.template.value = "sentiment_cloze_en"
    size = len(load_dataset(panel.dataset.value))
    assert panel.limit.value == 0, "0 = all rows"
    assert f"of {size} rows" in panel.dataset_size.value


def test_the_run_tab_follows_the_template_tabs_prompt(bench):
    """Issue 37, point 7: opening a template in the Template tab is choosing what to run."""
    panel = bench.run_panel
    assert bench.editor.current == panel.template.value == "rag_qa"
    bench.editor.template_picker.value = "sentiment_cloze_en"
    assert panel.template.value == "sentiment_cloze_en" and panel.dataset.value.endswith("sentiment_en.csv")
    bench.state.running = True  # not while a run is going
    bench.editor.template_picker.value = "rag_qa"
    assert panel.template.value == "sentiment_cloze_en"


def test_opening_another_store_clears_what_the_run_tab_said_about_the_last_run(bench, tmp_path):
    """Issue 37, point 5."""
    panel = bench.run_panel
    panel.template.value = "sentiment_cloze_en"
    panel.models.value = "uitest:a"
    panel.limit.value = 2
    panel.run_button.click()
    assert "Run " in panel.messages.value and panel.progress_label.value == "2 / 2 · done"
    bench.store_picker.open_location(str(tmp_path / "other.db"), create=True)
    assert panel.messages.value == panel.progress_label.value == "" and panel.result is None
    assert panel.template.value == "sentiment_cloze_en" and panel.limit.value == 2, "the choices stay"
