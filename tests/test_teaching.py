"""Exercise checks: an untouched exercise says "not done" with what to do, a wrong answer says what is wrong,
the worked solution passes — in English and Chinese, never with a traceback."""

from types import SimpleNamespace

import pytest

from workbench import course
from workbench.course import teaching
from workbench.course.exercise import REGISTRY
from workbench.course.exercises import quickstart  # noqa: F401  (registers every exercise)


def _record(row_id, passed, expected="positive"):
    return SimpleNamespace(row_id=row_id, passed=passed, inputs={"expected": expected})


class _KB:
    def query(self, question, k=3):
        source = "en_lora.md" if "LoRA" in question else "en_rag.md"
        return [SimpleNamespace(source=source)]


def _routed(expected, made):
    return SimpleNamespace(inputs={"expected_tool_calls": expected}, tool_calls=made, passed=made == expected)


_WEATHER = {"name": "get_weather", "arguments": {"city": "Oslo"}}
TEMPLATE = SimpleNamespace(render_text=lambda **v: f"Example: fine\nText: {v['text']}\nOverall, it was")
RESULT = SimpleNamespace(records=[_record("r1", True), _record("r2", False, "negative"), _record("r3", False)])
BEFORE = SimpleNamespace(records=[_record("r1", False), _record("r2", False), _record("r3", True)])
AFTER = SimpleNamespace(records=[_record("r1", True), _record("r2", False), _record("r3", False)])

# key -> (context, a wrong answer)
CASES = {
    "render": ({"template": TEMPLATE, "text": "The soup was cold."}, "Text: The soup was cold."),
    "failures": ({"result": RESULT}, ["r1"]),
    "majority_baseline": ({"result": RESULT}, 0.5),
    "fixed_rows": ({"before": BEFORE, "after": AFTER}, ["r1", "r3"]),
    "min_flips": ({}, 3),
    "hit_at_k": ({"rows": [({"a"}, ["b", "a", "c"]), ({"b"}, ["c", "d", "e"])], "k": 3}, 0.0),
    "find_note": ({"kb": _KB(), "target": "en_lora.md", "solution_question": "What does LoRA train?"}, "What is RAG?"),
    "lora_params": ({"rank": 8, "d_in": 640, "d_out": 1024}, 640 * 1024),
    "chat_record": (
        {"system": "Be brief.", "user": "Great food!", "answer": "positive"},
        {"messages": [{"role": "user", "content": "Great food!"}]},
    ),
    "sse_text": ({}, lambda raw: raw),
    "p95": ({"latencies": [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 2.0]}, 0.58),
    "majority_vote": ({}, lambda answers: answers[0]),
    "contact_schema": ({}, {"type": "object"}),
    "letter_baseline": ({"answers": list("AABBBCD")}, 0.25),
    "kappa": ({"table": [[20, 5], [10, 15]]}, 0.7),
    "pass_at_k": ({}, lambda n, c, k: c / n),
    "nucleus": ({"probs": {"good": 0.5, "great": 0.3, "fine": 0.15, "bad": 0.05}, "top_p": 0.75}, {"good"}),
    "tool_declaration": ({}, {"name": "convert_units", "parameters": {"type": "object", "properties": {}}}),
    "choice_accuracy": (
        {"records": [_routed([_WEATHER], [_WEATHER]), _routed([_WEATHER], []), _routed("[]", [])]},
        1.0,
    ),
}


def test_every_registered_exercise_is_covered():
    assert set(REGISTRY) == set(CASES)


@pytest.mark.parametrize("key", sorted(CASES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_untouched_wrong_and_solved(key, lang, capsys):
    context, wrong = CASES[key]
    assert teaching.check(key, None, lang=lang, **context) is False
    untouched = capsys.readouterr().out
    assert ("还没完成" if lang == "zh" else "not done yet") in untouched and "Traceback" not in untouched
    assert len(untouched) > 40, "the message says what to do"

    assert teaching.check(key, wrong, lang=lang, **context) is False
    wrong_out = capsys.readouterr().out
    assert ("还不对" if lang == "zh" else "not right yet") in wrong_out and "Traceback" not in wrong_out

    assert teaching.check(key, teaching.solution(key, **context), lang=lang, **context) is True
    assert ("正确" if lang == "zh" else "correct") in capsys.readouterr().out


def test_a_value_of_the_wrong_kind_is_reported_not_raised(capsys):
    assert teaching.check("lora_params", "eight", rank=8, d_in=4, d_out=4) is False
    out = capsys.readouterr().out
    assert "could not be checked" in out and "ValueError" in out


def test_finish_holds_each_profile_to_its_promise(capsys):
    teaching._outcomes.clear()
    teaching.check("min_flips", None)
    teaching.finish(False, ["min_flips"])
    with pytest.raises(AssertionError, match="a solution does not pass"):
        teaching.finish(True, ["min_flips"])
    teaching.check("min_flips", teaching.solution("min_flips"))
    teaching.finish(True, ["min_flips"])
    with pytest.raises(AssertionError, match="must report 'not done'"):
        teaching.finish(False, ["min_flips"])
    with pytest.raises(AssertionError, match="never ran"):
        teaching.finish(True, ["kappa"])


def test_text_picks_the_language():
    assert course.text("zh", "yes", "是") == "是" and course.text("en", "yes", "是") == "yes"
