"""Serve the prompt library as an OpenAI-compatible API (FastAPI), through the same pipeline as a run.

Every request becomes a cell (:func:`~workbench.pipeline.plan.plan_request`) and goes through the stages a run
uses — cache lookup, :func:`~workbench.pipeline.stages.execute` (or streaming), :func:`evaluate` with the prompt's
assertions, and the :class:`~workbench.pipeline.recorder.Recorder` — so a prompt and input give the same stored
record (output, parsed value, scores, cache hit) whether they came from a run, the server or a recheck.

Endpoints: ``POST /v1/completions`` and ``POST /v1/chat/completions`` (``model`` = a prompt ``name`` or
``name@vN``; ``stream: true`` answers with Server-Sent Events ending in ``data: [DONE]``; the prompt text or the
last user message fills the template's main variable, others come as ``"variables": {...}``),
``POST /v1/prompts/{name}`` (variables as JSON → output, parsed value, scores), ``POST /v1/feedback`` (a thumbs-down
becomes a bad case), ``GET /v1/models`` and ``GET /v1/models/{name}``, OpenAI's Batch API
(:mod:`workbench.serve.batch_api`), ``GET /health``. Requests are queued first-come-first-served for the
model, logged even when a streaming client disconnects, and the serving run is marked stopped on shutdown.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request  # the [serve] extra; `import workbench` never loads this module
from fastapi.responses import JSONResponse, StreamingResponse

import workbench.provenance as provenance
import workbench.serve.batch_api as batch_api
import workbench.serve.guard as guard
import workbench.serve.tools as tools
from workbench.errors import ModelError
from workbench.models import Model, get_model
from workbench.pipeline import Cell, Recorder
from workbench.prompts import PromptLibrary, PromptTemplate, load_prompt
from workbench.secrets import redact
from workbench.serve.protocol import (
    ChatBody,
    CompletionBody,
    FeedbackBody,
    RequestError,
    ServedPrompts,
    chat_variables,
    completion_variables,
    error_body,
    json_body,
    parse_body,
    request_params,
)
from workbench.serve.service import Service
from workbench.store import Store

DEFAULT_MAX_BODY = 64 * 1024


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
        await resolved.load()  # weights loaded before the first request is timed
        yield
        await service.executor.aclose()
        recorder.finish(run_id, "stopped")

    app = FastAPI(title="Prompt Workbench", version="1", lifespan=lifespan)
    app.state.service = service
    guard.install(app, api_key=api_key, max_body_bytes=max_body_bytes)
    _workbench_routes(app, service)
    _openai_routes(app, service)
    batch_api.install(app, api_key)
    return app


def _workbench_routes(app: FastAPI, service: Service) -> None:
    """Health, the prompt endpoint (variables in, parsed output and scores out) and feedback."""

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "prompts": service.prompts.names(),
            "model": redact(service.model.spec),
            "run_id": service.run_id,
        }

    @app.post("/v1/prompts/{name}")
    async def run_prompt(name: str, request: Request) -> JSONResponse:
        template = service.prompts.resolve(name)
        body = await json_body(request)
        variables = body.get("variables", body)
        parameters = body.get("parameters") or {}
        if not isinstance(variables, dict) or not isinstance(parameters, dict):
            raise RequestError(
                400, 'Send the template\'s variables as a JSON object, e.g. {"text": "..."} (parameters as an object).'
            )
        params = request_params(template, parameters, service.max_tokens_limit)
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

    @app.post("/v1/feedback")
    async def feedback(request: Request) -> JSONResponse:
        return JSONResponse(service.feedback(parse_body(FeedbackBody, await json_body(request))))


def _openai_routes(app: FastAPI, service: Service) -> None:
    """The OpenAI-compatible API: the model list, completions and chat completions (plain or streamed)."""

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": service.prompts.listing(redact(service.model.spec) or "")}

    @app.get("/v1/models/{model_id}")
    async def model(model_id: str) -> dict[str, Any]:
        return service.prompts.entry(model_id, redact(service.model.spec) or "")

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await json_body(request)
        chat = parse_body(ChatBody, body)
        template = service.prompts.resolve(chat.model)
        params = request_params(template, body, service.max_tokens_limit)
        variables = chat_variables(template, chat)
        toolset = tools.prepare(template, body, chat.messages, variables)  # the client's tools and tool turns
        cell = tools.with_tools(service.cell(template, variables, params), toolset)
        return await _respond(service, cell, body, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await json_body(request)
        completion = parse_body(CompletionBody, body)
        template = service.prompts.resolve(completion.model)
        params = request_params(template, body, service.max_tokens_limit)
        cell = service.cell(template, completion_variables(template, completion), params)
        return await _respond(service, cell, body, chat=False)


async def _respond(service: Service, cell: Cell, body: dict[str, Any], *, chat: bool) -> Any:
    created = int(time.time())
    name = cell.template.name if "@" not in str(body.get("model", "")) else cell.template.ref
    if body.get("stream"):
        return StreamingResponse(
            (_sse_tools if cell.toolset and chat else _sse)(service, cell, name, created, chat=chat),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    record = await service.answer(cell)
    choice: dict[str, Any] = {"index": 0, "finish_reason": record.details.get("finish_reason") or "stop"}
    if chat:
        choice["message"] = {"role": "assistant", "content": record.output}
        if cell.toolset:  # the calls go back to the client, as OpenAI's API returns them
            choice["message"], choice["finish_reason"] = tools.reply(record)
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
        yield f"data: {json.dumps(error_body(redact(str(exc)) or '', 'upstream_error'))}\n\n"
        return
    except Exception as exc:  # a bug mid-stream: the headers are sent, so say so in the stream, logged with an id
        response = guard.internal(exc, "Internal server error", 500)
        yield f"data: {response.body.decode()}\n\n"
        return
    yield event(None, "stop")
    yield "data: [DONE]\n\n"


async def _sse_tools(service: Service, cell: Cell, name: str, created: int, *, chat: bool) -> AsyncIterator[str]:
    """A streamed answer with tools: the loop runs to its end first (calls cannot be taken back), then the calls or
    the text are sent as OpenAI's chunks."""
    try:
        record = await service.answer(cell)
    except (ModelError, RequestError) as exc:
        yield f"data: {json.dumps(error_body(redact(str(exc)) or '', 'upstream_error'))}\n\n"
        return

    def event(delta: dict[str, Any], finish: str | None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        chunk = {"id": cell.row_id, "object": "chat.completion.chunk", "created": created, "model": name}
        return tools.sse_line({**chunk, "choices": [choice]})

    for line in tools.stream_events(record, event):
        yield line
    yield "data: [DONE]\n\n"
