"""The one abstraction for "a model" that the rest of the workbench uses.

A provider subclasses :class:`Model`, declares what it can do in ``capabilities`` and implements one method:
``_call(request, sink)`` when its calls block (an in-process engine, a blocking client), or ``async
_acall(request, sink)`` when it has native async I/O. The request carries the prompt, the parameters, the hints
the model's capabilities allow, and ``labels`` for log-probability label scoring; a streaming provider sends text
pieces to ``sink`` as they come. Everything else is the base class's, written once: the template method
:meth:`Model.acall` (hints, retries with the run's limiter and timeout, timing, streaming that is retried only
until its first piece), and thin adapters over it — ``generate`` / ``agenerate``, ``classify`` / ``aclassify``,
``stream`` / ``astream``. Callers ask ``model.capabilities`` — never ``hasattr`` or the provider's type.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from abc import ABC
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import workbench.models.bridge as bridge
from workbench.errors import ConfigError, ModelError, RetryableModelError
from workbench.models.retry import Retrier, RetryPolicy
from workbench.models.types import (
    Capabilities,
    ChatMessage,
    ChunkSink,
    Generation,
    GenerationParams,
    Labels,
    PromptInput,
    Request,
    StreamClosed,
    messages_from,
    prompt_as_text,
)


class Model(ABC):  # noqa: B024 - abstract by contract: a provider overrides _call or _acall
    """A model that turns a prompt into text.

    ``max_concurrency`` is how many requests the model takes at once by default (the run's ``concurrency``
    overrides it); ``retry_policy`` is the default for calls made outside a run.
    """

    provider: ClassVar[str] = "base"
    capabilities: Capabilities = Capabilities()
    max_concurrency: int = 1
    retry_policy: RetryPolicy = RetryPolicy()
    shareable: bool = True  # get_model may hand the same instance to every caller of this spec

    def __init__(self, spec: str):
        self.spec = spec

    def __repr__(self) -> str:
        from workbench.secrets import redact

        return f"<{type(self).__name__} {redact(self.spec)}>"

    # -- what a provider implements (one of the two) ---------------------------------------------------------
    def _call(self, request: Request, sink: ChunkSink | None) -> Generation:
        """One blocking call, no retries; raise a :class:`ModelError` subclass on failure."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _call nor _acall.")

    async def _acall(self, request: Request, sink: ChunkSink | None) -> Generation:
        """One async call, no retries. The default runs ``_call`` in a worker thread, relaying its pieces."""
        relay = None if sink is None else _ThreadRelay(sink, asyncio.get_running_loop())
        return await asyncio.to_thread(self._call, request, relay)

    async def preflight(self) -> None:
        """Check, before any cell of a run, that the model can be reached; raise a clear error if not."""
        return None

    async def load(self, prefixes: Sequence[str] = ()) -> float | None:
        """Make the model ready before its first timed call — an in-process model loads its weights here, and
        evaluates the fixed ``prefixes`` of the templates it will answer once (``capabilities.prefix_cache``) — so
        a cell's latency is the model's answer time, never a one-time set-up. The seconds the set-up took, or
        ``None`` when there was nothing to do (an endpoint; a model this process had made ready already)."""
        return None

    def evaluation_mode(self, prefix: str | None) -> str:
        """How a prompt is evaluated; part of the cache key, so a change of method never serves stale outputs."""
        return "standard"

    def identity(self) -> dict[str, Any]:
        """What makes this model's answers this model's: part of every cache key and of provenance. Providers add
        the weights' sha256 (in-process models) or the endpoint and model name (APIs)."""
        return {"provider": self.provider, "spec": self.spec}

    def provenance(self) -> dict[str, Any]:
        """What identifies this model's weights or endpoint, stored with each run (never a key)."""
        return {"spec": self.spec, **self.identity()}

    async def aclose(self) -> None:
        """Release resources bound to the running event loop (HTTP connection pools)."""
        return None

    # -- the template method ---------------------------------------------------------------------------
    def prepared(self, request: Request) -> Request:
        """The request with only the hints this model's capabilities say it takes."""
        caps = self.capabilities
        if request.labels is not None and not caps.logprob_labels:
            raise ConfigError(
                f"{self.spec} cannot score labels by log-probability; remove `method: logprob` from the "
                "template's output section to parse generated text instead."
            )
        if request.tools and not caps.tool_calling:
            raise ConfigError(
                f"{self.spec} takes no tool definitions with a request; a template's tools reach it through the "
                "agent loop (workbench.tools), which uses a JSON-schema grammar for such models."
            )
        return replace(
            request,
            prefix=request.prefix if caps.prefix_cache else None,
            inputs=dict(request.inputs or {}) if caps.takes_inputs else None,
            json_schema=dict(request.json_schema) if request.json_schema and caps.structured_output else None,
        )

    async def acall(
        self, request: Request, *, retrier: Retrier | None = None, sink: ChunkSink | None = None
    ) -> Generation:
        """The one call path: hints → retried attempts (each through the run's limiter and timeout) → timing.
        With a ``sink``, pieces are streamed into it; a failure before the first piece is retried, one after it
        is raised (what was sent cannot be taken back)."""
        request = self.prepared(request)
        retrier = retrier or Retrier(self.retry_policy, spec=self.spec)

        async def attempt() -> Generation:
            start = time.perf_counter()
            try:
                generation = await self._acall(request, sink)
            except RetryableModelError as exc:
                if sink is not None and sink.sent:
                    raise ModelError(f"failed mid-stream after {sink.sent} pieces: {exc}", spec=self.spec) from exc
                raise
            if not generation.latency_ms:
                generation = replace(generation, latency_ms=elapsed_ms(start))
            if sink is not None and not sink.sent:
                sink(generation.text)  # a provider that does not stream sends its text as one piece
            return generation

        generation, attempts = await retrier.acall(attempt)
        return generation.with_attempts(attempts)

    def call(self, request: Request, *, retrier: Retrier | None = None, sink: ChunkSink | None = None) -> Generation:
        """Sync :meth:`acall` (runs on the process's bridge loop, so it works inside Jupyter too)."""
        return bridge.run(self.acall(request, retrier=retrier, sink=sink))

    # -- adapters ----------------------------------------------------------------------------------
    def request(
        self,
        prompt: PromptInput,
        params: GenerationParams | None = None,
        *,
        prefix: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        labels: Labels | None = None,
        tools: Any = None,
        **overrides: Any,
    ) -> Request:
        """A :class:`Request`; ``overrides`` are :class:`GenerationParams` fields; ``tools`` OpenAI-style function
        definitions (for models with ``capabilities.tool_calling``)."""
        merged = (params or GenerationParams()).merged(**overrides)
        tools = tuple(tools) if tools else None
        return Request(
            prompt, merged, prefix=prefix, inputs=inputs, json_schema=json_schema, labels=labels, tools=tools
        )

    def generate(self, prompt: PromptInput, params: GenerationParams | None = None, **options: Any) -> Generation:
        """Generate text (with retries); ``options``: prefix, inputs, json_schema, retrier, or parameter fields."""
        retrier = options.pop("retrier", None)
        return self.call(self.request(prompt, params, **options), retrier=retrier)

    async def agenerate(
        self, prompt: PromptInput, params: GenerationParams | None = None, **options: Any
    ) -> Generation:
        retrier = options.pop("retrier", None)
        return await self.acall(self.request(prompt, params, **options), retrier=retrier)

    def classify(self, prompt: str, labels: Labels, *, prefix: str | None = None) -> Generation:
        """Label scoring by log-probabilities: the label whose words most likely continue ``prompt``."""
        return self.call(self.request(prompt, labels=labels, prefix=prefix))

    async def aclassify(self, prompt: str, labels: Labels, *, prefix: str | None = None, retrier: Any = None):
        return await self.acall(self.request(prompt, labels=labels, prefix=prefix), retrier=retrier)

    def astream(self, prompt: PromptInput, params: GenerationParams | None = None, **options: Any) -> Stream:
        """``async for piece in model.astream(...)``; afterwards ``stream.generation`` has the tokens and finish."""
        retrier = options.pop("retrier", None)
        request = self.request(prompt, params, **options)
        return Stream(lambda sink: self.acall(request, retrier=retrier, sink=sink))

    def stream(self, prompt: PromptInput, params: GenerationParams | None = None, **options: Any) -> SyncStream:
        """Sync :meth:`astream`: iterate the pieces (closing the iterator early stops generation); afterwards
        ``stream.generation`` has the tokens and finish."""
        retrier = options.pop("retrier", None)
        request = self.request(prompt, params, **options)
        return SyncStream(lambda sink: self.acall(request, retrier=retrier, sink=sink))


_END = object()


class Stream:
    """The pieces of one streamed call, then its :class:`Generation` (``.generation``, set when it ends)."""

    def __init__(self, start: Callable[[ChunkSink], Awaitable[Generation]]):
        self._start = start
        self.generation: Generation | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        pieces: asyncio.Queue[Any] = asyncio.Queue()
        sink = ChunkSink(pieces.put_nowait)
        task = asyncio.ensure_future(self._start(sink))
        task.add_done_callback(lambda _: pieces.put_nowait(_END))
        try:
            while (piece := await pieces.get()) is not _END:
                yield piece
            self.generation = task.result()
        finally:
            if not task.done():  # the reader left early: stop the model, wait until it has stopped
                sink.close()
                with contextlib.suppress(Exception, StreamClosed, asyncio.CancelledError):
                    await task


class SyncStream(Iterator[str]):
    """:class:`Stream` for sync code: the call runs on the bridge loop, its pieces are handed over a queue."""

    def __init__(self, start: Callable[[ChunkSink], Awaitable[Generation]]):
        self._start = start
        self._iterator: Iterator[str] | None = None
        self.generation: Generation | None = None

    def __next__(self) -> str:
        if self._iterator is None:
            self._iterator = self._pieces()
        return next(self._iterator)

    def close(self) -> None:
        """Stop generating (what was generated so far stays in the pieces already read)."""
        if self._iterator is not None:
            self._iterator.close()  # type: ignore[attr-defined]

    def _pieces(self) -> Iterator[str]:
        pieces: queue.Queue[Any] = queue.Queue()
        sink = ChunkSink(pieces.put)
        future = bridge.submit(self._start(sink))
        future.add_done_callback(lambda _: pieces.put(_END))
        try:
            while (piece := pieces.get()) is not _END:
                yield piece
            self.generation = future.result()
        finally:
            sink.close()
            with contextlib.suppress(Exception, StreamClosed):
                future.result(timeout=60)


class _ThreadRelay(ChunkSink):
    """A sink for a provider running in a worker thread: pieces go to the loop's sink, thread-safely."""

    def __init__(self, target: ChunkSink, loop: asyncio.AbstractEventLoop):
        super().__init__(lambda text: loop.call_soon_threadsafe(_deliver, target, text))
        self.closed = target.closed


def _deliver(target: ChunkSink, text: str) -> None:
    with contextlib.suppress(StreamClosed):  # the reader left between the thread's check and this delivery
        target(text)


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


__all__ = [
    "Capabilities",
    "ChatMessage",
    "ChunkSink",
    "Generation",
    "GenerationParams",
    "Labels",
    "Model",
    "PromptInput",
    "Request",
    "RetryPolicy",
    "Stream",
    "StreamClosed",
    "SyncStream",
    "elapsed_ms",
    "messages_from",
    "prompt_as_text",
]
