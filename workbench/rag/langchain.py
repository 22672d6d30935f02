"""Moved to :mod:`workbench.langchain.knowledge` (everything LangChain-facing lives in ``workbench.langchain``);
this path keeps working."""

from workbench.langchain.knowledge import (
    E5Embeddings,
    KnowledgeBaseRetriever,
    KnowledgeBaseVectorStore,
    retriever,
    to_document,
    vectorstore,
)

__all__ = [
    "E5Embeddings",
    "KnowledgeBaseRetriever",
    "KnowledgeBaseVectorStore",
    "retriever",
    "to_document",
    "vectorstore",
]
