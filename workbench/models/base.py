"""The one abstraction for "a model" that the rest of the workbench uses.

A provider subclasses :class:`Model` and implements one method, ``_generate`` (and
optionally ``_agenerate`` for native async and ``_stream`` for token streaming). The
base class owns what every provider needs the same way: parameter validation,
retries with backoff that honour ``Retry-After``, and timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from workbench.errors import ModelError, RetryableModelError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn. A prompt is either plain completion text or a list of these."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


PromptInput = str | Sequence[ChatMessage]


class GenerationParams(BaseModel):
    """Sampling parameters. ``extra="forbid"`` makes a typo (``max_token``) an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(64, ge=1, le=32768)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_p: float | None = Field(None, gt=0.0, le=1.0)

    def merged(self, **overrides: Any) -> GenerationParams:
        """A copy with ``overrides`` applied (``None`` values are ignored)."""
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(data.get("stop"), str):
            data["stop"] = (data["stop"],)
        return GenerationParams(**data)


@dataclass(frozen=True)
class Generation:
    """The result of one model call: the text plus what it cost."""

    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float = 0.0
    finish_reason: str | None = None
    attempts: int = 1
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a :class:`RetryableModelError` (built on tenacity).

    Exponential backoff with jitter, except that a server's ``Retry-After`` wins (capped
    at ``max_wait`` so a misbehaving server cannot park a run for an hour).
    """

    attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 30.0

    def wait_for(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_wait)
        backoff = wait_exponential(multiplier=self.initial_wait, max=self.max_wait) + wait_random(0, self.initial_wait)
        return min(backoff(retry_state), self.max_wait)

    def retrying(self, *, sync: bool) -> Retrying | AsyncRetrying:
        cls = Retrying if sync else AsyncRetrying
        return cls(
            retry=retry_if_exception_type(RetryableModelError),
            stop=stop_after_attempt(self.attempts),
            wait=self.wait_for,
            reraise=False,
        )


def _params(params: GenerationParams | None, overrides: dict[str, Any]) -> GenerationParams:
    return (params or GenerationParams()).merged(**overrides)


class Model(ABC):
    """A model that turns a prompt into text.

    Subclasses set ``provider`` and implement ``_generate``. ``max_concurrency`` tells the
    runner how many requests may be in flight at once (1 for the in-process local model).
    """

    provider: ClassVar[str] = "base"
    can_stream: ClassVar[bool] = False
    max_concurrency: int = 1
    retry_policy: RetryPolicy = RetryPolicy()

    def __init__(self, spec: str):
        self.spec = spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    # -- what a provider implements -------------------------------------------------
    @abstractmethod
    def _generate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        """One call, no retries. Raise a :class:`ModelError` subclass on failure."""

    async def _agenerate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        """Async variant; the default runs ``_generate`` in a worker thread."""
        return await asyncio.to_thread(self._generate, prompt, params)

    def _stream(self, prompt: PromptInput, params: GenerationParams) -> Iterator[str]:
        """Yield text chunks; providers without streaming yield the whole text once."""
        yield self._generate(prompt, params).text

    async def aclose(self) -> None:
        """Release resources bound to the running event loop (HTTP connection pools)."""
        return None

    # -- what callers use ------------------------------------------------------------
    def generate(self, prompt: PromptInput, params: GenerationParams | None = None, **overrides: Any) -> Generation:
        """Generate with retries. ``overrides`` are :class:`GenerationParams` fields."""
        p = _params(params, overrides)
        try:
            for attempt in self.retry_policy.retrying(sync=True):
                with attempt:
                    result = self._generate(prompt, p)
        except RetryError as exc:
            raise _exhausted(exc) from exc.last_attempt.exception()
        return _with_attempts(result, attempt.retry_state.attempt_number)

    async def agenerate(
        self, prompt: PromptInput, params: GenerationParams | None = None, **overrides: Any
    ) -> Generation:
        """Async :meth:`generate`, for notebooks, the runner and the server."""
        p = _params(params, overrides)
        try:
            async for attempt in self.retry_policy.retrying(sync=False):
                with attempt:
                    result = await self._agenerate(prompt, p)
        except RetryError as exc:
            raise _exhausted(exc) from exc.last_attempt.exception()
        return _with_attempts(result, attempt.retry_state.attempt_number)

    def stream(self, prompt: PromptInput, params: GenerationParams | None = None, **overrides: Any) -> Iterator[str]:
        """Yield the output as it is generated. Failures before the first chunk are retried;
        once text has been sent, an error is raised to the caller (it cannot be taken back)."""
        p = _params(params, overrides)
        end = object()
        try:
            for attempt in self.retry_policy.retrying(sync=True):
                with attempt:
                    chunks = iter(self._stream(prompt, p))
                    first = next(chunks, end)
        except RetryError as exc:
            raise _exhausted(exc) from exc.last_attempt.exception()
        if first is end:
            return
        yield first  # type: ignore[misc]
        yield from chunks

    async def astream(
        self, prompt: PromptInput, params: GenerationParams | None = None, **overrides: Any
    ) -> AsyncIterator[str]:
        """Async :meth:`stream`: chunks are produced in a worker thread and handed over.

        If the consumer stops early (a client disconnected), the worker is told to stop and the
        model's generator is closed, so an in-process model does not keep generating for nobody.
        """
        p = _params(params, overrides)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def produce() -> None:
            chunks = self.stream(prompt, p)
            try:
                for chunk in chunks:
                    if stop.is_set():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, ("chunk", chunk))
                loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
            except BaseException as exc:  # handed to the consumer, re-raised there
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
            finally:
                chunks.close()

        task = loop.run_in_executor(None, produce)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "chunk":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    break
        finally:
            stop.set()
            await asyncio.shield(task)


def _with_attempts(result: Generation, attempt: int) -> Generation:
    if attempt == 1:
        return result
    from dataclasses import replace

    return replace(result, attempts=attempt)


def _exhausted(retry_error: RetryError) -> ModelError:
    attempts = retry_error.last_attempt.attempt_number
    exc = retry_error.last_attempt.exception()
    assert isinstance(exc, RetryableModelError)
    return type(exc)(
        f"{_strip_spec(exc)} (gave up after {attempts} attempts)",
        spec=exc.spec,
        status_code=exc.status_code,
        retry_after=exc.retry_after,
    )


def _strip_spec(exc: ModelError) -> str:
    text = str(exc)
    prefix = f"[{exc.spec}] "
    return text[len(prefix) :] if exc.spec and text.startswith(prefix) else text


def messages_from(prompt: PromptInput) -> list[ChatMessage]:
    """Chat messages for a prompt; plain text becomes one user turn."""
    if isinstance(prompt, str):
        return [ChatMessage("user", prompt)]
    return list(prompt)


def prompt_as_text(prompt: PromptInput) -> str:
    """A readable single-string form of a prompt, for logs, caches and tables."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{m.role}: {m.content}" for m in prompt)


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


__all__ = [
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "Model",
    "ModelError",
    "PromptInput",
    "RetryPolicy",
    "messages_from",
    "prompt_as_text",
]
