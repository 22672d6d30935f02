"""The Results tab without a browser: what the row detail shows, marking a bad case in a fresh workbench, sorting
that survives filters, one search, short headers, A/B defaults, exports with a link, and staying on the run under
review while rechecks and stopped runs come in."""

import html
import re

import pytest

from workbench.pipeline import run
from workbench.testing.models import FunctionModel
from workbench.ui import ResultsView, Workbench
from workbench.ui.testing import make_state, sentiment_guess

ROWS = [
    {"id": f"r{i}", "text": text, "expected": expected}
    for i, (text, expected) in enumerate(
        [
            ("It rained all day.", "negative"),
            ("Lovely trip.", "positive"),
            ("I failed the exam.", "negative"),
            ("Rain again, but cosy.", "positive"),
        ]
    )
]


@pytest.fixture
def state(tmp_path, repo):
    return make_state(tmp_path, repo)


def _versions(state, count: int):
    """``count`` versions of sentiment_cloze_en, each with its own last line."""
    templates = [state.library.get("sentiment_cloze_en")]
    for i in range(2, count + 1):
        last = templates[-1]
        body = last.body.replace("Overall, it was", f"Verdict {i}: it was") if i == 2 else last.body + f"\n# v{i}"
        templates.append(state.library.save(last.with_changes(body=body, version=last.version)))
    return templates


def _text(widget) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)).split())


def test_the_row_detail_shows_the_rendered_prompt_parsed_value_scores_with_reasons_latency_and_tokens(state):
    result = run(state.library.get("sentiment_cloze_en"), ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    view.select_row("r1")
    record = next(r for r in result.records if r.row_id == "r1")
    detail = html.unescape(view.detail.value)
    assert "Rendered prompt" in detail and "Text: Lovely trip." in detail, "what the model really saw"
    assert html.unescape(html.escape(record.rendered)) in detail
    assert f"parsed value: <code>{record.parsed}</code>" in detail
    for score in record.scores:
        assert score["name"] in detail and score["reason"] in detail, "each score with its reason"
    assert f"latency {record.latency_ms:.0f} ms" in detail
    assert f"{record.prompt_tokens} prompt + {record.completion_tokens} completion tokens" in detail
    assert "{'text'" not in detail and "<table class='wb-plain wb-inputs'>" in detail, "inputs as a table, not a dict"


def test_the_detail_keeps_its_parts_apart(state):
    v1, v2 = _versions(state, 2)
    run([v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    view.select_row("r1")
    detail = view.detail.value
    assert re.search(r"</span></div><div class='wb-block'><b>What changed between the versions</b>", detail), (
        "the word diff ends its block before the template diff starts (no '累开心What changed…')"
    )
    assert detail.count("<div class='wb-detail-column'>") == 2, "each column's cell in a block of its own"


def test_mark_as_bad_case_works_in_a_fresh_workbench_without_choosing_the_column(state):
    v1, v2 = _versions(state, 2)
    run([v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    view = bench.results
    assert view.mark_column.value == "sentiment_cloze_en@v2/uitest:a", "'Result of' is never blank"
    view.select_row("r3")  # "Rain again, but cosy." — the model says terrible: both versions fail
    case = view.mark_bad()
    assert case is not None and case.version == 2 and "Bad case #" in view.messages.value
    assert "Select a row" not in view.messages.value


def test_the_detail_sits_beside_the_table_and_the_selected_row_keeps_its_colours(state):
    run(state.library.get("sentiment_cloze_en"), ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    holding_both = [b for b in _boxes(view) if view.table in _descendants(b) and view.detail in _descendants(b)]
    beside = min(holding_both, key=lambda box: len(_descendants(box)))  # the innermost box holding both
    assert beside.layout.flex_flow == "row wrap", "the detail is beside the table (below it on a narrow screen)"
    assert view.table.reveal == ".wb-row-detail", "a click scrolls the detail into view when it is off-screen"
    selected_rule = re.search(r"\.wb-selected td \{([^}]*)\}", view.table._css).group(1)  # the CSS the page gets
    assert "background" not in selected_rule and "color: inherit" in selected_rule, "✓/✗ colours stay readable"


def test_a_header_click_sorts_and_the_sort_survives_filters_and_the_search(state):
    v1, v2 = _versions(state, 2)
    run([v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    view.table.sort_by("input")  # what a click on the header does
    assert view.visible_ids == ["r2", "r0", "r1", "r3"], "I failed…, It rained…, Lovely…, Rain again…"
    view.table.sort_by("input", descending=True)  # clicked again
    assert view.visible_ids == ["r3", "r1", "r0", "r2"]
    view.filter.value = "failed"
    assert view.table.sort == {"key": "input", "descending": True}
    failed = view.visible_ids
    assert failed == sorted(failed, key=lambda r: next(x["text"] for x in ROWS if x["id"] == r).casefold())[::-1]
    view.filter.value, view.search.value = "all", "rain"
    assert view.table.sort == {"key": "input", "descending": True} and view.visible_ids == ["r3", "r0"]


def test_there_is_one_search_box_and_its_counter_matches_the_table(state):
    run(state.library.get("sentiment_cloze_en"), ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    searches = [t for t in _descendants(view) if getattr(t, "placeholder", "").startswith("search")]
    assert searches == [view.search]
    assert "_dt_args" not in dir(view.table), "no table with a search box of its own"
    view.search.value = "lovely"
    assert "1 of 4 rows" in view.count.value and view.table.total == 1 == len(view.visible_ids)


def test_headers_are_short_and_columns_keep_a_readable_width(state):
    templates = _versions(state, 3)
    run(templates, ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    labels = {c["key"]: c for c in view.table.columns}
    assert [labels[c]["label"] for c in view.columns] == ["v1", "v2", "v3"], "the shared prompt and model go"
    assert labels["sentiment_cloze_en@v3/uitest:a"]["title"] == "sentiment_cloze_en@v3/uitest:a", "full name on hover"
    assert labels["input"]["min_width"] == "10em", "the input column is not squeezed to a few characters"
    assert labels["input"]["kind"] == "text", "on a narrow screen the text is cut (whole on hover), not the verdicts"
    assert {labels[c]["kind"] for c in view.columns} == {"verdict"}
    assert re.search(r"\.wb-table-scroll \{[^}]*overflow-x: auto", view.table._css), "a narrow screen scrolls it"


def test_a_and_b_default_to_the_two_newest_versions_and_columns_run_oldest_to_newest(state):
    v1, v2, v3 = _versions(state, 3)
    run([v3, v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)  # chosen newest first
    view = ResultsView(state)
    assert (view.column_a.value, view.column_b.value) == (
        "sentiment_cloze_en@v2/uitest:a",
        "sentiment_cloze_en@v3/uitest:a",
    )
    shown = [c["key"] for c in view.table.columns if "@" in c["key"]]
    assert shown == [f"sentiment_cloze_en@v{v}/uitest:a" for v in (1, 2, 3)]


def test_exports_go_to_a_visible_folder_with_a_link_the_jupyter_server_opens(state, tmp_path, monkeypatch):
    import workbench.ui.links as links

    monkeypatch.setattr(links, "running_servers", lambda: [{"root_dir": str(tmp_path), "base_url": "/lab-base/"}])
    result = run(state.library.get("sentiment_cloze_en"), ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    path = view.export("csv")
    assert path == state.exports_dir / f"{result.run_id}-matrix.csv" and path.exists()
    assert not any(part.startswith(".") for part in path.relative_to(tmp_path).parts), "not hidden from the server"
    assert f"href='/lab-base/files/exports/{result.run_id}-matrix.csv'" in view.messages.value
    assert view.export("html").read_text(encoding="utf-8").count("✓") >= 1


def test_a_recheck_joins_the_run_list_without_replacing_the_run_under_review(state):
    v1 = state.library.get("sentiment_cloze_en")
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    reviewed = run(
        v1, state.datasets_dir / "sentiment_en.csv", ["uitest:a"], store=state.store, limit=8, progress=False
    )
    assert bench.results.run_picker.value == reviewed.run_id
    state.tracker.capture_failures(reviewed)
    bench.review.refresh()
    outcome = bench.review.recheck()
    assert outcome is not None
    assert bench.results.run_picker.value == reviewed.run_id, "the 8-row run under review stays"
    labels = dict((value, label) for label, value in bench.results.run_picker.options)
    assert "recheck" in labels[outcome.run_id] and "recheck" not in labels[reviewed.run_id]


def test_results_show_what_a_stopped_run_stored(state):
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    panel = bench.run_panel
    calls = []

    def answer_then_stop(prompt: str) -> str:
        calls.append(prompt)
        if len(calls) == 3:
            panel.stop()  # the user presses Stop while the third cell is answered
        return sentiment_guess(prompt)

    from workbench.models import register_provider

    register_provider("stopper", lambda spec, **kw: FunctionModel(answer_then_stop, spec=spec, concurrency=1))
    panel.template.value = "sentiment_cloze_en"
    panel.models.value = "stopper:x"
    panel.run_button.click()
    (stopped,) = state.store.runs()
    stored = state.store.result_count(stopped["id"])
    assert "Stopped" in panel.messages.value and 0 < stored < 24
    assert bench.results.run_picker.value == stopped["id"], "Results shows the stopped run, no Refresh needed"
    assert f"{stored} of {stored} rows" in bench.results.count.value and len(bench.results.visible_ids) == stored
    assert f"Stopped: {stored} of 24 cells of run {stopped['id']}" in panel.messages.value


def _descendants(widget) -> list:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += _descendants(child)
    return found


def _boxes(widget) -> list:
    return [w for w in _descendants(widget) if getattr(w, "children", None)]


def _stopping_provider(name: str, panel, after: int) -> None:
    """``NAME:x`` answers as the UI test model and presses the panel's Stop while its ``after``-th cell runs."""
    from workbench.models import register_provider

    calls = []

    def answer(prompt: str) -> str:
        calls.append(prompt)
        if len(calls) == after:
            panel.stop()
        return sentiment_guess(prompt)

    register_provider(name, lambda spec, **kw: FunctionModel(answer, spec=spec, concurrency=1))


def test_after_stop_and_run_again_a_and_b_follow_the_runs_columns(state):
    """Issue 37, point 1: a v1+v2 run stopped while only v1's cells were stored, then resumed: A and B become v1 and
    v2 (they were v1 and v1, with no verdict)."""
    _versions(state, 2)
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    panel, results = bench.run_panel, bench.results
    _stopping_provider("stopper_ab", panel, after=3)
    panel.template.value = "sentiment_cloze_en"
    panel.prompts.value = ("sentiment_cloze_en@v2", "sentiment_cloze_en@v1")
    panel.models.value = "stopper_ab:x"
    panel.limit.value = 8
    panel.run_button.click()
    v1, v2 = "sentiment_cloze_en@v1/stopper_ab:x", "sentiment_cloze_en@v2/stopper_ab:x"
    assert "Stopped" in panel.messages.value and results.columns == [v1], "only v1's cells were stored"
    assert (results.column_a.value, results.column_b.value) == (v1, v1)
    panel.run_button.click()  # Run again with the same choices: the run resumes
    assert "16 / 16" in panel.progress_label.value and results.columns == [v1, v2]
    assert (results.column_a.value, results.column_b.value) == (v1, v2)
    assert "paired rows" in results.comparison.value and "Choose two different" not in results.comparison.value
    results.column_a.value, results.column_b.value = v2, v1  # the user's own choice stays on a re-read
    results.refresh_button.click()
    assert (results.column_a.value, results.column_b.value) == (v2, v1)


def test_rows_come_in_the_datasets_order_until_a_header_is_clicked_and_the_order_is_said(state):
    """Issue 37, point 10: the "all" matrix was in the core's order (flipped rows first)."""
    v1, v2 = _versions(state, 2)
    model = FunctionModel(lambda p: " terrible" if "Verdict 2" in p and "cosy" in p else sentiment_guess(p), spec="f:o")
    run([v1, v2], ROWS, [model], store=state.store, progress=False)
    view = ResultsView(state)
    assert view.visible_ids == ["r0", "r1", "r2", "r3"], "r3 flipped, but it is the dataset's fourth row"
    assert "4 of 4 rows (all) · in the dataset's order (click a header to sort)" in _text(view.count)
    view.table.sort_by("input", descending=True)
    assert "sorted by text, descending" in _text(view.count)
    view.table.sort_by(None)
    assert view.visible_ids == ["r0", "r1", "r2", "r3"] and "dataset's order" in _text(view.count)


def test_marking_a_row_again_for_another_version_says_the_case_exists_and_what_changed(state):
    """Issue 37, point 6: the second mark answered "Bad case #1" again and silently moved the case to v2."""
    v1, v2 = _versions(state, 2)
    run([v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    view.select_row("r3")
    view.mark_column.value = "sentiment_cloze_en@v1/uitest:a"
    first = view.mark_bad()
    assert f"Bad case #{first.id} (open) for sentiment_cloze_en@v1/uitest:a" in view.messages.value
    view.mark_column.value = "sentiment_cloze_en@v2/uitest:a"
    second = view.mark_bad()
    said = html.unescape(view.messages.value)
    assert second.id == first.id and second.version == 2
    assert f"Row r3 already was bad case #{first.id} (found in sentiment_cloze_en@v1/uitest:a)" in said
    assert "updated it to the result of sentiment_cloze_en@v2/uitest:a" in said


def test_on_a_narrow_screen_verdicts_keep_their_width_and_text_is_cut_with_the_whole_on_hover(state):
    """Issue 37, point 4 (the browser test looks at 900 px; here: what the table is told)."""
    long_text = "A very long review that goes on and on about the weather and the food and the trip " * 4
    rows = [*ROWS, {"id": "r4", "text": long_text, "expected": "positive"}]
    run(list(_versions(state, 3)), rows, ["uitest:a"], store=state.store, progress=False)
    view = ResultsView(state)
    kinds = {c["key"]: c["kind"] for c in view.table.columns}
    assert kinds["input"] == "text" and kinds["row"] == kinds["expected"] == "key"
    assert [kinds[c] for c in view.columns] == ["verdict"] * 3
    view.select_row("r4")
    cell = view.table.rows[view.table.page_ids.index("r4")]["cells"][1]
    assert f"title='{html.escape(long_text.strip(), quote=True)}" in cell and "wb-cell-text" in cell
    css = view.table._css if isinstance(view.table._css, str) else view.table._css.read_text()
    assert re.search(r"td\.wb-col-verdict \{[^}]*min-width: 9em", css), "verdict columns keep their width"
    assert re.search(r"\.wb-cell-text \{[^}]*-webkit-line-clamp: 2", css), "text is cut to two lines"
    js = view.table._esm if isinstance(view.table._esm, str) else view.table._esm.read_text()
    assert "wb-table-scroll-hint" in js and 'word("scroll_hint")' in js
    assert view.table.labels["scroll_hint"].startswith("↔ The table scrolls sideways")


def test_a_new_store_says_what_to_do_first_and_returning_to_a_store_opens_the_run_under_review(state, tmp_path):
    """Issue 37, points 5 and 11: nothing of the old store's run stays; an empty store is not "no rows match"."""
    v1, v2 = _versions(state, 2)
    first = run([v1, v2], ROWS, ["uitest:a"], store=state.store, progress=False)
    run(v1, ROWS, ["uitest:a"], store=state.store, progress=False)  # a newer run: the default pick
    bench = Workbench(library=state.library.root, store=state.store, datasets=state.datasets_dir)
    view = bench.results
    view.run_picker.value = first.run_id
    view.select_row("r1")
    view.filter.value = "failed"
    view.mark_bad()
    assert view.messages.value and view.detail.value
    bench.store_picker.open_location(str(tmp_path / "empty.db"), create=True)
    assert view.run_picker.options == () and view.records == [] and view.table.total == 0
    assert view.messages.value == view.detail.value == view.comparison.value == view.count.value == ""
    assert view.table.empty_text.startswith("No runs in this store yet. Run something first")
    bench.store_picker.open_location(str(state.store.path))
    assert view.run_picker.value == first.run_id, "back in the store: the run under review, not the newest"
    assert view.filter.value == "all" and view.selected_row is None
