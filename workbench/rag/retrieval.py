"""Fill a template's retrieval variables from a knowledge base, for every row, before any model call.

A template declares, in its front matter::

    retrieval:
      context:                          # the variable the retriever fills
        knowledge_base: llm_notes       # the Chroma collection
        query: question                 # the variable whose value is the search text
        k: 3
        documents: datasets/knowledge_base   # optional: ingest (idempotent) before retrieving
        chunk_size: 400                 # optional ingestion settings; path / embedder too

The runner stores the retrieved chunk ids and distances with each result, so a wrong answer can be traced
back to the chunks it was built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ConfigError, DatasetError


def _knowledge_base(spec: Mapping[str, Any], template_name: str) -> Any:
    from workbench.paths import project_root
    from workbench.rag.knowledge import KnowledgeBase, open_knowledge_base

    name = spec.get("knowledge_base")
    if not name:
        raise ConfigError(f"Prompt {template_name!r}: a retrieval entry needs `knowledge_base:` (a collection name).")
    options = {k: spec[k] for k in ("path", "host", "port", "embedder") if k in spec}
    if "path" in options:
        options["path"] = project_root() / options["path"]
    documents = spec.get("documents")
    if documents:
        kb = KnowledgeBase(
            name,
            chunk_size=int(spec.get("chunk_size", 400)),
            chunk_overlap=int(spec.get("chunk_overlap", 60)),
            **options,
        )
        kb.ingest(project_root() / documents)
        return kb
    return open_knowledge_base(name, **options)


def retrieve_for_rows(template: Any, rows: Sequence[Mapping[str, Any]]) -> list[tuple[dict[str, str], list[dict]]]:
    """For each row: (values for the retrieval variables, [{id, source, distance}, ...] retrieved)."""
    from workbench.rag.knowledge import format_context

    out: list[tuple[dict[str, str], list[dict]]] = [({}, []) for _ in rows]
    for target, spec in template.retrieval.items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"Prompt {template.name!r}: retrieval.{target} must be a mapping (knowledge_base, ...).")
        query_var = spec.get("query", "question")
        missing = [i for i, row in enumerate(rows) if not str(row.get(query_var) or "").strip()]
        if missing:
            raise DatasetError(
                f"Retrieval for {target!r} searches with column {query_var!r}, which is empty or missing in rows "
                f"{', '.join(map(str, missing[:10]))}."
            )
        kb = _knowledge_base(spec, template.name)
        results = kb.query_many([str(row[query_var]) for row in rows], k=int(spec.get("k", 4)))
        for (values, trace), chunks in zip(out, results, strict=True):
            values[target] = format_context(chunks)
            trace.extend(
                {"var": target, "id": c.id, "source": c.source, "distance": round(c.distance or 0.0, 4)} for c in chunks
            )
    return out
