"""The tool scorers: each match mode and argument mode on calls made against expected calls, the reason of every
failure, and invalid calls (an undeclared tool, schema-breaking arguments) as failures with that reason."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from workbench.errors import ConfigError
from workbench.scoring import ScoreContext, make_scorer
from workbench.tools.expected import CallMatcher, parse_expected

W = {"name": "get_weather", "arguments": {"city": "Paris"}}
C = {"name": "convert", "arguments": {"amount": 100, "to": "EUR"}}
S = {"name": "search", "arguments": {"query": "pasta"}}


def _ctx(calls, expected=None, steps=None):
    generation = SimpleNamespace(tool_calls=tuple(calls), trajectory=tuple(steps or [{"step": 1}]))
    row = {} if expected is None else {"expected_tool_calls": expected}
    return ScoreContext("", None, None, row, generation=generation)


@pytest.mark.parametrize(
    "match, made, expected, passed",
    [
        ("exact", [W, C], [W, C], True),
        ("exact", [C, W], [W, C], False),
        ("exact", [W, C, S], [W, C], False),
        ("ordered", [W, S, C], [W, C], True),
        ("ordered", [C, W], [W, C], False),
        ("unordered", [C, W], [W, C], True),
        ("unordered", [C, W, S], [W, C], False),
        ("subset", [W], [W, C], True),
        ("subset", [W, S], [W, C], False),
        ("superset", [S, C, W], [W, C], True),
        ("superset", [W], [W, C], False),
        ("exact", [], [], True),
        ("exact", [W], [], False),
    ],
)
def test_each_match_mode(match, made, expected, passed):
    assert CallMatcher(match, "exact").compare(made, expected)[0] is passed


def test_argument_modes_tolerance_and_normalised_text():
    made = [{"name": "convert", "arguments": {"amount": 100.004, "to": "eur", "note": "x"}}]
    assert not CallMatcher("exact", "exact", tolerance=0.01).compare(made, [C])[0], "an extra argument is not exact"
    assert CallMatcher("exact", "partial", tolerance=0.01).compare(made, [C])[0]
    assert not CallMatcher("exact", "partial").compare(made, [C])[0], "no tolerance: 100.004 != 100"
    assert not CallMatcher("exact", "partial", tolerance=0.01, normalize=False).compare(made, [C])[0]
    assert CallMatcher("exact", "ignore").compare([{"name": "convert", "arguments": {}}], [C])[0]
    assert CallMatcher("exact", "exact").compare([{"name": "search", "arguments": {"q": 1}}], [{"name": "search"}])[0]


def test_the_reason_names_what_differed():
    wrong_city = [{"name": "get_weather", "arguments": {"city": "Lyon"}}]
    ok, score, reason = CallMatcher("exact", "partial").compare(wrong_city, [W])
    assert not ok and score == 0 and reason == 'get_weather: argument city = "Lyon", expected "Paris"'
    assert CallMatcher().compare([W, S], [W])[2] == 'extra call search({"query": "pasta"})'
    assert CallMatcher().compare([W], [W, C])[2] == 'missing call convert({"amount": 100, "to": "EUR"})'
    assert CallMatcher().compare([], [W])[2] == 'no tool was called; expected get_weather({"city": "Paris"})'
    assert CallMatcher().compare([S], [])[2] == 'expected no tool call; made search({"query": "pasta"})'
    assert "another order" in CallMatcher().compare([C, W], [W, C])[2]
    assert (
        CallMatcher("ordered").compare([C, W], [W, C])[2] == 'convert({"amount": 100, "to": "EUR"}) made out of order'
    )
    missing_key = CallMatcher().compare([{"name": "get_weather", "arguments": {}}], [W])[2]
    assert missing_key == "get_weather: argument 'city' missing (expected \"Paris\")"


def test_the_scorer_reads_the_row_and_fails_invalid_calls_with_their_reason():
    scorer = make_scorer({"type": "tool_calls", "match": "unordered", "arguments": "partial"})
    assert scorer.required_columns() == ("expected_tool_calls",)
    assert scorer.score(
        _ctx([C, W], '[{"name": "get_weather", "arguments": {"city": "paris"}}, {"name": "convert"}]')
    ).passed
    undeclared = {"name": "nope", "arguments": {}, "error": "called 'nope', which is not a declared tool"}
    verdict = scorer.score(_ctx([W, undeclared], [W]))
    assert not verdict.passed and verdict.reason.startswith("called 'nope', which is not a declared tool")
    fixed = make_scorer({"type": "tool_calls", "value": [{"name": "search"}]})
    assert fixed.required_columns() == () and fixed.score(_ctx([S])).passed


@pytest.mark.parametrize(
    "options, message",
    [
        ({"match": "strict"}, "match must be one of exact, ordered, unordered, subset, superset"),
        ({"arguments": "fuzzy"}, "arguments must be one of exact, partial, ignore"),
        ({"tolerance": -1}, "tolerance must be a number ≥ 0"),
        ({"value": "not json"}, "value: the cell is not JSON"),
    ],
)
def test_bad_scorer_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_scorer({"type": "tool_calls", **options})


@pytest.mark.parametrize(
    "cell, message",
    [
        (None, "the cell is empty; write [] when no tool should be called"),
        ("  ", "the cell is empty"),
        ("[{name: x}]", "the cell is not JSON"),
        ('{"arguments": {}}', 'each expected call needs a "name"'),
        ('[{"name": "x", "args": {}}]', "unknown key 'args'"),
        ('[{"name": "x", "arguments": [1]}]', "must be a JSON object"),
        ("7", "must be a JSON list"),
    ],
)
def test_an_expected_cell_that_is_not_a_list_of_calls_says_why(cell, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_expected(cell)


def test_sequence_no_call_and_step_count():
    sequence = make_scorer({"type": "tool_sequence", "sequence": ["search", "convert"]})
    assert sequence.score(_ctx([S, W, C])).passed and not sequence.score(_ctx([C, S])).passed
    exact = make_scorer({"type": "tool_sequence", "sequence": ["search", "convert"], "exact": True})
    assert not exact.score(_ctx([S, W, C])).passed
    assert exact.score(_ctx([S, C])).reason == "called search → convert; matches search → convert"
    from_row = make_scorer({"type": "tool_sequence"})
    assert from_row.score(_ctx([W], [W])).passed
    none = make_scorer({"type": "no_tool_call"})
    assert none.score(_ctx([])).passed and none.score(_ctx([S])).reason == "called search"
    assert make_scorer({"type": "no_tool_call", "tools": ["convert"]}).score(_ctx([S])).passed
    steps = make_scorer({"type": "step_count", "max": 2})
    assert steps.score(_ctx([], steps=[{}, {}])).passed and not steps.score(_ctx([], steps=[{}, {}, {}])).passed
    with pytest.raises(ConfigError, match="step_count needs max"):
        make_scorer({"type": "step_count"})
