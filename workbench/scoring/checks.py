"""Scorers that check the output itself: equality, containment, patterns, labels, JSON, numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError, OutputParseError
from workbench.optiondoc import option
from workbench.parsers import LabelParser, extract_json, normalize_text
from workbench.scoring import Score, ScoreContext, Scorer


def name_option(default: str) -> str:
    """Every scorer's ``name``: how its verdict is labelled in the results (``scorer:NAME``)."""
    return option(default, "The check's name in results and bad-case tags (two checks of one type need two names).")


def render_value(value: Any, row: Mapping[str, Any]) -> Any:
    """An assertion value with ``{{ column }}`` filled from the row (rendered in the template sandbox)."""
    if isinstance(value, str) and "{{" in value:
        from workbench.prompts import render_string

        return render_string(value, row)
    return value


@dataclass
class ExpectedMixin:
    value: Any = option(
        None,
        "The expected answer, written in the assertion; `{{ column }}` is filled from the row. "
        "Default: the row's `column`.",
    )
    column: str = option("expected", "The dataset column that holds the expected answer (when no `value:` is given).")

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

    name: str = name_option("equals")
    normalize: bool = option(True, "Compare after Unicode NFKC, case-folding and dropping spaces and punctuation.")

    def score(self, ctx: ScoreContext) -> Score:
        expected, actual = self.expected_for(ctx), _actual(ctx)
        ok = normalize_text(str(actual)) == normalize_text(str(expected)) if self.normalize else actual == expected
        return self._result(ok, f"{str(actual)[:40]!r} {'==' if ok else '!='} {str(expected)[:40]!r}")


@dataclass
class Contains(ExpectedMixin, Scorer):
    """The raw output contains the expected text — or any one of several: a list, or a string split at ``|``
    (``expected: good|great`` passes on either). Not normalised beyond case."""

    name: str = name_option("contains")
    case_sensitive: bool = option(False, "Match letter case exactly (otherwise both sides are case-folded).")

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
    """The raw output matches a regular expression (Python ``re.search``; ``{{ column }}`` filled from the row)."""

    name: str = name_option("regex")
    pattern: str = option("", "The regular expression the output must contain a match of.")

    def score(self, ctx: ScoreContext) -> Score:
        pattern = render_value(self.pattern, ctx.row)
        if (refused := self._not_an_answer(ctx)) is not None:
            return refused
        ok = re.search(pattern, ctx.output) is not None
        return self._result(ok, f"pattern {pattern!r} {'matched' if ok else 'not found'}")


@dataclass
class LabelMatch(ExpectedMixin, Scorer):
    """The template's label parser's output equals the expected label (in any of its word forms)."""

    name: str = name_option("label")

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
    """The output holds a JSON value (in a json code fence, or else the first ``{...}`` or ``[...]``)."""

    name: str = name_option("json_valid")

    def score(self, ctx: ScoreContext) -> Score:
        try:
            extract_json(ctx.output)
        except OutputParseError as exc:
            return self._result(False, str(exc))
        return self._result(True, "valid JSON")


@dataclass
class JsonSchema(Scorer):
    """The output's JSON value validates against a JSON Schema."""

    name: str = name_option("json_schema")
    schema: dict[str, Any] | None = option(None, "The JSON Schema. Default: the `json` parser's `schema:`.")

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

    name: str = name_option("json_fields")
    threshold: float = option(1.0, "The share of the expected fields (0–1) that must match for a pass.")

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
    """The first number in the output (commas as thousands separators dropped) is within a tolerance of the
    expected number."""

    name: str = name_option("numeric")
    tolerance: float = option(1e-6, "The largest difference that passes (absolute, or a fraction with `relative`).")
    relative: bool = option(False, "Read `tolerance` as a fraction of the expected value (0.05: within 5%).")

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
