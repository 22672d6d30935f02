"""OpenAI's Batch API on ``workbench serve``, for the prompts it serves: ``POST /v1/files`` (``purpose=batch``: a
JSONL of ``{custom_id, method, url, body}`` lines), ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``,
``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches``, ``POST /v1/batches/{id}/cancel`` — the calls
the official client's ``files.create``, ``batches.create``, ``batches.retrieve`` and ``files.content`` make, so
``workbench run --batch -m openai:NAME@http://HOST:PORT/v1`` can be tried end to end with no account and no network.

Why this shape: each line of a batch is answered by sending its ``body`` to its ``url`` on this same application
(in-process, through ASGI) — the route, the checks, the cache, the model queue, the recording in the store and the
response body are exactly those of the same request sent on its own, with no second code path. A line that gets a
4xx or 5xx goes to the batch's error file with that response; the others to its output file, in the order they
finished (as OpenAI's, which promises no order: match lines by ``custom_id``).

A file is checked when its batch starts (OpenAI's ``validating``): every line a JSON object with a ``custom_id``
of its own, ``method`` POST and the batch's ``url``; otherwise the batch ``failed`` with an error naming the line,
and no line is answered. Batches and files live in the server process's memory — a restarted server has forgotten
them (the answers it gave are in the store) — and one batch is answered a few lines at a time (``CONCURRENCY``), the
model's own queue deciding how many run at once.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from workbench.batch.objects import batch_object, file_object
from workbench.serve.protocol import RequestError, json_body

ENDPOINTS = ("/v1/completions", "/v1/chat/completions")
DONE = ("completed", "failed", "cancelled", "expired")
CONCURRENCY = 4  # lines of one batch in flight at once


@dataclass
class BatchFiles:
    """The uploaded and produced files, and the batches, of one server (kept in memory)."""

    contents: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def add_file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        record = file_object(file_id, content, filename, purpose)
        self.contents[file_id] = content
        self.files[file_id] = record
        return record

    def file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise RequestError(404, f"No file {file_id!r} on this server (files live until the server restarts).")
        return self.files[file_id]

    def batch(self, batch_id: str) -> dict[str, Any]:
        if batch_id not in self.batches:
            raise RequestError(404, f"No batch {batch_id!r} on this server (batches live until the server restarts).")
        return self.batches[batch_id]


def install(app: FastAPI, api_key: str | None = None) -> BatchFiles:
    """Add the Batch API's routes to a served app; its lines are answered by the app's own routes."""
    state = BatchFiles()

    @app.post("/v1/files")
    async def upload(request: Request) -> JSONResponse:
        form = await request.form()
        upload, purpose = form.get("file"), form.get("purpose")
        if purpose != "batch":
            raise RequestError(400, f"purpose {purpose!r}: this server takes files with purpose 'batch' only.")
        if upload is None or isinstance(upload, str):
            raise RequestError(400, "Send the JSONL of requests as the multipart field `file`.")
        content = await upload.read()
        return JSONResponse(state.add_file(content, upload.filename or "batch.jsonl", "batch"))

    @app.get("/v1/files/{file_id}")
    async def file(file_id: str) -> JSONResponse:
        return JSONResponse(state.file(file_id))

    @app.get("/v1/files/{file_id}/content")
    async def content(file_id: str) -> Response:
        state.file(file_id)
        return Response(state.contents[file_id], media_type="application/jsonl")

    @app.post("/v1/batches")
    async def create(request: Request) -> JSONResponse:
        body = await json_body(request)
        endpoint, window = body.get("endpoint"), body.get("completion_window")
        if endpoint not in ENDPOINTS:
            raise RequestError(400, f"endpoint {endpoint!r}: this server batches {' and '.join(ENDPOINTS)}.")
        if window != "24h":
            raise RequestError(400, f"completion_window {window!r}: the only window is '24h'.")
        state.file(str(body.get("input_file_id")))
        batch = batch_object(f"batch_{uuid.uuid4().hex[:24]}", body)
        state.batches[batch["id"]] = batch
        task = asyncio.get_running_loop().create_task(_process(app, state, batch, api_key))
        state.tasks.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(state.tasks.discard)
        return JSONResponse(batch)

    @app.get("/v1/batches/{batch_id}")
    async def retrieve(batch_id: str) -> JSONResponse:
        return JSONResponse(state.batch(batch_id))

    @app.get("/v1/batches")
    async def listing() -> JSONResponse:
        data = sorted(state.batches.values(), key=lambda b: b["created_at"], reverse=True)
        return JSONResponse({"object": "list", "data": data, "has_more": False})

    @app.post("/v1/batches/{batch_id}/cancel")
    async def cancel(batch_id: str) -> JSONResponse:
        batch = state.batch(batch_id)
        if batch["status"] not in DONE:
            batch.update(status="cancelling", cancelling_at=int(time.time()))
        return JSONResponse(batch)

    return state


def check_lines(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests of a batch file, or the errors (each naming its line) that fail the batch."""
    requests: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()

    def error(number: int, message: str) -> None:
        errors.append(
            {"code": "invalid_request", "message": f"line {number}: {message}", "param": None, "line": number}
        )

    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        error(1, "the file is not UTF-8 text. Save it as UTF-8 JSONL.")
        return [], errors
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = None
        if not isinstance(line, dict):
            error(number, 'not a JSON object. Each line is {"custom_id", "method", "url", "body"}.')
            continue
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            error(number, "`custom_id` is missing: each request needs an id of its own to match its answer.")
        elif custom_id in seen:
            error(number, f"`custom_id` {custom_id!r} is used twice: each request needs an id of its own.")
        else:
            seen.add(custom_id)
        if line.get("method") != "POST":
            error(number, f"`method` {line.get('method')!r}: the only method is 'POST'.")
        if line.get("url") != endpoint:
            error(number, f"`url` {line.get('url')!r}: every request of this batch goes to {endpoint}.")
        if not isinstance(line.get("body"), dict):
            error(number, "`body` is missing: the request as it would be sent to the url.")
        requests.append(line)
    if not requests and not errors:
        error(1, "the file has no requests.")
    return requests, errors


async def _process(app: FastAPI, state: BatchFiles, batch: dict[str, Any], api_key: str | None) -> None:
    requests, errors = check_lines(state.contents[batch["input_file_id"]], batch["endpoint"])
    now = int(time.time())
    if errors:
        batch.update(status="failed", failed_at=now, errors={"object": "list", "data": errors[:100]})
        return
    batch.update(status="in_progress", in_progress_at=now)
    batch["request_counts"]["total"] = len(requests)
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://batch", headers=headers, timeout=None) as client:

        async def answer(line: dict[str, Any]) -> None:
            async with gate:
                if batch["status"] == "cancelling":
                    return
                response = await client.post(line["url"], json=line["body"])
            item = _output_line(line, response)
            (outputs if response.status_code < 400 else failures).append(item)
            counts = batch["request_counts"]
            counts["completed" if response.status_code < 400 else "failed"] += 1

        await asyncio.gather(*(answer(line) for line in requests))
    batch.update(status="finalizing", finalizing_at=int(time.time()))
    batch["output_file_id"] = _write(state, batch, outputs, "output") if outputs else None
    batch["error_file_id"] = _write(state, batch, failures, "errors") if failures else None
    if batch["status"] == "cancelling":
        batch.update(status="cancelled", cancelled_at=int(time.time()))
    else:
        batch.update(status="completed", completed_at=int(time.time()))


def _output_line(line: dict[str, Any], response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = {"error": {"message": response.text[:500], "type": "server_error"}}
    request_id = body.get("id") if isinstance(body, dict) else None
    error = None
    if response.status_code >= 400:
        detail = body.get("error", {}) if isinstance(body, dict) else {}
        error = {"code": detail.get("code") or str(response.status_code), "message": detail.get("message", "")}
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:24]}",
        "custom_id": line["custom_id"],
        "response": {"status_code": response.status_code, "request_id": request_id, "body": body},
        "error": error,
    }


def _write(state: BatchFiles, batch: dict[str, Any], lines: list[dict[str, Any]], kind: str) -> str:
    content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
    return str(state.add_file(content, f"{batch['id']}_{kind}.jsonl", "batch_output")["id"])
