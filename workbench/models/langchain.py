"""LangChain objects as workbench models: chat models and LLMs, and any Runnable as the system under test.

- ``get_model(ChatOpenAI(...))`` wraps a chat model or LLM: the rendered prompt goes in as messages. The run's
  parameters are honoured or refused: temperature / max_tokens / top_p / seed are set on a copy of the model
  when it has such a field (``max_tokens`` also matches ``max_output_tokens``, ``num_predict``…), ``stop`` is
  passed to ``invoke``; a parameter the run asks for that the model cannot take is a clear error, never
  silently ignored (pass ``ignore_params=("temperature",)`` to accept that).
- ``get_model(chain)`` for any other Runnable (a retrieval chain a student built): the chain receives the
  dataset row's inputs (a dict, or one column with ``input_key=``), its output (text, a message, or a dict
  with ``answer``/``output``/``result``) is scored like any model's, and every document a retriever inside it
  returned is recorded with the result (collected by a callback handler, whatever the chain's shape).
LangChain is imported only here, when such an object is used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from workbench.errors import ConfigError, ModelError
from workbench.models.base import Model, elapsed_ms
from workbench.models.types import (
    Capabilities,
    ChunkSink,
    Generation,
    GenerationParams,
    PromptInput,
    Request,
    StreamClosed,
    messages_from,
)

#: Generation parameter -> the field names LangChain integrations use for it.
PARAM_FIELDS = {
    "temperature": ("temperature",),
    "max_tokens": ("max_tokens", "max_output_tokens", "max_completion_tokens", "num_predict", "max_new_tokens"),
    "top_p": ("top_p",),
    "seed": ("seed", "random_seed"),
}
OUTPUT_KEYS = ("answer", "output", "result", "text", "content")


def _to_langchain_messages(prompt: PromptInput) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    messages: list[Any] = []
    for m in messages_from(prompt):
        if m.role == "tool":
            messages.append(ToolMessage(content=m.content, tool_call_id=m.tool_call_id or ""))
        elif m.tool_calls:  # an assistant turn that asked for tools
            calls = [
                {"name": c["name"], "args": dict(c.get("arguments") or {}), "id": c.get("id"), "type": "tool_call"}
                for c in m.tool_calls
            ]
            messages.append(AIMessage(content=m.content, tool_calls=calls))
        else:
            messages.append(kinds[m.role](content=m.content))
    return messages


def _tool_calls_of(result: Any) -> tuple[dict[str, Any], ...]:
    """An AIMessage's ``tool_calls`` (and ``invalid_tool_calls``, whose arguments are kept as the text written) as
    ``{id, name, arguments}``."""
    calls = [
        {"id": c.get("id"), "name": c.get("name"), "arguments": dict(c.get("args") or {})}
        for c in getattr(result, "tool_calls", None) or ()
    ]
    calls += [
        {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("args") or ""}
        for c in getattr(result, "invalid_tool_calls", None) or ()
    ]
    return tuple(calls)


#: Tool parameters go to ``bind_tools``, not to the model's fields.
TOOL_PARAMS = ("tool_choice", "parallel_tool_calls")


def _text_of(result: Any) -> str:
    if isinstance(result, dict):
        for key in OUTPUT_KEYS:
            if key in result:
                return _text_of(result[key])
        raise ModelError(
            f"The chain returned a dict without any of {', '.join(OUTPUT_KEYS)}: keys {', '.join(map(str, result))}. "
            "End the chain with a step that returns the answer text."
        )
    content = getattr(result, "content", result)
    if isinstance(content, list):  # content blocks
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def _name_of(obj: Any) -> str:
    return str(getattr(obj, "model_name", None) or getattr(obj, "model", None) or type(obj).__name__)


def from_langchain(obj: Any, **kwargs: Any) -> Model:
    """A chat model or LLM becomes a :class:`LangChainModel`; any other Runnable a :class:`LangChainRunnable`."""
    try:
        from langchain_core.language_models import BaseLanguageModel
    except ImportError as exc:  # pragma: no cover - the object itself came from langchain_core
        from workbench.registry import missing_extra

        raise missing_extra(exc, "LangChain models") from exc
    if isinstance(obj, BaseLanguageModel):
        return LangChainModel(obj, **kwargs)
    return LangChainRunnable(obj, **kwargs)


class LangChainModel(Model):
    """A LangChain ``BaseChatModel``/``BaseLLM`` behind the workbench protocol."""

    provider = "langchain"

    def __init__(
        self, lc_model: Any, *, spec: str | None = None, concurrency: int = 4, ignore_params: Sequence[str] = ()
    ):
        super().__init__(spec or f"langchain:{_name_of(lc_model)}")
        self.lc_model = lc_model
        self.max_concurrency = concurrency
        self.ignore_params = frozenset(ignore_params)
        self._configured: dict[tuple[tuple[str, Any], ...], Any] = {}
        fields = set(getattr(type(lc_model), "model_fields", {}) or {})
        self.capabilities = Capabilities(
            streaming=True,
            seeded_sampling=bool(fields & set(PARAM_FIELDS["seed"])),
            tool_calling=_binds_tools(lc_model),
        )

    def _model_for(self, params: GenerationParams) -> Any:
        """A copy of the LangChain model with the run's parameters set on its own fields."""
        fields = set(getattr(type(self.lc_model), "model_fields", {}) or {})
        updates: dict[str, Any] = {}
        refused = []
        for name, value in params.requested.items():
            if name == "stop" or name in self.ignore_params or name in TOOL_PARAMS:
                continue
            field_name = next((f for f in PARAM_FIELDS.get(name, ()) if f in fields), None)
            if field_name is None:
                refused.append(f"{name}={value!r}")
            else:
                updates[field_name] = value
        if refused:
            raise ConfigError(
                f"{self.spec} has no setting for {', '.join(refused)}, which the run asks for (from the template's "
                "model.parameters or the run's params). Set it on the LangChain object yourself, remove it, or "
                f"wrap the model with get_model(obj, ignore_params={tuple(n.split('=')[0] for n in refused)!r})."
            )
        key = tuple(sorted(updates.items()))
        if key not in self._configured:
            self._configured[key] = self.lc_model.model_copy(update=updates) if updates else self.lc_model
        return self._configured[key]

    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        return {"stop": list(params.stop)} if params.stop else {}

    def identity(self) -> dict[str, Any]:
        cls = type(self.lc_model)
        return {"provider": "langchain", "class": f"{cls.__module__}.{cls.__qualname__}", "model": self.spec}

    def _generation(self, result: Any, start: float) -> Generation:
        usage = getattr(result, "usage_metadata", None) or {}
        metadata = getattr(result, "response_metadata", {}) or {}
        calls = _tool_calls_of(result)
        return Generation(
            text=_text_of(result),
            model=self.spec,
            prompt_tokens=usage.get("input_tokens"),
            completion_tokens=usage.get("output_tokens"),
            latency_ms=elapsed_ms(start),
            finish_reason=metadata.get("finish_reason") or ("tool_calls" if calls else None),
            raw={"response_metadata": metadata},
            tool_calls=calls,
        )

    def _with_tools(self, model: Any, request: Request) -> Any:
        """The chat model with the request's tools bound (``bind_tools``, with the run's tool parameters)."""
        if not request.tools:
            return model
        options: dict[str, Any] = {}
        if request.params.tool_choice is not None:
            options["tool_choice"] = request.params.tool_choice
        if request.params.parallel_tool_calls is not None:
            options["parallel_tool_calls"] = request.params.parallel_tool_calls
        try:
            return model.bind_tools([dict(t) for t in request.tools], **options)
        except TypeError as exc:
            raise ConfigError(
                f"{self.spec}: bind_tools refused the run's tool parameters ({', '.join(options)}): {exc}. Remove "
                "tool_choice / parallel_tool_calls from the template or the run."
            ) from exc

    async def _acall(self, request: Request, sink: ChunkSink | None) -> Generation:
        model = self._with_tools(self._model_for(request.params), request)
        messages, kwargs = _to_langchain_messages(request.prompt), self._kwargs(request.params)
        start = time.perf_counter()
        try:
            if sink is None:
                return self._generation(await model.ainvoke(messages, **kwargs), start)
            merged = None
            async for chunk in model.astream(messages, **kwargs):
                merged = chunk if merged is None else merged + chunk
                sink(_text_of(chunk))
            return self._generation(merged if merged is not None else "", start)
        except (ModelError, StreamClosed):
            raise
        except Exception as exc:
            raise ModelError(f"LangChain model failed: {type(exc).__name__}: {exc}", spec=self.spec) from exc


def _binds_tools(lc_model: Any) -> bool:
    """Whether the chat model implements ``bind_tools`` (the base class's raises NotImplementedError)."""
    try:
        from langchain_core.language_models import BaseChatModel
    except ImportError:  # pragma: no cover
        return False
    method = getattr(type(lc_model), "bind_tools", None)
    return isinstance(lc_model, BaseChatModel) and method is not None and method is not BaseChatModel.bind_tools


def _document_record(document: Any, rank: int) -> dict[str, Any]:
    meta = dict(getattr(document, "metadata", {}) or {})
    return {
        "rank": rank,
        "id": getattr(document, "id", None) or meta.get("id") or meta.get("chunk_id"),
        "source": meta.get("source"),
        "text": str(getattr(document, "page_content", ""))[:500],
    }


class LangChainRunnable(Model):
    """Any LangChain Runnable as the system under test: row inputs in, answer out, retrieved documents kept."""

    provider = "langchain"
    capabilities = Capabilities(takes_inputs=True, chat=False, completion=False, seeded_sampling=False)

    def __init__(self, runnable: Any, *, spec: str | None = None, input_key: str | None = None, concurrency: int = 4):
        name = getattr(runnable, "name", None) or type(runnable).__name__
        super().__init__(spec or f"langchain-runnable:{name}")
        self.runnable = runnable
        self.input_key = input_key
        self.max_concurrency = concurrency

    def _input(self, inputs: dict[str, Any]) -> Any:
        values = {k: v for k, v in inputs.items() if k not in ("expected", "id") and not k.startswith("__")}
        if self.input_key is not None:
            if self.input_key not in values:
                raise ConfigError(
                    f"{self.spec}: input_key {self.input_key!r} is not a column of the row "
                    f"(columns: {', '.join(values)})."
                )
            return values[self.input_key]
        return values

    def _config(self) -> tuple[dict[str, Any], list[Any]]:
        from langchain_core.callbacks import BaseCallbackHandler

        documents: list[Any] = []

        class CollectDocuments(BaseCallbackHandler):
            def on_retriever_end(self, docs: Sequence[Any], **kwargs: Any) -> None:
                documents.extend(docs)

        return {"callbacks": [CollectDocuments()]}, documents

    def _finish(self, result: Any, documents: list[Any], start: float) -> Generation:
        if isinstance(result, dict) and not documents:
            documents = list(result.get("context") or result.get("source_documents") or [])
        return Generation(
            text=_text_of(result),
            model=self.spec,
            latency_ms=elapsed_ms(start),
            retrieved=tuple(_document_record(d, i) for i, d in enumerate(documents)),
        )

    def identity(self) -> dict[str, Any]:
        cls = type(self.runnable)
        return {"provider": "langchain-runnable", "class": f"{cls.__module__}.{cls.__qualname__}", "spec": self.spec}

    async def _acall(self, request: Request, sink: ChunkSink | None) -> Generation:
        config, documents = self._config()
        start = time.perf_counter()
        try:
            result = await self.runnable.ainvoke(self._input(dict(request.inputs or {})), config=config)
        except (ModelError, ConfigError):
            raise
        except Exception as exc:
            raise ModelError(f"The chain failed: {type(exc).__name__}: {exc}", spec=self.spec) from exc
        return self._finish(result, documents, start)
