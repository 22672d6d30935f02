"""The two stages between planning and recording, each usable alone: execute a cell, evaluate its output.

``execute(cell)`` makes the cell's one model call — free generation, or label scoring by log-probabilities when
the template asks for it and the model can — through the retrier it is given (the run's limiter, timeout and
retry budget); it touches no store. ``evaluate(cell, generation, scorers)`` parses and scores the output; a
scorer that calls a model (an LLM judge) makes that call through the same kind of retrier. A scorer that cannot
give a verdict raises :class:`~workbench.errors.ScorerError`: the cell is an error, never a failed verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from workbench.models import ChunkSink, Generation, Model
from workbench.models.retry import Retrier
from workbench.pipeline.plan import Cell
from workbench.scoring import Score, ScoreContext, Scorer, score_row

RetrierFor = Callable[[Model], Retrier]


async def execute(cell: Cell, *, retrier: Retrier | None = None, sink: ChunkSink | None = None) -> Generation:
    """One model call for a cell (with retries); raises :class:`ModelError` when it cannot be answered."""
    if cell.toolset:  # the agent loop: several calls, tools between them; its text is sent once, at the end
        from workbench.tools.loop import run_agent

        generation = await run_agent(cell, retrier=retrier)
        if sink is not None:
            sink(generation.text)
        return generation
    generation = await cell.model.acall(cell.request(), retrier=retrier, sink=sink)
    if generation.label_scores:
        answer = cell.template.parser.answer_from_scores(generation.text, generation.label_scores)
        generation = replace(generation, text=answer)
    return generation


@dataclass(frozen=True)
class Verdict:
    """What the evaluation stage concluded about one output."""

    parsed: Any
    parse_error: str | None
    passed: bool | None
    score: float | None
    scores: tuple[Score, ...] = ()


async def evaluate(
    cell: Cell,
    generation: Generation,
    scorers: Sequence[Scorer],
    *,
    retrier_for: RetrierFor | None = None,
    store: Any = None,
) -> Verdict:
    """Parse the output with the template's parser, then run every scorer (``retrier_for(model)`` gives the
    retrier a judge's calls go through; ``store`` is where a judge's calibration is read)."""
    parsed, parse_error = cell.template.parse_output(generation.text, cell.inputs)
    if not scorers:
        return Verdict(parsed, parse_error, None, None)
    context = ScoreContext(
        generation.text, parsed, parse_error, cell.scorer_inputs, cell.template, retrier_for, store, generation
    )
    scores = await score_row(scorers, context)
    passed = all(s.passed for s in scores)
    mean = round(sum(s.score for s in scores) / len(scores), 6)
    return Verdict(parsed, parse_error, passed, mean, tuple(scores))
