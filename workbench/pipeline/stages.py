"""The two stages between planning and recording, each usable alone: execute a cell, evaluate its output.

``execute(cell)`` calls the model (free generation, or label scoring by log-probabilities when the template
asks for it and the model can), with retries; it touches no store. ``evaluate(cell, generation, scorers)``
parses and scores the output; it calls no model except a judge scorer's. The runner, the server and the
bad-case recheck all go through these two functions, so a prompt and row give the same verdict everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from workbench.models import Generation
from workbench.models.retry import Retrier
from workbench.parsers import ChoiceParser
from workbench.pipeline.plan import Cell
from workbench.scoring import Score, ScoreContext, Scorer, score_row


async def execute(cell: Cell, *, retrier: Retrier | None = None) -> Generation:
    """One model call for a cell (with retries); raises :class:`ModelError` when it cannot be answered."""
    model = cell.model
    if cell.uses_logprob_labels:
        generation = await model.aclassify(cell.prompt, cell.labels, prefix=cell.prefix)  # type: ignore[arg-type]
        if isinstance(cell.template.parser, ChoiceParser) and generation.label_scores:
            best = max(generation.label_scores, key=generation.label_scores.__getitem__)
            generation = replace(generation, text=best)  # a choice's answer is its letter, whatever was scored
        return generation
    return await model.agenerate(
        cell.prompt, cell.params, prefix=cell.prefix, inputs=cell.inputs, json_schema=cell.json_schema, retrier=retrier
    )


@dataclass(frozen=True)
class Verdict:
    """What the evaluation stage concluded about one output."""

    parsed: Any
    parse_error: str | None
    passed: bool | None
    score: float | None
    scores: tuple[Score, ...] = ()


async def evaluate(cell: Cell, generation: Generation, scorers: Sequence[Scorer]) -> Verdict:
    """Parse the output with the template's parser, then run every scorer (a failing scorer is a failed score)."""
    parsed, parse_error = cell.template.parse_output(generation.text)
    if not scorers:
        return Verdict(parsed, parse_error, None, None)
    context = ScoreContext(generation.text, parsed, parse_error, cell.scorer_inputs, cell.template)
    scores = await score_row(scorers, context)
    passed = all(s.passed for s in scores)
    mean = round(sum(s.score for s in scores) / len(scores), 6)
    return Verdict(parsed, parse_error, passed, mean, tuple(scores))
