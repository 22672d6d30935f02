"""The records a model call is made of: the prompt (text or chat turns), its sampling parameters, what the model
can do, the request as the model sees it, and the generation it gives back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
Labels = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn. A prompt is either plain completion text or a list of these.

    Tool calling adds two kinds of turn, as OpenAI's API has them: an assistant turn that asks for ``tool_calls``
    (each ``{"id", "name", "arguments"}``, the arguments a mapping) and a ``tool`` turn carrying one call's result
    (``tool_call_id`` says which)."""

    role: Role
    content: str
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    tool_call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The turn in OpenAI's chat shape (a call's arguments as the JSON string the API expects)."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [openai_tool_call(call) for call in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data


def openai_tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    """``{"id", "name", "arguments"}`` as OpenAI's ``tool_calls[i]``: ``{"id", "type", "function": {name, arguments}}``
    with the arguments as a JSON string (kept as written when they were not JSON)."""
    import json

    arguments = call.get("arguments")
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False)
    return {"id": call.get("id") or "", "type": "function", "function": {"name": call["name"], "arguments": text}}


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
    # OpenAI's tool parameters: "auto" | "none" | "required" | {"type": "function", "function": {"name": ...}}
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None

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

    @property
    def reproducible(self) -> bool:
        """Greedy, or seeded: the same request gives the same answer (so it may be answered from the cache)."""
        return self.temperature == 0 or self.seed is not None


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; the pipeline, server and UI decide from this, not from the model's type.

    - ``in_process``: the model runs inside this process (one request at a time; nothing else is in flight, so
      results are written at once rather than by a writer thread).
    - ``streaming``: text arrives in pieces as it is generated (others send their whole text as one piece).
    - ``logprob_labels``: can score label words by log-probability. ``structured_output``: can constrain
      decoding to a JSON schema. ``prefix_cache``: takes the template's fixed leading text as a hint.
    - ``takes_inputs``: a system under test (a chain) that receives the row's inputs, not the rendered prompt.
    - ``seeded_sampling``: honours a seed, so a sampled run gets a seed per (row, repeat) and reproduces.
    - ``chat_template``: chat turns reach a template the model was trained to follow. False for a base model (the
      bundled Gemma 270M has none: chat markup makes it answer empty or junk), so a chat front end such as
      ``workbench.langchain.WorkbenchChat`` sends it a plain role-labelled transcript in completion mode instead.
    - ``cacheable``: answers may be served from the cache (false for test doubles with per-test state).
    - ``batch``: cells can be sent as a batch job (OpenAI's Batch API), collected later at the batch price.
    - ``tool_calling``: takes tool definitions with a request and answers with tool calls (OpenAI's ``tools``,
      LangChain's ``bind_tools``). A model without it can still call tools through a JSON-schema grammar when it
      has ``structured_output`` (:mod:`workbench.tools`).
    - ``price``: US dollars per million tokens (input, output), ``None`` when unknown.
    """

    in_process: bool = False
    streaming: bool = False
    logprob_labels: bool = False
    chat: bool = True
    completion: bool = True
    cacheable: bool = True
    prefix_cache: bool = False
    takes_inputs: bool = False
    structured_output: bool = False
    seeded_sampling: bool = True
    chat_template: bool = True
    batch: bool = False  # takes a provider batch job (OpenAI's Batch API: files + batches, about half the price)
    tool_calling: bool = False
    price: tuple[float, float] | None = None


@dataclass(frozen=True)
class Request:
    """One call as a provider receives it. The base class fills only the hints a model's capabilities say it
    takes: ``prefix`` (prefix_cache), ``inputs`` (takes_inputs), ``json_schema`` (structured_output); ``labels``
    asks for log-probability label scoring instead of generation; ``tools`` (tool_calling) are OpenAI-style
    function definitions, ``{"type": "function", "function": {name, description, parameters}}``."""

    prompt: PromptInput
    params: GenerationParams = field(default_factory=GenerationParams)
    prefix: str | None = None
    inputs: Mapping[str, Any] | None = None
    json_schema: Mapping[str, Any] | None = None
    labels: Labels | None = None
    tools: tuple[Mapping[str, Any], ...] | None = None

    @property
    def text(self) -> str:
        return prompt_as_text(self.prompt)


@dataclass(frozen=True)
class Generation:
    """The result of one model call: the text plus what it cost."""

    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = 0.0  # None for answers that came back in a batch job
    finish_reason: str | None = None
    attempts: int = 1
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    label_scores: dict[str, float] | None = None  # per-label log-probabilities, for log-prob label scoring
    retrieved: tuple[dict[str, Any], ...] = ()  # documents a chain retrieved (LangChain runnables)
    # the calls this answer asks for, each {"id", "name", "arguments"} (arguments a mapping, or the text the model
    # wrote when it was not JSON); after an agent loop, every call of every step, in order
    tool_calls: tuple[dict[str, Any], ...] = ()
    trajectory: tuple[dict[str, Any], ...] = ()  # an agent loop's steps (workbench.tools.loop)

    def with_attempts(self, attempts: int) -> Generation:
        return self if attempts == self.attempts else replace(self, attempts=attempts)


class StreamClosed(Exception):  # noqa: N818 - a signal, not a failure
    """Raised into a provider by its sink when nobody reads the stream any more: stop generating."""


class ChunkSink:
    """Where a streaming provider sends text pieces. Closed when the reader is gone (a client disconnected):
    the next piece raises :class:`StreamClosed`, so an in-process model stops instead of generating for nobody."""

    def __init__(self, on_chunk: Callable[[str], None]):
        self._on_chunk = on_chunk
        self.closed = threading.Event()
        self.sent = 0

    def __call__(self, text: str) -> None:
        if self.closed.is_set():
            raise StreamClosed
        if text:
            self.sent += 1
            self._on_chunk(text)

    def close(self) -> None:
        self.closed.set()


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
