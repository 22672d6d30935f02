"""An OpenAI-compatible endpoint built only on the standard library's ``http.server``, as a stand-in for "a server
no one here wrote": HTTP/1.0, a connection per request, a small accept backlog, and faults on a schedule.

    python -m workbench.testing.stdlib_openai --port 8000 --backlog 5 --latency 0.02 --every-429 7 --every-500 11

Every ``--every-429``-th request is answered 429 (with ``Retry-After``), every ``--every-500``-th 500; the others
``echo: <last line of the prompt>`` after ``--latency`` seconds. ``GET /stats`` returns how many requests each
prompt received and how many succeeded, so a test can check that every cell was answered exactly once.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Endpoint(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        port: int,
        *,
        backlog: int,
        latency: float,
        every_429: int,
        every_500: int,
        retry_after_ms: int,
        host: str = "127.0.0.1",
    ):
        self.request_queue_size = backlog  # listen() backlog: bursts beyond it are refused or reset
        super().__init__((host, port), Handler)
        self.latency, self.retry_after_ms = latency, retry_after_ms
        self.every_429, self.every_500 = every_429, every_500
        self.lock = threading.Lock()
        self.count = 0
        self.received: Counter[str] = Counter()
        self.succeeded: Counter[str] = Counter()

    def next_fault(self) -> int | None:
        with self.lock:
            self.count += 1
            n = self.count
        if self.every_429 and n % self.every_429 == 0:
            return 429
        if self.every_500 and n % self.every_500 == 0:
            return 500
        return None


class Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "stdlib-model", "object": "model"}]})
        elif self.path == "/stats":
            with self.server.lock:
                self._send(
                    200,
                    {
                        "requests": self.server.count,
                        "received": dict(self.server.received),
                        "succeeded": dict(self.server.succeeded),
                    },
                )
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        chat = self.path.endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body.get("prompt", "")
        with self.server.lock:
            self.server.received[prompt] += 1
        fault = self.server.next_fault()
        if fault == 429:
            ms = self.server.retry_after_ms
            self._send(
                429,
                {"error": {"message": "rate limited"}},
                {"Retry-After": str(max(1, round(ms / 1000))), "retry-after-ms": str(ms)},
            )
            return
        if fault == 500:
            self._send(500, {"error": {"message": "internal error"}})
            return
        time.sleep(self.server.latency)
        text = "echo: " + (prompt.strip().splitlines() or [""])[-1][-40:]
        choice = {"index": 0, "finish_reason": "stop"}
        choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
        self._send(
            200,
            {
                "id": "cmpl-1",
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [choice],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            },
        )
        with self.server.lock:
            self.server.succeeded[prompt] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backlog", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--every-429", type=int, default=0)
    parser.add_argument("--every-500", type=int, default=0)
    parser.add_argument("--retry-after-ms", type=int, default=200)
    args = parser.parse_args()
    Endpoint(
        args.port,
        backlog=args.backlog,
        latency=args.latency,
        every_429=args.every_429,
        every_500=args.every_500,
        retry_after_ms=args.retry_after_ms,
    ).serve_forever()


if __name__ == "__main__":
    main()
