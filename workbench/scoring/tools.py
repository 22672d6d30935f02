"""Scorers of what a model called: the calls against the row's ``expected_tool_calls``, their sequence, no call at
all, and how many steps the agent took. A call of an undeclared tool, or with arguments that break the tool's schema,
is a failure with that reason — never a crash.

    assertions:
      - {type: tool_calls, match: unordered, arguments: partial, tolerance: 0.01}
      - {type: tool_sequence, sequence: [search_flights, book_flight]}
      - {type: no_tool_call}
      - {type: step_count, max: 3}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError
from workbench.optiondoc import option
from workbench.scoring import Score, ScoreContext, Scorer
from workbench.scoring.checks import name_option
from workbench.tools.expected import ARGUMENT_MODES, EXPECTED_COLUMN, MATCHES, CallMatcher, check_expected_column
from workbench.tools.expected import parse_expected as _parse


def _invalid(ctx: ScoreContext) -> list[str]:
    """Why calls the model made were invalid (undeclared tool, arguments that break the schema)."""
    return [str(c["error"]) for c in ctx.tool_calls if c.get("error")]


def _declared(template: Any) -> list[str]:
    toolset = getattr(template, "toolset", None)
    return list(toolset.names) if toolset else []


def _where(template: Any) -> str:
    return f"template {getattr(template, 'ref', 'the template')}"


def _check_declared(data: Any, template: Any, given: list[str] | None, saying: str, column: str) -> None:
    """Before any call: the tool names an option gives (``given``), else those in the dataset's ``column``, are all
    declared by the template."""
    names = _declared(template)
    if given is None:
        check_expected_column(data.rows, column, names, data.describe_row, _where(template))
        return
    unknown = [n for n in given if n not in names]
    if unknown:
        raise ConfigError(
            f"{saying} {unknown[0]!r}, which {_where(template)} does not declare "
            f"(declared: {', '.join(names) or 'no tools'})."
        )


@dataclass
class ToolCalls(Scorer):
    """The calls made against the row's expected calls (``column``, default ``expected_tool_calls``), or ``value:``."""

    name: str = name_option("tool_calls")
    match: str = option(
        "exact",
        "How the calls are compared: `exact` (the expected calls, in order, nothing else), `ordered` (the expected "
        "calls in order, others may come between), `unordered` (the expected calls in any order, nothing else), "
        "`superset` (every expected call, others allowed), `subset` (no call that was not expected).",
    )
    arguments: str = option(
        "exact",
        "How arguments are compared: `exact`, `partial` (the expected keys match; others "
        "may be added) or `ignore` (names only).",
    )
    tolerance: float = option(0.0, "How far a number in the arguments may be from the expected one (absolute).")
    normalize: bool = option(True, "Compare strings in the arguments case- and space-insensitively.")
    column: str = option(
        EXPECTED_COLUMN, "The dataset column with the expected calls (JSON: a list of `{name, arguments}`)."
    )
    value: Any = option(None, "The expected calls for every row, instead of a column.")

    def __post_init__(self) -> None:
        if self.match not in MATCHES:
            raise ConfigError(f"tool_calls: match must be one of {', '.join(MATCHES)}, not {self.match!r}")
        if self.arguments not in ARGUMENT_MODES:
            raise ConfigError(
                f"tool_calls: arguments must be one of {', '.join(ARGUMENT_MODES)}, not {self.arguments!r}"
            )
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, int | float) or self.tolerance < 0:
            raise ConfigError(f"tool_calls: tolerance must be a number ≥ 0, not {self.tolerance!r}")
        if self.value is not None:
            try:
                self.value = _parse(self.value)
            except ValueError as exc:
                raise ConfigError(f"tool_calls: value: {exc}") from None

    def required_columns(self) -> tuple[str, ...]:
        return () if self.value is not None else (self.column,)

    def check_rows(self, data: Any, template: Any) -> None:
        given = None if self.value is None else [c["name"] for c in self.value]
        _check_declared(data, template, given, "tool_calls: value expects a call of", self.column)

    def score(self, ctx: ScoreContext) -> Score:
        expected = self.value if self.value is not None else _parse(ctx.row.get(self.column))
        invalid = _invalid(ctx)
        matcher = CallMatcher(self.match, self.arguments, float(self.tolerance), self.normalize)
        ok, score, reason = matcher.compare(ctx.tool_calls, expected)
        if invalid:
            return self._result(False, "; ".join(invalid) + ("" if ok else f"; {reason}"), 0.0)
        return self._result(ok, reason, score)


@dataclass
class ToolSequence(Scorer):
    """The tools called, by name, in order: ``sequence:`` (or the names in ``expected_tool_calls``). ``exact: true``
    allows no other calls; otherwise other calls may come between."""

    name: str = name_option("tool_sequence")
    sequence: list[str] | None = option(
        None, "The tool names in the order they must be called. Default: the names in `column`."
    )
    exact: bool = option(False, "Allow no other calls before, between or after the sequence.")
    column: str = option(EXPECTED_COLUMN, "The dataset column with the expected calls, when no `sequence:` is given.")

    def required_columns(self) -> tuple[str, ...]:
        return () if self.sequence is not None else (self.column,)

    def check_rows(self, data: Any, template: Any) -> None:
        _check_declared(data, template, self.sequence, "tool_sequence names", self.column)

    def score(self, ctx: ScoreContext) -> Score:
        wanted = self.sequence if self.sequence is not None else [c["name"] for c in _parse(ctx.row.get(self.column))]
        made = [str(c.get("name")) for c in ctx.tool_calls]
        shown = " → ".join(made) or "no call"
        if self.exact:
            ok = made == list(wanted)
        else:
            position = 0
            for name in made:
                if position < len(wanted) and name == wanted[position]:
                    position += 1
            ok = position == len(wanted)
        want = " → ".join(wanted) or "no call"
        return self._result(ok, f"called {shown}; {'matches' if ok else 'expected'} {want}")


@dataclass
class NoToolCall(Scorer):
    """No tool was called (or none of ``tools:``)."""

    name: str = name_option("no_tool_call")
    tools: list[str] = option(doc="Only these tools must not be called. Default: none at all.", default_factory=list)

    def score(self, ctx: ScoreContext) -> Score:
        made = [c for c in ctx.tool_calls if not self.tools or c.get("name") in self.tools]
        if not made:
            return self._result(True, "no tool called")
        return self._result(False, "called " + ", ".join(str(c.get("name")) for c in made))


@dataclass
class StepCount(Scorer):
    """The agent took between ``min`` and ``max`` model steps."""

    name: str = name_option("step_count")
    max: int | None = option(None, "The most model steps a row may take (required).")
    min: int = option(1, "The fewest model steps a row must take.")

    def __post_init__(self) -> None:
        if self.max is None:
            raise ConfigError(
                "step_count needs max: the most model steps a row may take, e.g. {type: step_count, max: 3}"
            )
        if not (isinstance(self.max, int) and isinstance(self.min, int)) or not 0 <= self.min <= self.max:
            raise ConfigError(
                f"step_count: min and max must be whole numbers with 0 ≤ min ≤ max, not {self.min}, {self.max}"
            )

    def score(self, ctx: ScoreContext) -> Score:
        steps = len(ctx.trajectory) or 1  # a template without tools answers in one step
        ok = self.min <= steps <= int(self.max or 0)
        return self._result(ok, f"{steps} step(s); allowed {self.min}–{self.max}")
