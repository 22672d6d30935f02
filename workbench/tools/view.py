"""What the views show of a cell with tools, as plain data (the UI and the terminal render it in their language):
the tools a row called (a matrix cell), its steps (the row detail), and two versions' calls side by side with what
differs marked (a comparison)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NO_CALL = "(no call)"


def call_text(call: Mapping[str, Any]) -> str:
    """``get_weather({"city": "Paris"})``."""
    arguments = call.get("arguments")
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False)
    return f"{call.get('name')}({text})"


def tools_called(record: Any) -> str | None:
    """The tools a row called, by name (``a → b``), ``(no call)``, or ``None`` for a template without tools."""
    calls = getattr(record, "tool_calls", None)
    if calls is None:
        return None
    return " → ".join(str(c.get("name")) for c in calls) if calls else NO_CALL


@dataclass(frozen=True)
class StepView:
    """One step of a trajectory as the row detail shows it."""

    number: int
    output: str
    calls: list[dict[str, Any]] = field(default_factory=list)  # each: text, result (JSON text) or error, source
    latency_ms: float | None = None
    tokens: str = ""
    finish: str | None = None
    error: str | None = None


def steps(record: Any) -> list[StepView]:
    """The trajectory of a row, ready to show: each step's output, its calls with results or errors, time, tokens."""
    shown = []
    for step in getattr(record, "trajectory", None) or []:
        calls = []
        for call in step.get("calls") or []:
            result = call.get("result")
            calls.append(
                {
                    "text": call_text(call),
                    "result": None if "result" not in call else _json(result),
                    "error": call.get("error"),
                    "source": call.get("source"),
                }
            )
        tokens = f"{_count(step.get('prompt_tokens'))} + {_count(step.get('completion_tokens'))}"
        shown.append(
            StepView(
                number=int(step.get("step") or len(shown) + 1),
                output=str(step.get("output") or ""),
                calls=calls,
                latency_ms=step.get("latency_ms"),
                tokens=tokens,
                finish=step.get("finish_reason"),
                error=step.get("error"),
            )
        )
    return shown


@dataclass(frozen=True)
class CallPair:
    """The n-th call of version A and of version B, and whether (and how) they differ."""

    a: str | None
    b: str | None
    same: bool
    differences: tuple[str, ...] = ()


def side_by_side(
    a_calls: Sequence[Mapping[str, Any]] | None, b_calls: Sequence[Mapping[str, Any]] | None
) -> list[CallPair]:
    """Two versions' calls in order, paired by position; each pair marked same or different, with what differs (the
    tool, or each argument and its two values)."""
    a_calls, b_calls = list(a_calls or []), list(b_calls or [])
    pairs = []
    for index in range(max(len(a_calls), len(b_calls), 1)):
        a = a_calls[index] if index < len(a_calls) else None
        b = b_calls[index] if index < len(b_calls) else None
        if a is None and b is None:
            pairs.append(CallPair(NO_CALL, NO_CALL, True))
            continue
        differences = _differences(a, b)
        pairs.append(CallPair(call_text(a) if a else None, call_text(b) if b else None, not differences, differences))
    return pairs


def _differences(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> tuple[str, ...]:
    if a is None or b is None:
        return ("only in B" if a is None else "only in A",)
    if a.get("name") != b.get("name"):
        return (f"tool {a.get('name')} ≠ {b.get('name')}",)
    a_args, b_args = a.get("arguments"), b.get("arguments")
    if not isinstance(a_args, Mapping) or not isinstance(b_args, Mapping):
        return () if a_args == b_args else ("arguments differ",)
    return tuple(
        f"{key}: {_json(a_args.get(key, '–'))} ≠ {_json(b_args.get(key, '–'))}"
        for key in dict.fromkeys([*a_args, *b_args])
        if a_args.get(key) != b_args.get(key)
    )


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _count(value: Any) -> str:
    return "?" if value is None else str(value)
