"""The one abstraction for "a model" that the rest of the workbench uses.

A provider subclasses :class:`Model`, declares what it can do in ``capabilities`` and implements one method,
``_generate`` (optionally ``_agenerate`` for native async, ``_stream`` for token streaming, ``_classify`` for
label scoring by log-probabilities, ``preflight`` to check an endpoint before a run). The base class owns what
every provider needs the same way: parameter validation, retries (:mod:`workbench.models.retry`) and timing.
Callers ask ``model.capabilities`` — never ``hasattr`` or the provider's type — what a model supports.
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.errors import ConfigError
from workbench.models.retry import Retrier, RetryPolicy

Role = Literal["system", "user", "assistant"]
Labels = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn. A prompt is either plain completion text or a list of these."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


PromptInput = str | Sequence[ChatMessage]


class GenerationParams(BaseModel):
    """Sampling parameters. ``extra="forbid"`` makes a typo (``max_token``) an error, not a default.

    ``model_fields_set`` tells which values were asked for (by the template or the run) rather than defaulted,
    so a provider that cannot honour a parameter refuses only the ones somebody set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(64, ge=1, le=32768)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_p: float | None = Field(None, gt=0.0, le=1.0)

    def merged(self, **overrides: Any) -> GenerationParams:
        """A copy with ``overrides`` applied (``None`` values are ignored)."""
        data = self.model_dump(exclude_unset=True)
        data.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(data.get("stop"), str):
            data["stop"] = (data["stop"],)
        return GenerationParams(**data)

    @property
    def requested(self) -> dict[str, Any]:
        """The parameters explicitly set (not defaults)."""
        return {k: getattr(self, k) for k in sorted(self.model_fields_set)}


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; the pipeline, server and UI decide from this, not from the model's type.

    ``price`` is US dollars per million tokens (input, output), ``None`` when unknown. ``cacheable`` says a
    response may be answered from the cache (false for test doubles that hold per-test state). ``prefix_cache``:
    the model takes the template's fixed leading text as a hint; ``takes_inputs``: the model is a system under
    test (a chain) that receives the dataset row's inputs rather than the rendered prompt.
    """

    streaming: bool = False
    logprob_labels: bool = False
    chat: bool = True
    completion: bool = True
    cacheable: bool = True
    prefix_cache: bool = False
    takes_inputs: bool = False
    structured_output: bool = False  # can constrain decoding to a JSON schema (llama.cpp grammars)
    seeded_sampling: bool = True  # takes a seed, so a sampled run gets a seed per (row, repeat) and reproduces
    price: tuple[float, float] | None = None


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
    label_scores: dict[str, float] | None = None  # per-label log-probabilities, for log-prob label scoring
    retrieved: tuple[dict[str, Any], ...] = ()  # documents a chain retrieved (LangChain runnables)


class Model(ABC):
    """A model that turns a prompt into text.

    ``max_concurrency`` tells the runner how many requests may be in flight at once (1 for the in-process
    local model). ``retry_policy`` is the default for calls made outside a run.
    """

    provider: ClassVar[str] = "base"
    capabilities: Capabilities = Capabilities()
    max_concurrency: int = 1
    retry_policy: RetryPolicy = RetryPolicy()

    def __init__(self, spec: str):
        self.spec = spec

    def __repr__(self) -> str:
        from workbench.secrets import redact

        return f"<{type(self).__name__} {redact(self.spec)}>"

    # -- what a provider implements -------------------------------------------------
    @abstractmethod
    def _generate(self, prompt: PromptInput, params: GenerationParams, **hints: Any) -> Generation:
        """One call, no retries. Raise a :class:`ModelError` subclass on failure.

        ``hints`` carries ``prefix`` (the template's fixed leading text) to providers whose capabilities say
        ``prefix_cache``, ``inputs`` (the row's values) to those that say ``takes_inputs``, and ``json_schema``
        (constrain the output) to those that say ``structured_output``; others never receive them.
        """

    async def _agenerate(self, prompt: PromptInput, params: GenerationParams, **hints: Any) -> Generation:
        """Async variant; the default runs ``_generate`` in a worker thread."""
        return await asyncio.to_thread(self._generate, prompt, params, **hints)

    def _stream(self, prompt: PromptInput, params: GenerationParams, **hints: Any) -> Iterator[str]:
        """Yield text chunks; providers without streaming yield the whole text once."""
        yield self._generate(prompt, params, **hints).text

    def _classify(self, prompt: str, labels: Labels, **hints: Any) -> tuple[str, dict[str, float]]:
        """(best word, per-label log-probability scores). Only for ``capabilities.logprob_labels``."""
        raise ConfigError(f"{self.spec} cannot score labels by log-probability.")

    async def preflight(self) -> None:
        """Check, before any cell of a run, that the model can be reached; raise a clear error if not."""
        return None

    def evaluation_mode(self, prefix: str | None) -> str:
        """How a prompt is evaluated; part of the cache key, so a change of method never serves stale outputs."""
        return "standard"

    def provenance(self) -> dict[str, Any]:
        """What identifies this model's weights or endpoint, stored with each run (never a key)."""
        return {"spec": self.spec, "provider": self.provider}

    async def aclose(self) -> None:
        """Release resources bound to the running event loop (HTTP connection pools)."""
        return None

    # -- what callers use ------------------------------------------------------------
    def _hints(
        self, prefix: str | None, inputs: Mapping[str, Any] | None = None, json_schema: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        hints: dict[str, Any] = {}
        if prefix and self.capabilities.prefix_cache:
            hints["prefix"] = prefix
        if self.capabilities.takes_inputs:
            hints["inputs"] = dict(inputs or {})
        if json_schema and self.capabilities.structured_output:
            hints["json_schema"] = dict(json_schema)
        return hints

    def generate(
        self,
        prompt: PromptInput,
        params: GenerationParams | None = None,
        *,
        prefix: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        retrier: Retrier | None = None,
        **overrides: Any,
    ) -> Generation:
        """Generate with retries. ``overrides`` are :class:`GenerationParams` fields."""
        p = (params or GenerationParams()).merged(**overrides)
        hints = self._hints(prefix, inputs, json_schema)
        result, attempts = (retrier or Retrier(self.retry_policy)).call(lambda: self._generate(prompt, p, **hints))
        return _with_attempts(result, attempts)

    async def agenerate(
        self,
        prompt: PromptInput,
        params: GenerationParams | None = None,
        *,
        prefix: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        retrier: Retrier | None = None,
        **overrides: Any,
    ) -> Generation:
        """Async :meth:`generate`, for notebooks, the runner and the server."""
        p = (params or GenerationParams()).merged(**overrides)
        hints = self._hints(prefix, inputs, json_schema)
        result, attempts = await (retrier or Retrier(self.retry_policy)).acall(
            lambda: self._agenerate(prompt, p, **hints)
        )
        return _with_attempts(result, attempts)

    def classify(self, prompt: str, labels: Labels, *, prefix: str | None = None) -> Generation:
        """Label scoring by log-probabilities: the label whose words most likely continue ``prompt``."""
        if not self.capabilities.logprob_labels:
            raise ConfigError(
                f"{self.spec} cannot score labels by log-probability; remove `method: logprob` from the "
                "template's output section to parse generated text instead."
            )
        start = time.perf_counter()
        word, scores = self._classify(prompt, labels, **self._hints(prefix))
        return Generation(
            text=word,
            model=self.spec,
            completion_tokens=0,
            latency_ms=elapsed_ms(start),
            finish_reason="logprob",
            label_scores=scores,
        )

    async def aclassify(self, prompt: str, labels: Labels, *, prefix: str | None = None) -> Generation:
        return await asyncio.to_thread(self.classify, prompt, labels, prefix=prefix)

    def stream(
        self,
        prompt: PromptInput,
        params: GenerationParams | None = None,
        *,
        prefix: str | None = None,
        **overrides: Any,
    ) -> Iterator[str]:
        """Yield the output as it is generated. Failures before the first chunk are retried;
        once text has been sent, an error is raised to the caller (it cannot be taken back)."""
        p = (params or GenerationParams()).merged(**overrides)
        hints = self._hints(prefix)
        end = object()

        def first_chunk() -> tuple[Iterator[str], Any]:
            chunks = iter(self._stream(prompt, p, **hints))
            return chunks, next(chunks, end)

        (chunks, first), _ = Retrier(self.retry_policy).call(first_chunk)
        if first is end:
            return
        try:
            yield first  # type: ignore[misc]
            yield from chunks
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def astream(
        self,
        prompt: PromptInput,
        params: GenerationParams | None = None,
        *,
        prefix: str | None = None,
        **overrides: Any,
    ) -> AsyncIterator[str]:
        """Async :meth:`stream`: chunks are produced in a worker thread and handed over.

        If the consumer stops early (a client disconnected), the worker is told to stop and the
        model's generator is closed, so an in-process model does not keep generating for nobody.
        """
        p = (params or GenerationParams()).merged(**overrides)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def produce() -> None:
            chunks = self.stream(prompt, p, prefix=prefix)
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
    return result if attempt == 1 else replace(result, attempts=attempt)


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
    "Capabilities",
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "Model",
    "PromptInput",
    "RetryPolicy",
    "messages_from",
    "prompt_as_text",
]
