"""OpenAI's Batch API, for the local stand-in server: ``POST /v1/files`` (purpose ``batch``, the JSONL of
requests), ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches``, ``POST /v1/batches/{id}/cancel``,
``GET /v1/files/{id}`` and ``GET /v1/files/{id}/content``.

Written from OpenAI's API reference so that the official client's ``files.create``, ``batches.create``,
``batches.retrieve`` and ``files.content`` drive it unchanged. A batch goes validating → in_progress →
finalizing → completed after ``batch_delay`` seconds; each input line ``{custom_id, method, url, body}`` gets an
output line ``{id, custom_id, response: {status_code, request_id, body}, error}``, in shuffled order (the API does
not promise the input order); a line whose model the server does not serve goes to the error file.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from workbench.batch.objects import batch_object, file_object
from workbench.testing.openai_bodies import completion_body, prompt_of

ENDPOINTS = ("/v1/completions", "/v1/chat/completions")


class BatchAPI:
    def __init__(self, server: Any):
        self.server = server

    def routes(self) -> list[Any]:
        from starlette.routing import Route

        return [
            Route("/v1/batches", self.create, methods=["POST"]),
            Route("/v1/batches", self.listing, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self.retrieve, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self.cancel, methods=["POST"]),
            Route("/v1/files/{file_id}", self.file, methods=["GET"]),
            Route("/v1/files/{file_id}/content", self.content, methods=["GET"]),
        ]

    async def create(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        body = await request.json()
        if body.get("input_file_id") not in self.server.files:
            return JSONResponse(_error("No such file: input_file_id", "invalid_request_error"), status_code=400)
        if body.get("endpoint") not in ENDPOINTS or body.get("completion_window") != "24h":
            return JSONResponse(_error("endpoint or completion_window not supported", "invalid_request_error"), 400)
        batch_id = f"batch_{len(self.server.batches) + 1:04d}"
        batch = batch_object(batch_id, body)
        self.server.batches[batch_id] = batch
        asyncio.get_running_loop().create_task(self._process(batch))
        await asyncio.sleep(self.server.batch_create_delay)  # the batch exists at the provider; the client waits
        return JSONResponse(batch)

    async def _process(self, batch: dict[str, Any]) -> None:
        lines = self.server.files[batch["input_file_id"]].decode("utf-8").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
        batch.update(status="in_progress", in_progress_at=int(time.time()))
        batch["request_counts"]["total"] = len(requests)
        await asyncio.sleep(self.server.batch_delay)
        if batch["status"] in ("cancelling", "cancelled"):
            batch.update(status="cancelled", cancelled_at=int(time.time()))
            return
        batch.update(status="finalizing", finalizing_at=int(time.time()))
        outputs, errors = self._answer(batch, requests)
        random.Random(batch["id"]).shuffle(outputs)
        batch["output_file_id"] = self._store_file(batch, outputs, "output")
        batch["error_file_id"] = self._store_file(batch, errors, "errors") if errors else None
        batch["request_counts"].update(completed=len(outputs), failed=len(errors))
        batch.update(status="completed", completed_at=int(time.time()))

    def _answer(self, batch: dict[str, Any], requests: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
        outputs, errors = [], []
        chat = batch["endpoint"].endswith("/chat/completions")
        for i, line in enumerate(requests):
            body = line.get("body") or {}
            request_id = f"req_{batch['id']}_{i}"
            if body.get("model") not in self.server.models:
                error = {"code": "model_not_found", "message": f"model {body.get('model')!r} not found"}
                errors.append(
                    {"id": f"batch_req_{i}", "custom_id": line.get("custom_id"), "response": None, "error": error}
                )
                continue
            prompt = prompt_of(body, chat)
            self.server.requests.append(
                {"prompt": prompt, "attempt": 1, "fault": None, "t": time.time(), "batch": True}
            )
            answer = completion_body(prompt, body, chat, self.server.responder, request_id)
            response = {"status_code": 200, "request_id": request_id, "body": answer}
            outputs.append(
                {"id": f"batch_req_{i}", "custom_id": line.get("custom_id"), "response": response, "error": None}
            )
        return outputs, errors

    def _store_file(self, batch: dict[str, Any], lines: list[dict[str, Any]], kind: str) -> str:
        content = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
        file_id = f"file-{len(self.server.files) + 1}"
        self.server.files[file_id] = content
        self.server.file_records[file_id] = file_object(file_id, content, f"{batch['id']}_{kind}.jsonl", "batch_output")
        return file_id

    async def retrieve(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        batch = self.server.batches.get(request.path_params["batch_id"])
        if batch is None:
            return JSONResponse(_error("No such batch", "not_found"), status_code=404)
        return JSONResponse(batch)

    async def listing(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        data = sorted(self.server.batches.values(), key=lambda b: b["id"], reverse=True)  # newest first, as OpenAI
        after = request.query_params.get("after")
        if after is not None:
            data = data[[b["id"] for b in data].index(after) + 1 :] if after in self.server.batches else []
        limit = int(request.query_params.get("limit") or 20)
        page = data[:limit]
        return JSONResponse(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(data) > limit,
            }
        )

    async def cancel(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        batch = self.server.batches.get(request.path_params["batch_id"])
        if batch is None:
            return JSONResponse(_error("No such batch", "not_found"), status_code=404)
        if batch["status"] in ("validating", "in_progress"):
            batch.update(status="cancelling", cancelling_at=int(time.time()))
        return JSONResponse(batch)

    async def file(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        record = self.server.file_records.get(request.path_params["file_id"])
        if record is None:
            return JSONResponse(_error("No such file", "not_found"), status_code=404)
        return JSONResponse(record)

    async def content(self, request: Any) -> Any:
        from starlette.responses import JSONResponse, Response

        content = self.server.files.get(request.path_params["file_id"])
        if content is None:
            return JSONResponse(_error("No such file", "not_found"), status_code=404)
        return Response(content, media_type="application/octet-stream")


def _line(index: int, request: dict[str, Any], response: Any, error: Any) -> dict[str, Any]:
    return {"id": f"batch_req_{index}", "custom_id": request.get("custom_id"), "response": response, "error": error}


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind}}
