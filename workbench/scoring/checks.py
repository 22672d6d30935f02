"""Scorers that check the output itself: equality, containment, patterns, labels, JSON, numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError, OutputParseError
from workbench.parsers import LabelParser, extract_json, normalize_text
from workbench.scoring import Score, ScoreContext, Scorer


def render_value(value: Any, row: Mapping[str, Any]) -> Any:
    """An assertion value with ``{{ column }}`` filled from the row (rendered in the template sandbox)."""
    if isinstance(value, str) and "{{" in value:
        from workbench.prompts import render_string

        return render_string(value, row)
    return value


@dataclass
class ExpectedMixin:
    value: Any = None
    column: str = "expected"

    def required_columns(self) -> tuple[str, ...]:
        return () if self.value is not None else (self.column,)

    def expected_for(self, ctx: ScoreContext) -> Any:
        if self.value is not None:
            return render_value(self.value, ctx.row)
        if self.column not in ctx.row:
            raise ConfigError(
                f"The scorer needs the expected answer in column {self.column!r}, which the dataset lacks. "
                "Add the column, or give `value:` in the assertion."
            )
        return ctx.row.get(self.column)


def _actual(ctx: ScoreContext) -> Any:
    return ctx.parsed if ctx.parse_error is None and ctx.parsed is not None else ctx.output.strip()


@dataclass
class Equals(ExpectedMixin, Scorer):
    """Parsed output equals the expected value (after normalising case, width and punctuation)."""

    name: str = "equals"
    normalize: bool = True

    def score(self, ctx: ScoreContext) -> Score:
        expected, actual = self.expected_for(ctx), _actual(ctx)
        ok = normalize_text(str(actual)) == normalize_text(str(expected)) if self.normalize else actual == expected
        return self._result(ok, f"{str(actual)[:40]!r} {'==' if ok else '!='} {str(expected)[:40]!r}")


@dataclass
class Contains(ExpectedMixin, Scorer):
    """The output contains the expected text (or any of a list)."""

    name: str = "contains"
    case_sensitive: bool = False

    def score(self, ctx: ScoreContext) -> Score:
        expected = self.expected_for(ctx)
        needles = expected if isinstance(expected, list | tuple) else str(expected).split("|")
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        hay = ctx.output if self.case_sensitive else ctx.output.casefold()
        for needle in needles:
            needle = str(needle).strip()
            if needle and (needle if self.case_sensitive else needle.casefold()) in hay:
                return self._result(True, f"the answer contains {needle!r}")
        return self._result(False, f"none of {needles!r} in the output")


@dataclass
class RegexMatch(Scorer):
    name: str = "regex"
    pattern: str = ""

    def score(self, ctx: ScoreContext) -> Score:
        pattern = render_value(self.pattern, ctx.row)
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        ok = re.search(pattern, ctx.output) is not None
        return self._result(ok, f"pattern {pattern!r} {'matched' if ok else 'not found'}")


@dataclass
class LabelMatch(ExpectedMixin, Scorer):
    """The template's label parser's output equals the expected label (in any of its word forms)."""

    name: str = "label"

    def score(self, ctx: ScoreContext) -> Score:
        expected = self.expected_for(ctx)
        if ctx.parse_error:
            return self._result(False, f"unparseable: {ctx.parse_error}")
        parser = ctx.template.parser if ctx.template is not None else None
        want = parser.normalize_label(expected) if isinstance(parser, LabelParser) else normalize_text(str(expected))
        got = str(ctx.parsed)
        return self._result(got == want, f"label {got!r}, expected {want!r}")


@dataclass
class JsonValid(Scorer):
    name: str = "json_valid"

    def score(self, ctx: ScoreContext) -> Score:
        try:
            extract_json(ctx.output)
        except OutputParseError as exc:
            return self._result(False, str(exc))
        return self._result(True, "valid JSON")


@dataclass
class JsonSchema(Scorer):
    name: str = "json_schema"
    schema: dict[str, Any] | None = None

    def score(self, ctx: ScoreContext) -> Score:
        import jsonschema

        schema = self.schema or (ctx.template.output.get("schema") if ctx.template is not None else None)
        if not schema:
            raise ConfigError("json_schema scorer needs `schema:` (or a json parser with a schema).")
        try:
            value = extract_json(ctx.output)
            jsonschema.validate(value, schema)
        except OutputParseError as exc:
            return self._result(False, str(exc))
        except jsonschema.ValidationError as exc:
            return self._result(False, f"schema: {exc.message}")
        return self._result(True, "matches the schema")


@dataclass
class JsonFields(ExpectedMixin, Scorer):
    """Fraction of the expected JSON object's fields that the output reproduces (normalised)."""

    name: str = "json_fields"
    threshold: float = 1.0

    def score(self, ctx: ScoreContext) -> Score:
        import json

        expected = self.expected_for(ctx)
        if isinstance(expected, str):
            expected = json.loads(expected)
        try:
            actual = ctx.parsed if isinstance(ctx.parsed, dict) else extract_json(ctx.output)
        except OutputParseError as exc:
            return self._result(False, str(exc), 0.0)
        if not isinstance(actual, dict):
            return self._result(False, "output is not a JSON object", 0.0)
        right = [k for k, v in expected.items() if normalize_text(str(actual.get(k, ""))) == normalize_text(str(v))]
        fraction = len(right) / max(1, len(expected))
        wrong = sorted(set(expected) - set(right))
        return self._result(
            fraction >= self.threshold,
            f"{len(right)}/{len(expected)} fields right" + (f"; wrong: {', '.join(wrong)}" if wrong else ""),
            fraction,
        )


@dataclass
class Numeric(ExpectedMixin, Scorer):
    name: str = "numeric"
    tolerance: float = 1e-6
    relative: bool = False

    def score(self, ctx: ScoreContext) -> Score:
        expected = float(self.expected_for(ctx))
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        text = str(_actual(ctx))
        match = re.search(r"-?\d+(?:[.,]\d+)?", text.replace(",", ""))
        if not match:
            return self._result(False, f"no number in {text[:40]!r}")
        actual = float(match.group(0))
        limit = self.tolerance * abs(expected) if self.relative else self.tolerance
        ok = abs(actual - expected) <= limit
        return self._result(ok, f"{actual:g} vs {expected:g} (tolerance {limit:g})")
