"""Moved to :mod:`workbench.langchain.vectorstore` (everything LangChain-facing lives in ``workbench.langchain``);
this path keeps working."""

from workbench.langchain.vectorstore import (
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
