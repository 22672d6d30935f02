"""What stands between a client and the routes: the bearer key, the body-size limit, and error answers.

The size limit counts the bytes actually read, chunked or not — a ``Content-Length`` that lies, or none at all,
does not get a larger body in. Every error a client can cause is a 4xx whose message says what to send; an
error inside the server is a 500 with an id that is also in the server's log, never a traceback to the client.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from workbench.errors import NotFoundError, StoreError, WorkbenchError
from workbench.models.openai_batch import MAX_BYTES as MAX_UPLOAD_BYTES
from workbench.secrets import redact
from workbench.serve.protocol import RequestError, error_body

log = logging.getLogger("workbench.serve")
UPLOADS = ("/v1/files",)  # a batch file may be as large as OpenAI takes (200 MB); a request, ``limit`` bytes


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"The request body is over the limit of {limit} bytes. Send less.")


class Guard:
    """ASGI middleware (no BaseHTTPMiddleware: its task group would hide the errors a route raises): the bearer key,
    then the body limit — a ``Content-Length`` over it is refused at once, and a body that grows past it as it is
    read (chunked, or lying about its length) raises :class:`BodyTooLarge`, answered 413."""

    def __init__(self, app: Any, *, limit: int, api_key: str | None, upload_limit: int = MAX_UPLOAD_BYTES):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.api_key = api_key

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self.api_key and scope.get("path") != "/health":
            supplied = headers.get(b"authorization", b"")
            if not hmac.compare_digest(supplied, f"Bearer {self.api_key}".encode()):
                message = "Missing or wrong API key: send 'Authorization: Bearer <key>'."
                await _send_json(send, 401, error_body(message, "invalid_api_key"))
                return
        limit = self.upload_limit if scope.get("path") in UPLOADS else self.limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, error_body(str(BodyTooLarge(limit)), "too_large"))
            return
        received = 0

        async def limited() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install(app: FastAPI, *, api_key: str | None, max_body_bytes: int) -> None:
    """Auth, the size limit and the error handlers, before any route runs."""
    _handlers(app)
    app.add_middleware(Guard, limit=max_body_bytes, api_key=api_key)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), exc.code), status_code=exc.status)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "too_large"), status_code=413)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(error_body(redact(str(exc)) or "", "not_found"), status_code=404)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return internal(exc, "The run store is unavailable", 503)

    @app.exception_handler(WorkbenchError)
    async def bad_input(request: Request, exc: WorkbenchError) -> JSONResponse:
        return JSONResponse(error_body(redact(str(exc)) or "", "invalid_request_error"), status_code=400)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        return internal(exc, "Internal server error", 500)


def internal(exc: BaseException, what: str, status: int) -> JSONResponse:
    """Log the error with an id; answer with the id only (the details stay in the server's log)."""
    error_id = uuid.uuid4().hex[:12]
    log.error("%s [%s]: %s", what, error_id, redact(f"{type(exc).__name__}: {exc}"), exc_info=exc)
    message = f"{what} (error id {error_id}; the server log has the details)."
    return JSONResponse(error_body(message, "server_error"), status_code=status)
