"""Deploy a prompt template as an HTTP API (FastAPI), OpenAI-compatible so existing clients work.

Endpoints:
- ``POST /v1/chat/completions`` — OpenAI's chat API; ``stream: true`` answers with Server-Sent Events
  ending in ``data: [DONE]``. The last user message fills the template's main input variable; other
  variables may be passed as ``"variables": {...}`` (the openai client's ``extra_body``).
- ``POST /v1/prompts/{name}`` — the template's variables as a JSON object; returns output and parsed value.
- ``GET /v1/models`` and ``GET /health``.

Optional bearer-token auth, a request-size limit and a ``max_tokens`` cap; bad input gets a 4xx whose
message says what to send. Requests are queued first-come-first-served for the model (a single
in-process llama.cpp model serves one at a time), and every request is logged to the run store.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request  # this module is the [serve] extra's; `import workbench` never loads it
from fastapi.responses import JSONResponse, StreamingResponse

from workbench.errors import ModelError, TemplateError, WorkbenchError
from workbench.models import GenerationParams, Model, get_model
from workbench.models.base import prompt_as_text
from workbench.prompts import PromptTemplate, load_prompt
from workbench.store import ResultRecord, Store

DEFAULT_MAX_BODY = 64 * 1024


@dataclass
class ServeConfig:
    prompt: PromptTemplate
    model: Model
    api_key: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_tokens_limit: int = 512
    store: Store | None = None
    run_id: str | None = None
    counter: int = field(default=0)

    @property
    def main_variable(self) -> str | None:
        required = self.prompt.required_variables
        return required[-1] if required else None


class RequestError(WorkbenchError):
    def __init__(self, status: int, message: str, code: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.code = code


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "code": code}}


def create_app(
    prompt: str | PromptTemplate,
    model: str | Model | None = None,
    *,
    api_key: str | None = None,
    store: Store | str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    max_tokens_limit: int = 512,
) -> Any:
    """The FastAPI application serving one prompt template on one model."""
    template = load_prompt(prompt)
    resolved = get_model(model or template.model.spec or "local")
    run_store = store if isinstance(store, Store) else Store(store)
    config = ServeConfig(template, resolved, api_key, max_body_bytes, max_tokens_limit, run_store)
    run_store.record_prompt_version(template.name, template.version, template.content_hash, template.to_text())
    config.run_id = run_store.create_run(
        config={"serve": template.ref, "model": resolved.spec},
        config_hash=f"serve-{uuid.uuid4().hex}",
        prompts=[template.ref],
        models=[resolved.spec],
        dataset="http",
        dataset_hash="",
        n_cells=0,
        name=f"serve {template.ref}",
    )
    gate = asyncio.Semaphore(max(1, resolved.max_concurrency))  # FIFO: waiters are served in arrival order
    app = FastAPI(title=f"Prompt Workbench: {template.name}", version=str(template.version))
    app.state.config = config

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(_error_body(str(exc), exc.code), status_code=exc.status)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if request.url.path != "/health" and config.api_key:
            supplied = request.headers.get("authorization", "")
            if not hmac.compare_digest(supplied, f"Bearer {config.api_key}"):
                return JSONResponse(
                    _error_body("Missing or wrong API key: send 'Authorization: Bearer <key>'.", "invalid_api_key"),
                    status_code=401,
                )
        length = request.headers.get("content-length")
        if length and int(length) > config.max_body_bytes:
            return JSONResponse(
                _error_body(f"Request body is {length} bytes; the limit is {config.max_body_bytes}.", "too_large"),
                status_code=413,
            )
        return await call_next(request)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "prompt": template.ref, "model": resolved.spec}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": template.name, "object": "model", "owned_by": "workbench", "version": template.version,
             "backend": resolved.spec},
        ]}  # fmt: skip

    @app.post("/v1/prompts/{name}")
    async def run_prompt(name: str, request: Request) -> JSONResponse:
        _check_name(name, template)
        body = await _json_body(request)
        variables = body.get("variables", body)
        if not isinstance(variables, dict):
            raise RequestError(400, 'Send the template\'s variables as a JSON object, e.g. {"text": "..."}.')
        params = _params(config, body.get("parameters") or {})
        rendered = _render(template, variables)
        async with gate:
            generation = await _generate(resolved, rendered, params)
        parsed, parse_error = template.parse_output(generation.text)
        _log(config, variables, rendered, generation.text, generation.latency_ms, parsed=parsed)
        return JSONResponse({
            "prompt": template.ref, "model": resolved.spec, "output": generation.text, "parsed": parsed,
            "parse_error": parse_error, "latency_ms": generation.latency_ms,
            "usage": {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.completion_tokens},
        })  # fmt: skip

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await _json_body(request)
        _check_name(body.get("model") or template.name, template)
        variables = _chat_variables(config, body)
        params = _params(config, body)
        rendered = _render(template, variables)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        if body.get("stream"):
            return StreamingResponse(
                _sse(config, gate, rendered, params, variables, completion_id, created),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        async with gate:
            generation = await _generate(resolved, rendered, params)
        _log(config, variables, rendered, generation.text, generation.latency_ms)
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": created, "model": template.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": generation.text},
                         "finish_reason": generation.finish_reason or "stop"}],
            "usage": {"prompt_tokens": generation.prompt_tokens or 0,
                      "completion_tokens": generation.completion_tokens or 0,
                      "total_tokens": (generation.prompt_tokens or 0) + (generation.completion_tokens or 0)},
        })  # fmt: skip

    return app


def _check_name(name: str, template: PromptTemplate) -> None:
    if name != template.name:
        raise RequestError(404, f"This server serves the prompt {template.name!r}, not {name!r}.", "model_not_found")


async def _json_body(request: Any) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"The request body is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    return body


def _chat_variables(config: ServeConfig, body: dict[str, Any]) -> dict[str, Any]:
    variables = dict(body.get("variables") or {})
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "Send `messages`: a list of {role, content} objects with at least one user message.")
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users or not isinstance(users[-1], str):
        raise RequestError(400, "`messages` has no user message with text content.")
    main = config.main_variable
    if main and main not in variables:
        variables[main] = users[-1]
    if "history" in config.prompt.variables and "history" not in variables:
        variables["history"] = [
            m for m in messages[:-1] if isinstance(m, dict) and m.get("role") in ("user", "assistant")
        ]
    return variables


def _params(config: ServeConfig, body: dict[str, Any]) -> GenerationParams:
    base = GenerationParams().merged(**config.prompt.model.parameters)
    overrides = {k: body[k] for k in ("temperature", "max_tokens", "top_p", "seed", "stop") if body.get(k) is not None}
    try:
        params = base.merged(**overrides)
    except ValueError as exc:
        detail = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
        where = ".".join(map(str, detail.get("loc", ()))) or "parameters"
        raise RequestError(400, f"Invalid {where}: {detail['msg']}.") from exc
    if params.max_tokens > config.max_tokens_limit:
        raise RequestError(400, f"max_tokens {params.max_tokens} is over this server's limit of "
                                f"{config.max_tokens_limit}.")  # fmt: skip
    return params


def _render(template: PromptTemplate, variables: dict[str, Any]) -> Any:
    try:
        return template.render(variables)
    except TemplateError as exc:
        needed = ", ".join(template.required_variables)
        raise RequestError(400, f"{exc} This prompt takes: {needed}.") from exc


async def _generate(model: Model, prompt: Any, params: GenerationParams) -> Any:
    try:
        return await model.agenerate(prompt, params)
    except ModelError as exc:
        raise RequestError(502, f"The model failed: {exc}", "upstream_error") from exc


async def _sse(
    config: ServeConfig,
    gate: asyncio.Semaphore,
    prompt: Any,
    params: GenerationParams,
    variables: dict[str, Any],
    completion_id: str,
    created: int,
) -> Any:
    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": config.prompt.name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    start = time.perf_counter()
    parts: list[str] = []
    async with gate:
        yield event({"role": "assistant", "content": ""})
        try:
            async for piece in config.model.astream(prompt, params):
                parts.append(piece)
                yield event({"content": piece})
        except ModelError as exc:
            yield f"data: {json.dumps(_error_body(str(exc), 'upstream_error'))}\n\n"
            return
    yield event({}, "stop")
    yield "data: [DONE]\n\n"
    _log(config, variables, prompt, "".join(parts), round((time.perf_counter() - start) * 1000, 3))


def _log(
    config: ServeConfig, variables: dict[str, Any], prompt: Any, output: str, latency_ms: float, parsed: Any = None
) -> None:
    """Every served request lands in the run store, like a batch row (secrets are scrubbed there)."""
    if config.store is None or config.run_id is None:
        return
    config.counter += 1
    record = ResultRecord(
        run_id=config.run_id,
        cell_key=f"req-{config.counter}-{uuid.uuid4().hex[:6]}",
        prompt=config.prompt.name,
        version=config.prompt.version,
        model=config.model.spec,
        row_index=config.counter,
        row_id=f"req-{config.counter}",
        repeat=0,
        inputs=variables,
        rendered=prompt_as_text(prompt),
        output=output,
        parsed=parsed,
        latency_ms=latency_ms,
    )
    config.store.write_result(record)


class ServerThread:
    """Run the app with uvicorn in a background thread (for notebooks and tests); ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8000):
        import uvicorn

        self.host, self.port = host, port
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        import threading

        self.thread = threading.Thread(target=self.server.run, name="workbench-serve", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.time() + timeout
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise WorkbenchError(f"The server did not start on {self.host}:{self.port} (port in use?).")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
