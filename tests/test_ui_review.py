"""The Bad cases tab without a browser: a recheck covers what you chose (the case shown, or the list), names the
case that changed and keeps the version you picked; a clean table by category; no buttons for an empty queue."""

import html
import re

import pytest

from workbench.pipeline import run
from workbench.ui import BadCaseReview
from workbench.ui.testing import make_state

ROWS = [
    {"id": "rain", "text": "It rained all day.", "expected": "positive"},  # the model says terrible: fails
    {"id": "sun", "text": "A sunny walk.", "expected": "negative"},  # the model says great: fails
]


@pytest.fixture
def state(tmp_path, repo):
    return make_state(tmp_path, repo)


def _two_cases(state):
    """Two open cases of sentiment_cloze_en on uitest:a, and a v2 of the prompt."""
    v1 = state.library.get("sentiment_cloze_en")
    result = run(v1, ROWS, ["uitest:a"], store=state.store, progress=False)
    cases = state.tracker.capture_failures(result)
    state.library.save(v1.with_changes(body=v1.body + "\n", version=1))
    return {c.row_id: c for c in cases}


def _plain(widget) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)).split())


def test_a_recheck_covers_the_case_shown_and_names_the_case_that_changed(state):
    cases = _two_cases(state)
    rain, sun = cases["rain"], cases["sun"]
    state.tracker.annotate(rain.id, expected="negative")  # the reviewer corrects the expected label: now it passes
    state.tracker.set_status(sun.id, "fixed")  # hidden from the open queue (and it would fail again)
    review = BadCaseReview(state)
    assert [c.id for c in review.cases] == [rain.id]
    outcome = review.recheck()
    assert set(outcome.outcomes) == {rain.id}, "only the case shown, not every case of the prompt"
    assert state.tracker.get(sun.id).status == "fixed", "a hidden fixed case is not turned 'regressed'"
    message = _plain(review.messages)
    assert f"#{rain.id} open → fixed" in message, message
    assert "Recheck with sentiment_cloze_en@v2 on uitest:a" in message


def test_a_recheck_of_the_list_covers_the_cases_listed_and_reports_each_change(state):
    cases = _two_cases(state)
    rain, sun = cases["rain"], cases["sun"]
    state.tracker.annotate(rain.id, expected="negative")
    review = BadCaseReview(state)
    review.recheck_scope.value = "list"
    assert ("the 2 cases in this list", "list") in review.recheck_scope.options
    outcome = review.recheck()
    assert set(outcome.outcomes) == {rain.id, sun.id}
    message = _plain(review.messages)
    assert f"#{rain.id} open → fixed" in message and "1 still failing" in message, message


def test_the_version_you_pick_stays_while_you_move_through_the_cases(state):
    _two_cases(state)
    review = BadCaseReview(state)
    assert review.recheck_prompt.value == "sentiment_cloze_en@v2", "the newest by default"
    review.recheck_prompt.value = "sentiment_cloze_en@v1"
    review.move(1)
    review.refresh()
    assert review.recheck_prompt.value == "sentiment_cloze_en@v1", "no snapping back to the newest"
    review.recheck()
    assert review.recheck_prompt.value == "sentiment_cloze_en@v1"
    assert "Recheck with sentiment_cloze_en@v1" in _plain(review.messages)


def test_by_category_is_a_clean_table_of_categories_with_totals(state):
    cases = _two_cases(state)
    state.tracker.tag(cases["rain"].id, add=["a wrong label"])
    review = BadCaseReview(state)
    table = review.report.value
    assert "<th></th>" not in table and "<td></td>" not in table, "no empty header row"
    header = re.search(r"<thead>(.*?)</thead>", table).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", header) == ["category", "open", "total"]
    body = re.findall(r"<tr><td>([^<]*)</td>(.*?)</tr>", table)
    counts = {name: re.findall(r">(\d+)<", cells) for name, cells in body}
    assert counts == {"a wrong label": ["1", "1"], "scorer:label": ["1", "1"]}, "one row per category, counted once"


def test_the_queue_buttons_are_disabled_when_there_is_nothing_to_act_on(state):
    review = BadCaseReview(state)
    for button in (review.fixed_button, review.wontfix_button, review.reopen_button, review.tag_button):
        assert button.disabled, button.description
    assert review.recheck_button.disabled
    _two_cases(state)
    review.refresh()
    assert not review.fixed_button.disabled and not review.wontfix_button.disabled and not review.tag_button.disabled
    assert review.reopen_button.disabled, "an open case is not reopened"


def test_the_case_card_keeps_each_part_on_its_own_line(state):
    _two_cases(state)
    review = BadCaseReview(state)
    card = review.card.value
    assert re.search(r"tags: [^<]*</div><div class='wb-block'><b>Inputs</b>", card), "no 'tags: xInputs'"
    assert "{'text'" not in card, "inputs as a table, not a Python dict"


def test_one_case_is_one_case_and_a_new_store_starts_the_queue_afresh(state, tmp_path):
    """Issue 37, points 11 ("the 1 cases") and 5 (the last recheck's message stayed after switching stores)."""
    from workbench.store import Store

    v1 = state.library.get("sentiment_cloze_en")
    result = run(v1, ROWS[:1], ["uitest:a"], store=state.store, progress=False)
    state.tracker.capture_failures(result)
    review = BadCaseReview(state)
    assert [label for label, _ in review.recheck_scope.options] == ["the case shown", "the 1 case in this list"]
    review.recheck_button.click()
    assert "Recheck with sentiment_cloze_en@v1" in review.messages.value
    state.set_store(Store(tmp_path / "empty.db"))
    assert review.messages.value == "" and review.cases == [] and review.position.value == ""
    assert "No bad cases in this store yet. Mark one in Results" in _plain(review.card)
