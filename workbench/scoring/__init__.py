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
scorer too. Scorers are registered by name (``register_scorer`` or the ``workbench.scorers`` entry points) in
the same registry pattern as model providers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from workbench.errors import ConfigError, RetryableModelError, ScorerError
from workbench.registry import Registry


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
    retrier_for: Callable[[Any], Any] | None = None  # the run's retrier for a model (limiter, timeout, budget)
    store: Any = None  # the run's store (a judge scorer reads its calibration there)
    generation: Any = None  # the Generation scored: its tool calls and agent trajectory, for the tool scorers

    @property
    def expected(self) -> Any:
        return self.row.get("expected")

    @property
    def tool_calls(self) -> tuple[dict[str, Any], ...]:
        """The calls the model made, in order (each ``{name, arguments}``, with ``error`` when the call was invalid)."""
        return tuple(getattr(self.generation, "tool_calls", ()) or ())

    @property
    def trajectory(self) -> tuple[dict[str, Any], ...]:
        """The agent loop's steps (empty for a template without tools)."""
        return tuple(getattr(self.generation, "trajectory", ()) or ())

    @cached_property
    def echo(self) -> Any:
        """The :class:`~workbench.scoring.echo.Echo` this output is — a copy of the template's own words or of a
        value the model was shown — or ``None`` when it is an answer of its own."""
        from workbench.scoring.echo import find_echo

        if self.template is None:
            return None
        shown = {name: self.row[name] for name in self.template.variables if name in self.row}
        return find_echo(self.output, self.template.literal_text, shown)

    @property
    def empty(self) -> bool:
        return not self.output.strip()

    async def generate(self, model: Any, prompt: Any, params: Any = None) -> Any:
        """A scorer's own model call (an LLM judge's), through the run's limiter, retries and budget."""
        retrier = self.retrier_for(model) if self.retrier_for is not None else None
        return await model.agenerate(prompt, params, retrier=retrier)


class Scorer:
    """Base class. Implement ``score`` (sync) or ``ascore`` (async, e.g. a judge model call)."""

    name: str = "scorer"

    def required_columns(self) -> tuple[str, ...]:
        """Dataset columns this scorer reads (checked before any model call; a served request without them is
        answered but not scored by this scorer)."""
        return ()

    def check_rows(self, data: Any, template: Any) -> None:
        """Check the dataset's cells this scorer reads, before any model call (raise :class:`DatasetError` naming the
        row). Most scorers need nothing beyond :meth:`required_columns`."""
        return None

    def score(self, ctx: ScoreContext) -> Score:
        raise NotImplementedError

    async def ascore(self, ctx: ScoreContext) -> Score:
        return self.score(ctx)

    def _result(self, passed: bool, reason: str, score: float | None = None) -> Score:
        return Score(self.name, bool(passed), float(passed) if score is None else float(score), reason)

    def resolved_for_workers(self, store: Any) -> dict[str, Any]:
        """Options to add to this scorer's config before it travels to a Dask worker, which has no store: what the
        scorer would read from the store there (a judge's calibration). Most scorers read nothing."""
        return {}

    def _not_an_answer(self, ctx: ScoreContext) -> Score | None:
        """A failing score for an output that is no answer at all — empty, or an echo of the prompt — for
        scorers that look for something *in* the output (a copy of a context holding the expected words is not
        an answer that found them); ``None`` for a real answer."""
        if ctx.empty:
            return self._result(False, "the output is empty: there is no answer to check", 0.0)
        if ctx.echo is not None:
            return self._result(False, ctx.echo.reason(), 0.0)
        return None


SCORERS: Registry[type[Scorer]] = Registry("scorer", group="workbench.scorers")
for _name, _target in {
    "equals": "Equals",
    "contains": "Contains",
    "regex": "RegexMatch",
    "label": "LabelMatch",
    "json_valid": "JsonValid",
    "json_schema": "JsonSchema",
    "json_fields": "JsonFields",
    "numeric": "Numeric",
}.items():
    SCORERS.register(_name, f"workbench.scoring.checks:{_target}")
for _name, _target in {
    "similarity": "Similarity",
    "llm_judge": "LLMJudge",
    "python": "PythonScorer",
    "faithfulness": "Faithfulness",
}.items():
    SCORERS.register(_name, f"workbench.scoring.semantic:{_target}")
for _name, _target in {
    "tool_calls": "ToolCalls",
    "tool_sequence": "ToolSequence",
    "no_tool_call": "NoToolCall",
    "step_count": "StepCount",
}.items():
    SCORERS.register(_name, f"workbench.scoring.tools:{_target}")


def register_scorer(name: str, cls: type[Scorer] | str) -> None:
    """Register a scorer class (or ``"module:Class"``) under a name usable in ``assertions:``."""
    SCORERS.register(name, cls)


def make_scorer(config: Mapping[str, Any] | Scorer | Callable[..., Any] | str) -> Scorer:
    """A scorer from an assertion mapping, a name, a Scorer, or a plain function."""
    if isinstance(config, Scorer):
        return config
    if isinstance(config, str):
        config = {"type": config}
    if callable(config) and not isinstance(config, Mapping):
        return SCORERS.get("python")(name=getattr(config, "__name__", "python"), function=config)
    config = dict(config)
    kind = config.pop("type", None)
    try:
        scorer = SCORERS.get(str(kind))(**config)
    except TypeError as exc:
        raise ConfigError(f"Invalid options for scorer {kind!r}: {exc}") from exc
    return scorer


async def score_row(scorers: Sequence[Scorer], ctx: ScoreContext) -> list[Score]:
    """Run every scorer. A scorer that raises gives no verdict: :class:`ScorerError` (the cell is an error,
    retried like any cell when the cause was transient — a judge's 429 or timeout)."""
    scores = []
    for scorer in scorers:
        try:
            scores.append(await scorer.ascore(ctx))
        except (ConfigError, ScorerError):
            raise
        except Exception as exc:
            retryable = isinstance(exc, RetryableModelError)
            raise ScorerError(
                f"The {scorer.name!r} scorer could not judge this output: {type(exc).__name__}: {exc}",
                scorer=scorer.name,
                retryable=retryable,
            ) from exc
    return scores
