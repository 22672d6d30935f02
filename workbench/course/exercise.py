"""One exercise of a course notebook, and the registry the notebook modules fill.

A module in :mod:`workbench.course.exercises` registers each exercise with :func:`exercise` — its checker (what is
wrong, in English and Chinese), its worked solution and the message an untouched exercise shows.
:mod:`workbench.course.teaching` runs them. Nothing here imports the exercises, so there is no import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Message = tuple[str, str]  # (English, 中文)
Checker = Callable[[Any, dict[str, Any]], Message | None]


@dataclass(frozen=True)
class Exercise:
    """``checker(value, context) -> None`` when right, else the message (English, 中文) saying what to fix."""

    key: str
    checker: Checker
    solution: Callable[[dict[str, Any]], Any]
    unfinished: Message


REGISTRY: dict[str, Exercise] = {}


def exercise(key: str, *, unfinished: Message, solution: Callable[[dict[str, Any]], Any]) -> Callable:
    """Register a check function under ``key`` (decorator)."""

    def register(checker: Checker) -> Callable:
        REGISTRY[key] = Exercise(key, checker, solution, unfinished)
        return checker

    return register


# -- small comparisons the checkers share ----------------------------------------------------------------------
def row_ids(value: Any) -> list[str]:
    """A student's list of row ids, sorted and as strings, so order and int/str do not matter."""
    return sorted(str(v) for v in value)


def close(value: Any, wanted: float, tolerance: float = 1e-6) -> bool:
    return abs(float(value) - wanted) < tolerance


def not_a_function(name: str) -> tuple[str, str]:
    """The message for an exercise that asks for a function and got something else."""
    return f"`{name}` should be a function.", f"`{name}` 应该是一个函数。"


def text(lang: str, en: str, zh: str) -> str:
    """The English or Chinese version of a label or message, by the notebook's ``lang``."""
    return zh if lang.startswith("zh") else en
