"""A small OpenAI-compatible HTTP server with fixed latency and injectable faults.

For tests and benchmarks of everything that talks HTTP (the openai provider, the runner's
retries, resume): it answers ``/v1/completions``, ``/v1/chat/completions`` (stream and
non-stream) and ``/v1/models`` on 127.0.0.1, after ``latency`` seconds, with a deterministic
text. ``faults(prompt_text, attempt)`` may return a fault for that request:

- ``"429"`` / ``("429", retry_after_seconds)`` — rate limited, with a Retry-After header
- ``"500"`` / ``"503"`` — server errors
- ``"timeout"`` — sleeps ``hang_seconds`` before answering (the client times out first)
- ``"malformed"`` — HTTP 200 with a body that is not the API's JSON
- ``"401"`` / ``"404"`` — bad key / unknown model
- ``"break"`` — a streamed answer whose connection drops after two pieces (a provider failing mid-stream)

``requests`` records every request (prompt text, attempt, fault, and for a chat request its messages and the
names of the tools it offered) so tests can check that nothing was lost or called twice.

Tool calls: with ``tool_responder(body)`` set, a chat request that offers ``tools`` is answered by it — a list of
``{name, arguments}`` becomes ``message.tool_calls`` (``finish_reason: "tool_calls"``, streamed as OpenAI streams
them), a string becomes the answer's text, ``None`` falls back to ``responder``. Needs the ``serve`` extra
(starlette, uvicorn).

``proposals``: canned instruction rewrites for ``workbench optimize --proposer`` — a request that carries the
proposer's marker ("Write the new instruction … (Request N of M.)") is answered with proposal N (cycling) inside a
``` block, as an instruction-following model would; every other request goes to ``responder``.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.batch.objects import file_object
from workbench.testing.fake_batches import BatchAPI
from workbench.testing.openai_bodies import (
    completion_body,
    prompt_of,
    tool_call_body,
    tool_calls_of,
    usage_of,
)

Fault = str | tuple[str, float] | None
FaultFn = Callable[[str, int], Fault]
ToolResponder = Callable[[dict[str, Any]], "list[dict[str, Any]] | str | None"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0, process: Any = None) -> None:
    """Return once something accepts connections on 127.0.0.1:``port`` — a server started in another process is
    ready. Raises ``OSError`` after ``timeout`` seconds, or at once if ``process`` (its ``Popen``) has exited."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.time() > deadline or (process is not None and process.poll() is not None):
                raise
            time.sleep(0.05)


def default_responder(prompt: str) -> str:
    """A deterministic answer that depends on the prompt (so caches and rows can be told apart)."""
    tail = prompt.strip().splitlines()[-1] if prompt.strip() else ""
    return f"echo: {tail[-40:]}"


_PROPOSAL_REQUEST = re.compile(r"Write the new instruction.*\(Request (\d+) of (\d+)\.\)", re.DOTALL)


def canned_proposal(prompt: str, proposals: tuple[str, ...]) -> str | None:
    """The canned answer to an optimiser's proposal request (request N gets proposal N, cycling), else ``None``."""
    match = _PROPOSAL_REQUEST.search(prompt) if proposals else None
    if match is None:
        return None
    instruction = proposals[(int(match.group(1)) - 1) % len(proposals)]
    return f"Here is a better instruction:\n```\n{instruction}\n```"


def hashed_vector(text: str, dim: int = 16) -> list[float]:
    """A deterministic bag-of-words vector (for the embeddings endpoint): shared words -> similar vectors."""
    import hashlib

    vector = [0.0] * dim
    for word in text.lower().split():
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    return vector


@dataclass
class FakeOpenAIServer:
    latency: float = 0.0
    faults: FaultFn | None = None
    responder: Callable[[str], str] = default_responder
    tool_responder: ToolResponder | None = None
    models: tuple[str, ...] = ("fake-model",)
    hang_seconds: float = 30.0
    port: int = field(default_factory=free_port)
    requests: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    file_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_delay: float = 0.0  # seconds a batch stays in progress before it completes
    batch_create_delay: float = 0.0  # seconds between creating a batch and answering the request that created it
    batch_api: bool = True  # False: no /v1/batches, as vLLM, Ollama or the llama.cpp server
    jobs: list[dict[str, Any]] = field(default_factory=list)
    proposals: tuple[str, ...] = ()  # canned instructions for the optimiser's proposer (see the module docstring)
    in_flight: int = 0  # completion requests being answered now, counted by the server itself
    peak_in_flight: int = 0
    _attempts: Counter[str] = field(default_factory=Counter)
    _server: Any = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def spec(self, model: str | None = None) -> str:
        return f"openai:{model or self.models[0]}@{self.base_url}"

    def answer_text(self, prompt: str) -> str:
        """What the server says to ``prompt``: a canned proposal for a proposer request, else the responder's text."""
        proposal = canned_proposal(prompt, self.proposals)
        return proposal if proposal is not None else self.responder(prompt)

    def successes(self) -> Counter[str]:
        return Counter(r["prompt"] for r in self.requests if r["fault"] is None)

    # -- the ASGI app ------------------------------------------------------------------
    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response, StreamingResponse
        from starlette.routing import Route

        async def list_models(request: Request) -> Response:
            return JSONResponse({"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})

        async def complete(request: Request) -> Response:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await answer(request)
            finally:
                self.in_flight -= 1

        async def answer(request: Request) -> Response:
            body = await request.json()
            chat = request.url.path.endswith("/chat/completions")
            prompt = prompt_of(body, chat)
            self._attempts[prompt] += 1
            attempt = self._attempts[prompt]
            fault = self.faults(prompt, attempt) if self.faults else None
            kind, retry_after = fault if isinstance(fault, tuple) else (fault, None)
            entry = {"prompt": prompt, "attempt": attempt, "fault": kind, "t": time.time()}
            if chat:
                entry["messages"] = body["messages"]
                entry["tools"] = [t.get("function", {}).get("name") for t in body.get("tools") or ()]
                entry["tool_choice"] = body.get("tool_choice")
            self.requests.append(entry)
            if body.get("model") not in self.models or kind == "404":
                return JSONResponse(
                    {
                        "error": {
                            "message": f"model {body.get('model')!r} not found",
                            "type": "invalid_request_error",
                            "code": "model_not_found",
                        }
                    },
                    status_code=404,
                )
            if self.latency:
                await asyncio.sleep(self.latency)
            if kind == "429":
                headers = {"retry-after": str(retry_after if retry_after is not None else 0.05)}
                return JSONResponse(
                    {"error": {"message": "rate limited", "type": "rate_limit"}}, status_code=429, headers=headers
                )
            if kind in ("500", "502", "503"):
                return JSONResponse({"error": {"message": "upstream failure"}}, status_code=int(kind))
            if kind == "401":
                return JSONResponse({"error": {"message": "bad key", "type": "invalid_api_key"}}, status_code=401)
            if kind == "timeout":
                await asyncio.sleep(self.hang_seconds)
            if kind == "malformed":
                return Response("<html>not json</html>", media_type="application/json")
            answer = self.tool_responder(body) if chat and body.get("tools") and self.tool_responder else None
            if isinstance(answer, list):
                if body.get("stream"):
                    stream = self._stream_calls(answer, body["model"], int(time.time()), f"fake-{attempt}")
                    return StreamingResponse(stream, media_type="text/event-stream")
                return JSONResponse(tool_call_body(prompt, body, answer, f"fake-{attempt}"))
            if isinstance(answer, str):
                body = {**body, "__text": answer}
            if body.get("stream"):
                text = body.get("__text") or self.answer_text(prompt)
                usage = usage_of(prompt, text) if (body.get("stream_options") or {}).get("include_usage") else None
                stream = self._stream(text, chat, body["model"], int(time.time()), usage, drop=kind == "break")
                return StreamingResponse(stream, media_type="text/event-stream")
            responder = (lambda _: body["__text"]) if "__text" in body else self.answer_text
            return JSONResponse(completion_body(prompt, body, chat, responder, f"fake-{attempt}"))

        async def upload_file(request: Request) -> Response:
            form = await request.form()
            upload = form["file"]
            content = await upload.read()
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
            record = file_object(file_id, content, upload.filename, form.get("purpose", "fine-tune"))
            self.file_records[file_id] = record
            return JSONResponse(record)

        async def create_job(request: Request) -> Response:
            body = await request.json()
            if body.get("training_file") not in self.files:
                return JSONResponse({"error": {"message": "unknown training_file"}}, status_code=400)
            job = {
                "id": f"ftjob-{len(self.jobs) + 1}",
                "object": "fine_tuning.job",
                "model": body["model"],
                "training_file": body["training_file"],
                "status": "queued",
                "created_at": int(time.time()),
                "hyperparameters": body.get("hyperparameters") or {},
                "fine_tuned_model": None,
                "organization_id": "org-local",
                "result_files": [],
                "seed": 0,
                "validation_file": None,
            }
            self.jobs.append(job)
            return JSONResponse(job)

        async def embeddings(request: Request) -> Response:
            body = await request.json()
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": hashed_vector(t)} for i, t in enumerate(texts)]
            return JSONResponse(
                {
                    "object": "list",
                    "data": data,
                    "model": body.get("model"),
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                }
            )

        return Starlette(
            routes=[
                Route("/v1/embeddings", embeddings, methods=["POST"]),
                Route("/v1/files", upload_file, methods=["POST"]),
                Route("/v1/fine_tuning/jobs", create_job, methods=["POST"]),
                Route("/v1/models", list_models, methods=["GET"]),
                Route("/v1/completions", complete, methods=["POST"]),
                Route("/v1/chat/completions", complete, methods=["POST"]),
                *(BatchAPI(self).routes() if self.batch_api else []),
            ]
        )

    async def _stream(
        self, text: str, chat: bool, model: str, created: int, usage: dict | None = None, drop: bool = False
    ) -> Any:
        words = text.split(" ")
        for i, word in enumerate(words):
            if drop and i == 2:
                raise ConnectionResetError("the fake provider dropped the stream")  # the body ends unfinished
            piece = word if i == 0 else " " + word
            if chat:
                choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                obj = "chat.completion.chunk"
            else:
                choice = {"index": 0, "text": piece, "finish_reason": None}
                obj = "text_completion"
            chunk = {"id": "fake", "object": obj, "created": created, "model": model, "choices": [choice]}
            yield f"data: {json.dumps(chunk)}\n\n"
            await asyncio.sleep(0)
        if usage is not None:  # stream_options.include_usage: a last chunk with no choices and the usage
            chunk = {"id": "fake", "object": obj, "created": created, "model": model, "choices": [], "usage": usage}
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    async def _stream_calls(self, calls: list[dict[str, Any]], model: str, created: int, id_: str) -> Any:
        """Tool calls streamed as OpenAI streams them: per call, a first piece with its id and name, then its
        arguments' text in two pieces; the last chunk has ``finish_reason: "tool_calls"``."""

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            body = {"id": "fake", "object": "chat.completion.chunk", "created": created, "model": model}
            return f"data: {json.dumps({**body, 'choices': [choice]})}\n\n"

        yield chunk({"role": "assistant", "content": None})
        for index, call in enumerate(tool_calls_of(calls, id_)):
            text = call["function"]["arguments"]
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            yield chunk({"tool_calls": [head]})
            for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                await asyncio.sleep(0)
        yield chunk({}, "tool_calls")
        yield "data: [DONE]\n\n"

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        import uvicorn

        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            backlog=2048,
            limit_concurrency=4096,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-openai", daemon=True)
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("The fake OpenAI server did not start within 10 s.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """``python -m workbench.testing.fake_openai --port 8000 --latency 0.05``: serve until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--batch-delay", type=float, default=0.0, help="Seconds a batch stays in progress.")
    parser.add_argument(
        "--batch-create-delay", type=float, default=0.0, help="Seconds between creating a batch and saying so."
    )
    parser.add_argument("--model", action="append", help="A model name to serve (repeatable; default fake-model).")
    parser.add_argument("--proposal", action="append", help="A canned instruction for the optimiser's proposer.")
    args = parser.parse_args()
    import uvicorn

    models = tuple(args.model or ["fake-model"])
    server = FakeOpenAIServer(
        latency=args.latency,
        port=args.port,
        batch_delay=args.batch_delay,
        batch_create_delay=args.batch_create_delay,
        models=models,
        proposals=tuple(args.proposal or ()),
    )
    uvicorn.run(server.app(), host="127.0.0.1", port=args.port, log_level="warning", backlog=2048)


if __name__ == "__main__":
    main()
