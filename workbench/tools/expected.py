"""A row's ``expected_tool_calls`` and how the calls a model made are compared with them.

The column holds a JSON list of ``{name, arguments}`` (``[]``: no tool should be called; a call without
``arguments`` is matched on its name alone). Matching, as LangSmith's trajectory match and promptfoo's argument
checks do it:

- ``match``: ``exact`` — the same calls in the same order and nothing else; ``ordered`` — the expected calls in
  that order, other calls allowed between them; ``unordered`` — the same calls in any order; ``subset`` — every call
  made is an expected one (some may be missing); ``superset`` — every expected call was made (others allowed).
- ``arguments``: ``exact`` — the same keys and values; ``partial`` — the expected keys with their values (others
  allowed); ``ignore`` — names only. Numbers agree within ``tolerance``; text compares case-, width- and
  punctuation-insensitively unless ``normalize: false``.

The reason of a failure says what differed: a missing call, an extra call, or the argument and its value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import DatasetError

EXPECTED_COLUMN = "expected_tool_calls"
MATCHES = ("exact", "ordered", "unordered", "subset", "superset")
ARGUMENT_MODES = ("exact", "partial", "ignore")


def parse_expected(value: Any) -> list[dict[str, Any]]:
    """The expected calls of one cell; :class:`ValueError` saying what is wrong (an empty cell, not JSON, …)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError('the cell is empty; write [] when no tool should be called, or e.g. [{"name": "get_weather"}]')
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"the cell is not JSON ({exc.msg}): {value[:60]!r}") from None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"the cell must be a JSON list of {{name, arguments}}, not {type(value).__name__}")
    calls = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ValueError(f'each expected call needs a "name": {json.dumps(item, ensure_ascii=False)[:60]}')
        unknown = set(item) - {"name", "arguments"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r} in an expected call (keys: name, arguments)")
        if "arguments" in item and not isinstance(item["arguments"], Mapping):
            raise ValueError(f"the arguments of expected call {item['name']!r} must be a JSON object")
        calls.append(dict(item))
    return calls


def check_expected_column(
    rows: Sequence[Mapping[str, Any]], column: str, names: Sequence[str], describe_row: Callable[[int], str], where: str
) -> None:
    """Every cell of ``column`` parses and names only declared tools; else a :class:`DatasetError` naming the row."""
    for index, row in enumerate(rows):
        try:
            calls = parse_expected(row.get(column))
        except ValueError as exc:
            raise DatasetError(f"{describe_row(index)}: column {column!r}: {exc}.") from None
        for call in calls:
            if call["name"] not in names:
                raise DatasetError(
                    f"{describe_row(index)}: column {column!r} expects a call of {call['name']!r}, which {where} does "
                    f"not declare (declared: {', '.join(names) or 'no tools'}). Fix the name, or declare the tool."
                )


@dataclass(frozen=True)
class CallMatcher:
    """Compares calls (see the module docstring for the modes)."""

    match: str = "exact"
    arguments: str = "exact"
    tolerance: float = 0.0
    normalize: bool = True

    def same(self, made: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        if made.get("name") != expected.get("name"):
            return False
        if self.arguments == "ignore" or "arguments" not in expected:
            return True
        return not self.argument_differences(made.get("arguments"), expected["arguments"])

    def argument_differences(self, made: Any, expected: Mapping[str, Any]) -> list[str]:
        """What differs between the arguments made and expected, one phrase each."""
        if not isinstance(made, Mapping):
            return [f"arguments {str(made)[:40]!r} are not a JSON object"]
        found = []
        for key, want in expected.items():
            if key not in made:
                found.append(f"argument {key!r} missing (expected {_show(want)})")
            elif not self._equal(made[key], want):
                found.append(f"argument {key} = {_show(made[key])}, expected {_show(want)}")
        if self.arguments == "exact":
            found += [f"unexpected argument {key} = {_show(made[key])}" for key in made if key not in expected]
        return found

    def _equal(self, made: Any, want: Any) -> bool:
        number_made, number_want = _number(made), _number(want)
        if number_made is not None and number_want is not None:
            return abs(number_made - number_want) <= self.tolerance
        if isinstance(made, str) and isinstance(want, str):
            if self.normalize:
                from workbench.parsers import normalize_text

                return normalize_text(made) == normalize_text(want)
            return made == want
        if isinstance(made, Mapping) and isinstance(want, Mapping):
            keys_ok = set(want) <= set(made) if self.arguments == "partial" else set(want) == set(made)
            return keys_ok and all(self._equal(made[k], v) for k, v in want.items())
        if isinstance(made, list) and isinstance(want, list):
            return len(made) == len(want) and all(self._equal(m, w) for m, w in zip(made, want, strict=True))
        return made == want

    def compare(
        self, made: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]
    ) -> tuple[bool, float, str]:
        """(passed, score in [0, 1], reason)."""
        pairs = self._pairs(made, expected)
        matched = len(pairs)
        missing = [e for j, e in enumerate(expected) if j not in {p[1] for p in pairs}]
        extra = [m for i, m in enumerate(made) if i not in {p[0] for p in pairs}]
        if self.match == "exact":
            ok = matched == len(made) == len(expected) and all(i == j for i, j in pairs)
        elif self.match == "ordered" or self.match == "superset":
            ok = not missing
        elif self.match == "unordered":
            ok = not missing and not extra
        else:  # subset
            ok = not extra
        score = 1.0 if ok else (matched / max(len(made), len(expected)) if (made or expected) else 1.0)
        return ok, round(score, 4), self._reason(ok, made, expected, missing, extra)

    def _pairs(self, made: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
        """(index made, index expected) of matched calls: in order for exact/ordered, a maximum matching otherwise."""
        if self.match in ("exact", "ordered"):
            in_step = len(made) == len(expected) and all(self.same(m, e) for m, e in zip(made, expected, strict=True))
            if self.match == "exact" and in_step:
                return [(i, i) for i in range(len(made))]
            pairs, start = [], 0
            for j, want in enumerate(expected):  # the earliest match keeps the most room for the rest
                i = next((i for i in range(start, len(made)) if self.same(made[i], want)), None)
                if i is None:
                    continue
                pairs.append((i, j))
                start = i + 1
            return pairs
        return _maximum_matching(len(made), len(expected), lambda i, j: self.same(made[i], expected[j]))

    def _reason(
        self,
        ok: bool,
        made: Sequence[Mapping[str, Any]],
        expected: Sequence[Mapping[str, Any]],
        missing: list,
        extra: list,
    ) -> str:
        shown = ", ".join(_call(c) for c in made) or "no call"
        if ok:
            return f"{shown} matches ({self.match}, arguments {self.arguments})"
        if not made:
            return f"no tool was called; expected {', '.join(_call(e) for e in expected)}"
        if not expected:
            return f"expected no tool call; made {shown}"
        if self.match == "exact" and len(made) == len(expected):
            everything = _maximum_matching(len(made), len(expected), lambda i, j: self.same(made[i], expected[j]))
            if len(everything) == len(made):
                order = ", ".join(_call(e) for e in expected)
                return f"calls in another order: made {shown}; expected {order}"
        problems = []
        extra_left = list(extra)
        for want in missing:
            twin = next((m for m in extra_left if m.get("name") == want.get("name")), None)
            if twin is not None and self.same(twin, want):  # made, but not where this mode needs it
                extra_left.remove(twin)
                problems.append(f"{_call(want)} made out of order")
            elif twin is not None and self.arguments != "ignore" and "arguments" in want:
                extra_left.remove(twin)
                diffs = "; ".join(self.argument_differences(twin.get("arguments"), want["arguments"]))
                problems.append(f"{want['name']}: {diffs}")
            elif self.match != "subset":
                problems.append(f"missing call {_call(want)}")
        if self.match in ("exact", "unordered", "subset"):
            problems += [f"extra call {_call(m)}" for m in extra_left]
        return "; ".join(problems) or f"made {shown}; expected {', '.join(_call(e) for e in expected)} in this order"


def _maximum_matching(n_made: int, n_expected: int, fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """A maximum bipartite matching (Kuhn's augmenting paths; a row has a handful of calls)."""
    owner: dict[int, int] = {}  # expected index -> made index

    def augment(i: int, seen: set[int]) -> bool:
        for j in range(n_expected):
            if j in seen or not fits(i, j):
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(n_made):
        augment(i, set())
    return sorted((i, j) for j, i in owner.items())


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]


def _call(call: Mapping[str, Any]) -> str:
    if "arguments" not in call:
        return f"{call.get('name')}"
    arguments = call.get("arguments")
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return f"{call.get('name')}({text[:80]})"
