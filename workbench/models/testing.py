"""Test doubles that ship with the package (as llm's MockModel and httpx's MockTransport do).

They are for unit tests of pure logic; notebooks, the demo and integration tests use the
real local model.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from workbench.errors import ModelError
from workbench.models.base import (
    Capabilities,
    Generation,
    GenerationParams,
    Model,
    PromptInput,
    prompt_as_text,
)


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

    def _generate(self, prompt: PromptInput, params: GenerationParams, **hints: object) -> Generation:
        with self._lock:
            self.history.append((prompt, params))
            item = self._queue.popleft() if self._queue else self.default
        if isinstance(item, Exception):
            raise item
        return Generation(
            text=item,
            model=self.spec,
            prompt_tokens=len(prompt_as_text(prompt).split()),
            completion_tokens=len(item.split()),
        )

    def _stream(self, prompt: PromptInput, params: GenerationParams, **hints: object) -> Iterator[str]:
        text = self._generate(prompt, params).text
        for word in text.split(" "):
            yield word + " "


class EchoModel(Model):
    """Returns the prompt it was given (the rendered text), to check rendering end to end."""

    provider = "echo"
    capabilities = Capabilities(price=(0.0, 0.0))

    def __init__(self, spec: str = "echo"):
        super().__init__(spec)
        self.max_concurrency = 8

    def _generate(self, prompt: PromptInput, params: GenerationParams, **hints: object) -> Generation:
        return Generation(text=prompt_as_text(prompt), model=self.spec)


class FunctionModel(Model):
    """A model defined by a Python function ``prompt_text -> output`` (handy for tests and demos)."""

    provider = "function"
    capabilities = Capabilities(price=(0.0, 0.0))

    def __init__(self, fn: Callable[[str], str], spec: str = "function", concurrency: int = 8):
        super().__init__(spec)
        self.fn = fn
        self.max_concurrency = concurrency

    def _generate(self, prompt: PromptInput, params: GenerationParams, **hints: object) -> Generation:
        try:
            return Generation(text=self.fn(prompt_as_text(prompt)), model=self.spec)
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{type(exc).__name__}: {exc}", spec=self.spec) from exc
