"""Wrap any LangChain chat model (or LLM) object as a workbench model.

``get_model(ChatOpenAI(...))`` or ``LangChainModel(obj)``: the object is called with
``invoke``/``ainvoke`` and ``stream``. LangChain is imported only when a message list is
built, so the rest of the workbench never needs it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from workbench.errors import ModelError
from workbench.models.base import (
    Generation,
    GenerationParams,
    Model,
    PromptInput,
    elapsed_ms,
    messages_from,
)


def _to_langchain_messages(prompt: PromptInput) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m.role](content=m.content) for m in messages_from(prompt)]


def _text_of(result: Any) -> str:
    content = getattr(result, "content", result)
    if isinstance(content, list):  # content blocks
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


class LangChainModel(Model):
    """A LangChain ``BaseChatModel``/``BaseLLM`` behind the workbench protocol."""

    provider = "langchain"
    can_stream = True

    def __init__(self, lc_model: Any, *, spec: str | None = None, concurrency: int = 4):
        name = getattr(lc_model, "model_name", None) or getattr(lc_model, "model", None)
        super().__init__(spec or f"langchain:{name or type(lc_model).__name__}")
        self.lc_model = lc_model
        self.max_concurrency = concurrency

    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if params.stop:
            kwargs["stop"] = list(params.stop)
        return kwargs

    def _generation(self, result: Any, start: float) -> Generation:
        usage = getattr(result, "usage_metadata", None) or {}
        return Generation(
            text=_text_of(result),
            model=self.spec,
            prompt_tokens=usage.get("input_tokens"),
            completion_tokens=usage.get("output_tokens"),
            latency_ms=elapsed_ms(start),
            raw={"response_metadata": getattr(result, "response_metadata", {})},
        )

    def _generate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        start = time.perf_counter()
        try:
            result = self.lc_model.invoke(_to_langchain_messages(prompt), **self._kwargs(params))
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"LangChain model failed: {type(exc).__name__}: {exc}", spec=self.spec) from exc
        return self._generation(result, start)

    async def _agenerate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        start = time.perf_counter()
        try:
            result = await self.lc_model.ainvoke(_to_langchain_messages(prompt), **self._kwargs(params))
        except Exception as exc:
            raise ModelError(f"LangChain model failed: {type(exc).__name__}: {exc}", spec=self.spec) from exc
        return self._generation(result, start)

    def _stream(self, prompt: PromptInput, params: GenerationParams) -> Iterator[str]:
        for chunk in self.lc_model.stream(_to_langchain_messages(prompt), **self._kwargs(params)):
            text = _text_of(chunk)
            if text:
                yield text
