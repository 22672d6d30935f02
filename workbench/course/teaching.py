"""Exercises in the course notebooks: a cell the student completes, a check that says in plain words what is wrong.

A notebook's exercise cell starts from ``None`` (or an unfinished value); ``check(key, value)`` prints ✓ or ✗ with a
message in the notebook's language — never a traceback — and remembers the outcome. The nightly run executes every
notebook twice: as shipped (every check must report "not done yet" with its message) and with the ``solutions``
parameter, which fills each exercise from :func:`solution` (every check must pass). ``finish(solutions)`` at the end
of a notebook asserts exactly that, so both halves of the promise are tested.
"""

from __future__ import annotations

import json
from typing import Any

import workbench.course.exercises  # noqa: F401  (registers every exercise)
from workbench.course.exercise import REGISTRY
from workbench.course.metrics import record_metrics

_outcomes: dict[str, str] = {}

NOT_DONE = "not done"


def solution(key: str, **context: Any) -> Any:
    """The worked answer (the ``solutions`` profile fills exercises with it)."""
    return REGISTRY[key].solution(context)


def check(key: str, value: Any, *, lang: str = "en", **context: Any) -> bool:
    """Print whether the exercise is done and right, in plain words; never raise."""
    spec = REGISTRY[key]
    zh = lang.startswith("zh")
    if value is None or value is ...:
        message = spec.unfinished[1 if zh else 0]
        outcome = NOT_DONE
    else:
        try:
            problem = spec.checker(value, context)
        except Exception as exc:  # a student's value of the wrong kind: say so, do not crash the notebook
            problem = (
                f"that value could not be checked ({type(exc).__name__}: {exc}).",
                f"这个值无法检查（{type(exc).__name__}: {exc}）。",
            )
        message = "" if problem is None else problem[1 if zh else 0]
        outcome = "passed" if problem is None else "wrong"
    _outcomes[key] = outcome
    record_metrics(**{f"exercise_{key}": outcome})
    if outcome == "passed":
        print(f"✓ {key}: {'正确！' if zh else 'correct!'}")
    else:
        labels = {NOT_DONE: ("not done yet", "还没完成"), "wrong": ("not right yet", "还不对")}[outcome]
        label = labels[1 if zh else 0]
        print(f"✗ {key} — {label}{'：' if zh else ': '}{message}")
    return outcome == "passed"


def finish(solutions: bool, keys: list[str]) -> dict[str, str]:
    """The notebook's exercise gate: with solutions every check passed; without, every check ran and said what to do."""
    missing = [k for k in keys if k not in _outcomes]
    assert not missing, f"exercise checks that never ran: {missing}"
    outcomes = {k: _outcomes[k] for k in keys}
    if solutions:
        assert all(v == "passed" for v in outcomes.values()), f"a solution does not pass its check: {outcomes}"
    else:
        assert all(v == NOT_DONE for v in outcomes.values()), f"unfinished exercises must report 'not done': {outcomes}"
    print(json.dumps(outcomes, ensure_ascii=False))
    return outcomes
