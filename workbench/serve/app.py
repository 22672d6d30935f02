"""Serve the prompt library as an OpenAI-compatible API (FastAPI), through the same pipeline as a run.

Every request becomes a cell (:func:`~workbench.pipeline.plan.plan_request`) and goes through the stages a run
uses — cache lookup, :func:`~workbench.pipeline.stages.execute` (or streaming), :func:`evaluate` with the prompt's
assertions, and the :class:`~workbench.pipeline.recorder.Recorder` — so a prompt and input give the same stored
record (output, parsed value, scores, cache hit) whether they came from a run, the server or a recheck.

Endpoints: ``POST /v1/completions`` and ``POST /v1/chat/completions`` (``model`` = a prompt ``name`` or
``name@vN``; ``stream: true`` answers with Server-Sent Events ending in ``data: [DONE]``; the prompt text or the
last user message fills the template's main variable, others come as ``"variables": {...}``),
``POST /v1/prompts/{name}`` (variables as JSON → output, parsed value, scores), ``POST /v1/feedback`` (a thumbs-down
becomes a bad case), ``GET /v1/models``, ``GET /health``. Requests are queued first-come-first-served for the
model, logged even when a streaming client disconnects, and the serving run is marked stopped on shutdown.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request  # the [serve] extra; `import workbench` never loads this module
from fastapi.responses import JSONResponse, StreamingResponse

from workbench import provenance
from workbench.badcases import BadCaseTracker
from workbench.errors import ModelError, TemplateError
from workbench.models import Generation, GenerationParams, Model, get_model
from workbench.pipeline import Cell, Recorder, evaluate, execute, plan_request
from workbench.pipeline.limiter import AdaptiveLimiter
from workbench.prompts import PromptLibrary, PromptTemplate, load_prompt
from workbench.scoring import Scorer, make_scorer
from workbench.secrets import redact
from workbench.serve.protocol import (
    RequestError,
    ServedPrompts,
    chat_variables,
    completion_variables,
    error_body,
    json_body,
    request_params,
)
from workbench.store import ResultRecord, Store

DEFAULT_MAX_BODY = 64 * 1024
RATINGS = {"down": "down", "-1": "down", "👎": "down", "bad": "down", "up": "up", "1": "up", "👍": "up", "good": "up"}


@dataclass
class Service:
    """What the routes share: the prompts, the model, the recorder and the queue in front of the model."""

    prompts: ServedPrompts
    model: Model
    recorder: Recorder
    run_id: str
    api_key: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_tokens_limit: int = 512
    gate: AdaptiveLimiter = field(init=False)
    _scorers: dict[str, list[Scorer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gate = AdaptiveLimiter(self.model.max_concurrency)

    def scorers(self, cell: Cell) -> list[Scorer]:
        """The prompt's assertions that this request can be judged by (an `expected` it did not send cannot)."""
        template = cell.template
        if template.ref not in self._scorers:
            self._scorers[template.ref] = [make_scorer(a) for a in template.assertions]
        values = cell.scorer_inputs
        return [s for s in self._scorers[template.ref] if all(c in values for c in s.required_columns())]

    def cell(self, template: PromptTemplate, variables: dict[str, Any], params: GenerationParams) -> Cell:
        try:
            return plan_request(template, self.model, variables, params=params, row_id=f"cmpl-{uuid.uuid4().hex[:20]}")
        except TemplateError as exc:
            raise RequestError(400, f"{exc} This prompt takes: {', '.join(template.required_variables)}.") from exc

    def _cache_allowed(self, cell: Cell) -> bool:
        return cell.params.temperature == 0 or cell.params.seed is not None

    async def answer(self, cell: Cell) -> ResultRecord:
        """Cache, execute, evaluate, record: one request, like one row of a run."""
        generation = self.recorder.cached(cell) if self._cache_allowed(cell) else None
        cached = generation is not None
        if generation is None:
            try:
                async with self.gate:
                    generation = await execute(cell)
            except ModelError as exc:
                self.recorder.record(self.run_id, cell, error=str(exc))
                raise RequestError(502, f"The model failed: {exc}", "upstream_error") from exc
        verdict = await evaluate(cell, generation, self.scorers(cell))
        return self.recorder.record(
            self.run_id, cell, generation=generation, verdict=verdict, cached=cached, cache=self._cache_allowed(cell)
        )

    async def stream(self, cell: Cell) -> AsyncIterator[str]:
        """Text chunks as they are generated; the request is recorded when it ends, or when the client leaves."""
        parts: list[str] = []
        start = time.perf_counter()
        finished = False
        try:
            if cell.uses_logprob_labels or (self._cache_allowed(cell) and self.recorder.cached(cell)):
                record = await self.answer(cell)
                finished = True
                yield record.output or ""
                return
            async with self.gate:
                async for piece in self.model.astream(cell.prompt, cell.params, prefix=cell.prefix):
                    parts.append(piece)
                    yield piece
            finished = True
            generation = _streamed(cell, "".join(parts), start)
            verdict = await evaluate(cell, generation, self.scorers(cell))
            self.recorder.record(
                self.run_id, cell, generation=generation, verdict=verdict, cache=self._cache_allowed(cell)
            )
        finally:
            if not finished:  # the client disconnected (or the model failed) mid-stream: log what was sent
                self.recorder.record(
                    self.run_id,
                    cell,
                    generation=_streamed(cell, "".join(parts), start),
                    error=f"stream ended early after {len(parts)} chunks (client disconnected)",
                    cache=False,
                    extra={"disconnected": True},
                )


def _streamed(cell: Cell, text: str, start: float) -> Generation:
    return Generation(
        text=text,
        model=cell.model.spec,
        latency_ms=round((time.perf_counter() - start) * 1000, 3),
        finish_reason="stop",
    )


def _served_prompts(prompts: Any, library: PromptLibrary | None) -> ServedPrompts:
    library = library or PromptLibrary()
    if prompts is None or prompts == []:
        templates = library.templates()
    else:
        templates = [load_prompt(p, library) for p in (prompts if isinstance(prompts, list | tuple) else [prompts])]
    return ServedPrompts({t.name: t for t in templates}, library)


def create_app(
    prompts: str | PromptTemplate | list[Any] | None = None,
    model: str | Model | None = None,
    *,
    library: PromptLibrary | None = None,
    api_key: str | None = None,
    store: Store | str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    max_tokens_limit: int = 512,
) -> Any:
    """The FastAPI application serving prompts (default: every prompt in the library) on one model."""
    served = _served_prompts(prompts, library)
    first = next(iter(served.templates.values()))
    resolved = get_model(model or first.model.spec or "local")
    recorder = Recorder(store)
    run_id = recorder.begin_serving(
        list(served.templates.values()), resolved, provenance=provenance.collect([resolved])
    )
    service = Service(served, resolved, recorder, run_id, api_key, max_body_bytes, max_tokens_limit)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        recorder.finish(run_id, "stopped")

    app = FastAPI(title="Prompt Workbench", version="1", lifespan=lifespan)
    app.state.service = service
    _routes(app, service)
    return app


def _routes(app: FastAPI, service: Service) -> None:
    _guard(app, service)
    _endpoints(app, service)


def _guard(app: FastAPI, service: Service) -> None:
    """Errors as OpenAI-style bodies; the bearer key and the body-size limit before any route runs."""

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), exc.code), status_code=exc.status)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if request.url.path != "/health" and service.api_key:
            supplied = request.headers.get("authorization", "")
            if not hmac.compare_digest(supplied, f"Bearer {service.api_key}"):
                return JSONResponse(
                    error_body("Missing or wrong API key: send 'Authorization: Bearer <key>'.", "invalid_api_key"),
                    status_code=401,
                )
        length = request.headers.get("content-length")
        if length and int(length) > service.max_body_bytes:
            return JSONResponse(
                error_body(f"Request body is {length} bytes; the limit is {service.max_body_bytes}.", "too_large"),
                status_code=413,
            )
        return await call_next(request)


def _endpoints(app: FastAPI, service: Service) -> None:
    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "prompts": service.prompts.names(),
            "model": redact(service.model.spec),
            "run_id": service.run_id,
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": service.prompts.listing(redact(service.model.spec) or "")}

    @app.post("/v1/prompts/{name}")
    async def run_prompt(name: str, request: Request) -> JSONResponse:
        template = service.prompts.resolve(name)
        body = await json_body(request)
        variables = body.get("variables", body)
        if not isinstance(variables, dict):
            raise RequestError(400, 'Send the template\'s variables as a JSON object, e.g. {"text": "..."}.')
        params = request_params(template, body.get("parameters") or {}, service.max_tokens_limit)
        record = await service.answer(service.cell(template, variables, params))
        return JSONResponse(
            {
                "id": record.row_id,
                "prompt": template.ref,
                "model": record.model,
                "output": record.output,
                "parsed": record.parsed,
                "passed": record.passed,
                "scores": list(record.scores),
                "cached": record.cached,
                "latency_ms": record.latency_ms,
                "result_id": record.id,
                "usage": {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens},
            }
        )

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await json_body(request)
        template = service.prompts.resolve(body.get("model"))
        cell = service.cell(
            template, chat_variables(template, body), request_params(template, body, service.max_tokens_limit)
        )
        return await _respond(service, cell, body, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await json_body(request)
        template = service.prompts.resolve(body.get("model"))
        cell = service.cell(
            template, completion_variables(template, body), request_params(template, body, service.max_tokens_limit)
        )
        return await _respond(service, cell, body, chat=False)

    @app.post("/v1/feedback")
    async def feedback(request: Request) -> JSONResponse:
        return JSONResponse(_feedback(service, await json_body(request)))


async def _respond(service: Service, cell: Cell, body: dict[str, Any], *, chat: bool) -> Any:
    created = int(time.time())
    name = cell.template.name if "@" not in str(body.get("model", "")) else cell.template.ref
    if body.get("stream"):
        return StreamingResponse(
            _sse(service, cell, name, created, chat=chat),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    record = await service.answer(cell)
    choice: dict[str, Any] = {"index": 0, "finish_reason": record.details.get("finish_reason") or "stop"}
    if chat:
        choice["message"] = {"role": "assistant", "content": record.output}
    else:
        choice["text"] = record.output
    usage = {"prompt_tokens": record.prompt_tokens or 0, "completion_tokens": record.completion_tokens or 0}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return JSONResponse(
        {
            "id": cell.row_id,
            "object": "chat.completion" if chat else "text_completion",
            "created": created,
            "model": name,
            "choices": [choice],
            "usage": usage,
            "workbench": {
                "result_id": record.id,
                "parsed": record.parsed,
                "passed": record.passed,
                "cached": record.cached,
            },
        }
    )


async def _sse(service: Service, cell: Cell, name: str, created: int, *, chat: bool) -> AsyncIterator[str]:
    kind = "chat.completion.chunk" if chat else "text_completion"

    def event(text: str | None, finish: str | None = None, first: bool = False) -> str:
        if chat:
            delta: dict[str, Any] = {"content": text} if text else {}
            if first:
                delta = {"role": "assistant", "content": ""}
            choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text or "", "finish_reason": finish}
        chunk = {"id": cell.row_id, "object": kind, "created": created, "model": name, "choices": [choice]}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    if chat:
        yield event(None, first=True)
    try:
        async for piece in service.stream(cell):
            yield event(piece)
    except (ModelError, RequestError) as exc:
        yield f"data: {json.dumps(error_body(str(exc), 'upstream_error'))}\n\n"
        return
    yield event(None, "stop")
    yield "data: [DONE]\n\n"


def _feedback(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    """A user's rating of a served answer; a thumbs-down becomes a bad case (the post-launch loop)."""
    request_id = body.get("id") or body.get("request_id")
    rating = RATINGS.get(str(body.get("rating", "")).strip().lower())
    if not request_id or rating is None:
        raise RequestError(
            400, 'Send {"id": "<the completion id>", "rating": "up" or "down", "note": "...", "expected": "..."}.'
        )
    store = service.recorder.store
    try:
        record = store.result_for_request(str(request_id))
    except Exception as exc:
        raise RequestError(404, str(exc), "not_found") from exc
    note, expected = str(body.get("note") or ""), body.get("expected")
    case_id = None
    if rating == "down":
        case = BadCaseTracker(store).mark_bad(
            record, tags=["user feedback"], note=note, expected=expected, source="feedback"
        )
        case_id = case.id
    expected_text = None if expected is None else str(expected)
    feedback_id = store.add_feedback(record.id or 0, rating, note=note, expected=expected_text, bad_case_id=case_id)
    return {"ok": True, "feedback_id": feedback_id, "bad_case_id": case_id, "result_id": record.id}
