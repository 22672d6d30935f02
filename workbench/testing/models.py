"""Test doubles that ship with the package (as llm's MockModel and httpx's MockTransport do).

They are for unit tests of pure logic; notebooks, the demo and integration tests use the real local model. They
are not production providers: ``get_model("mock")`` works only after :func:`register_test_models` (the test
suite's conftest calls it), or construct them directly.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from workbench.errors import ModelError
from workbench.models.base import Model
from workbench.models.types import Capabilities, ChunkSink, Generation, GenerationParams, PromptInput, Request
from workbench.models.types import prompt_as_text as _text


class MockModel(Model):
    """Answers with queued texts (or errors); records every prompt it was given in ``history``."""

    provider = "mock"
    capabilities = Capabilities(streaming=True, price=(0.0, 0.0))
    shareable = False  # each MockModel holds its own queue and history (get_model never hands out a shared one)

    def __init__(self, spec: str = "mock", *, default: str = "", concurrency: int = 4):
        super().__init__(spec)
        self.default = default
        self.max_concurrency = concurrency
        self._queue: deque[str | Exception] = deque()
        self.history: list[tuple[PromptInput, GenerationParams]] = []
        self._lock = threading.Lock()

    def enqueue(self, *items: str | Exception) -> MockModel:
        self._queue.extend(items)
        return self

    @property
    def calls(self) -> int:
        return len(self.history)

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        with self._lock:
            self.history.append((request.prompt, request.params))
            item = self._queue.popleft() if self._queue else self.default
        if isinstance(item, Exception):
            raise item
        if sink is not None:
            for word in item.split(" "):
                sink(word + " ")
        return Generation(
            text=item,
            model=self.spec,
            prompt_tokens=len(_text(request.prompt).split()),
            completion_tokens=len(item.split()),
        )


class EchoModel(Model):
    """Returns the prompt it was given (the rendered text), to check rendering end to end."""

    provider = "echo"
    capabilities = Capabilities(price=(0.0, 0.0))
    max_concurrency = 8

    def __init__(self, spec: str = "echo"):
        super().__init__(spec)

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        return Generation(text=_text(request.prompt), model=self.spec)


class FunctionModel(Model):
    """A model defined by a Python function ``prompt_text -> output`` (handy for tests and demos)."""

    provider = "function"
    capabilities = Capabilities(price=(0.0, 0.0))

    def __init__(self, fn: Callable[[str], str], spec: str = "function", concurrency: int = 8):
        super().__init__(spec)
        self.fn = fn
        self.max_concurrency = concurrency

    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        try:
            return Generation(text=self.fn(_text(request.prompt)), model=self.spec)
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{type(exc).__name__}: {exc}", spec=self.spec) from exc


def register_test_models() -> None:
    """Make ``mock`` and ``echo`` specs resolvable by :func:`workbench.models.get_model` (for tests)."""
    from workbench.models import register_provider

    register_provider("mock", MockModel)
    register_provider("echo", EchoModel)
