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
LangChain is imported only here, when such an object is used. (``get_model(WorkbenchChat("local"))`` never gets
here: a workbench model behind LangChain's interface is unwrapped first, see :mod:`workbench.models.adapters`.)
"""

from __future__ import annotations

import hashlib
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
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from workbench.langchain.tool_calls import tool_turn

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [tool_turn(m) or kinds[m.role](content=m.content) for m in messages_from(prompt)]


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
        from workbench.langchain.tool_calls import binds_tools

        seeded = bool(fields & set(PARAM_FIELDS["seed"]))
        self.capabilities = Capabilities(streaming=True, seeded_sampling=seeded, tool_calling=binds_tools(lc_model))

    def _model_for(self, params: GenerationParams) -> Any:
        """A copy of the LangChain model with the run's parameters set on its own fields."""
        fields = set(getattr(type(self.lc_model), "model_fields", {}) or {})
        updates: dict[str, Any] = {}
        refused = []
        for name, value in params.requested.items():
            if (
                name in ("stop", "tool_choice", "parallel_tool_calls") or name in self.ignore_params
            ):  # tools: bind_tools
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
        from workbench.langchain.tool_calls import tool_calls_of

        usage = getattr(result, "usage_metadata", None) or {}
        metadata = getattr(result, "response_metadata", {}) or {}
        calls = tool_calls_of(result)
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

    async def _acall(self, request: Request, sink: ChunkSink | None) -> Generation:
        from workbench.langchain.tool_calls import with_tools

        model = with_tools(self._model_for(request.params), request, self.spec)
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


def _document_record(document: Any, rank: int) -> dict[str, Any]:
    """What a run stores of a retrieved document: as a template's retrieval does (the chunk's id, its document,
    its distance) when the retriever says (the knowledge base's does), else the document's own id."""
    meta = dict(getattr(document, "metadata", {}) or {})
    doc_id = getattr(document, "id", None) or meta.get("id")
    record = {
        "rank": rank,
        "id": meta.get("chunk_id") or doc_id,
        "source": meta.get("source") or doc_id,
        "text": str(getattr(document, "page_content", ""))[:500],
    }
    if isinstance(meta.get("distance"), int | float):
        record["distance"] = meta["distance"]
    return record


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
        """What makes the chain's answers its own: its structure and settings (a hash of its repr, which shows every
        step's non-default settings: the prompt text, each model's parameters, the retriever's ``k``) and the identity
        of each workbench model inside it (the local weights' hash). A changed chain is never served a cached answer
        of another; a repr that shows an object's address only makes the cache miss."""
        cls = type(self.runnable)
        inner = []
        try:
            nodes = list(self.runnable.get_graph().nodes.values())
        except Exception:  # a Runnable that cannot draw its graph: its repr still identifies it
            nodes = []
        for node in nodes:
            if callable(getattr(type(node.data), "__workbench_model__", None)):
                inner.append(node.data.workbench_model.identity())
        return {
            "provider": "langchain-runnable",
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "spec": self.spec,
            "chain": hashlib.sha256(repr(self.runnable).encode()).hexdigest()[:16],
            "models": inner,
        }

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
