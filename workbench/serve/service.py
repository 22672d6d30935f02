"""What the routes share: the prompts, the model, and one :class:`CellExecutor` for the server's whole life — so
every request goes through the same cache policy, concurrency gate, retries and 429 budget as a run's cells, and
is recorded the same way (output, parsed value, scores, tokens), streamed or not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import TemplateError
from workbench.models import GenerationParams, Model
from workbench.pipeline import Cell, CellExecutor, Recorder, plan_request
from workbench.pipeline.writer import RecordPath
from workbench.prompts import PromptTemplate
from workbench.scoring import Scorer, make_scorer
from workbench.serve.protocol import FeedbackBody, RequestError, ServedPrompts
from workbench.store import ResultRecord

RATINGS = {"down": "down", "-1": "down", "👎": "down", "bad": "down", "up": "up", "1": "up", "👍": "up", "good": "up"}


@dataclass
class Service:
    prompts: ServedPrompts
    model: Model
    recorder: Recorder
    run_id: str
    api_key: str | None = None
    max_body_bytes: int = 64 * 1024
    max_tokens_limit: int = 512
    executor: CellExecutor = field(init=False)
    _scorers: dict[str, list[Scorer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        path = RecordPath(self.recorder, self.run_id, cache=True, reproducible_only=True)
        self.executor = CellExecutor(path, timeout=120.0)

    def scorers(self, cell: Cell) -> list[Scorer]:
        """The prompt's assertions that this request can be judged by (an `expected` it did not send cannot)."""
        template = cell.template
        if template.ref not in self._scorers:
            self._scorers[template.ref] = [make_scorer(a) for a in template.assertions]
        values = cell.scorer_inputs
        return [s for s in self._scorers[template.ref] if all(c in values for c in s.required_columns())]

    def cell(self, template: PromptTemplate, variables: dict[str, Any], params: GenerationParams) -> Cell:
        row_id = f"cmpl-{uuid.uuid4().hex[:20]}"
        try:
            return plan_request(template, self.model, variables, params=params, row_id=row_id)
        except TemplateError as exc:
            raise RequestError(400, f"{exc} This prompt takes: {', '.join(template.required_variables)}.") from exc

    async def answer(self, cell: Cell) -> ResultRecord:
        """Cache, execute, evaluate, record: one request, like one row of a run."""
        outcome = await self.executor.answer(cell, self.scorers(cell))
        record = outcome.record
        if record.output is None and record.error:
            raise RequestError(502, f"The model failed: {record.error}", "upstream_error")
        return record

    def stream(self, cell: Cell) -> AsyncIterator[str]:
        """Text pieces as they are generated; the request is recorded when it ends, or when the client leaves."""
        return self.executor.stream(cell, self.scorers(cell))

    def feedback(self, body: FeedbackBody) -> dict[str, Any]:
        """A user's rating of a served answer; a thumbs-down becomes a bad case (the post-launch loop)."""
        from workbench.badcases import BadCaseTracker

        request_id = body.id or body.request_id
        rating = RATINGS.get(str(body.rating if body.rating is not None else "").strip().lower())
        if not request_id or rating is None:
            raise RequestError(
                400, 'Send {"id": "<the completion id>", "rating": "up" or "down", "note": "...", "expected": "..."}.'
            )
        store = self.recorder.store
        record = store.result_for_request(str(request_id))  # an unknown id is a 404 (NotFoundError)
        note, expected = body.note or "", body.expected
        case_id = None
        if rating == "down":
            tracker = BadCaseTracker(store)
            case = tracker.mark_bad(record, tags=["user feedback"], note=note, expected=expected, source="feedback")
            case_id = case.id
        expected_text = None if expected is None else str(expected)
        feedback_id = store.add_feedback(record.id or 0, rating, note=note, expected=expected_text, bad_case_id=case_id)
        return {"ok": True, "feedback_id": feedback_id, "bad_case_id": case_id, "result_id": record.id}
