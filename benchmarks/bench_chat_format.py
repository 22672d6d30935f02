"""How WorkbenchChat should hand a chat to the local *base* model: measured on 02_rag's answers.

The bundled Gemma 3 270M has no chat template. ``WorkbenchChat`` therefore sends a lone human message as plain
completion text (and a conversation as a role-labelled transcript). This script measures that choice against the two
alternatives on the task 02_rag gates — the first 12 ``en`` and 12 ``zh`` questions of ``datasets/rag_questions.jsonl``,
answered by the LangChain chain of 02_rag (the knowledge base's retriever → the answer prompt → the model), scored by
the expected keywords, greedy:

- ``completion``: the prompt as it is (what WorkbenchChat does; the same text as 02_rag's workbench template);
- ``labelled``: the same prompt as a one-turn transcript, ``User: …`` then ``Assistant:``;
- ``gemma-turns``: Gemma's chat markup (``<start_of_turn>user …``), what the local provider does with chat turns.

Usage: python benchmarks/bench_chat_format.py
"""

from __future__ import annotations

import sys
import tempfile
from operator import itemgetter
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate as LCPromptTemplate

import workbench as wb
from workbench.datasets import load_dataset
from workbench.langchain import WorkbenchChat, retriever
from workbench.langchain.messages import TRANSCRIPT_STOPS
from workbench.prompts import PromptTemplate
from workbench.rag import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from sections import Section  # noqa: E402

ANSWER = "{context}\n\nQuestion: {question}\nAnswer:"
STOPS = ["\n\n", "Question:"]
SCORED = PromptTemplate.from_string("---\nname: rag_chain\nassertions: [{type: contains}]\n---\n{{ question }}")


def format_docs(docs: list[Any]) -> str:
    return "\n\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in docs)


def chain(kb: KnowledgeBase, fmt: str) -> Any:
    text = f"User: {ANSWER}\n\nAssistant:" if fmt == "labelled" else ANSWER
    stops = STOPS + list(TRANSCRIPT_STOPS) if fmt == "labelled" else STOPS
    llm = WorkbenchChat("local", max_tokens=40, stop=stops, prompt_format="chat" if fmt == "gemma-turns" else "auto")
    context = itemgetter("question") | retriever(kb, k=3) | format_docs
    return (
        {"context": context, "question": itemgetter("question")}
        | LCPromptTemplate.from_template(text)
        | llm
        | (StrOutputParser())
    )


def main() -> None:
    path = tempfile.mkdtemp()
    kb = KnowledgeBase("llm-notes", path=path, chunk_size=400, chunk_overlap=60)
    kb.ingest(ROOT / "datasets" / "knowledge_base")
    rows = list(load_dataset(ROOT / "datasets" / "rag_questions.jsonl").rows)
    out = Section(
        "bench_chat_format",
        "How a chat reaches the base model (WorkbenchChat)",
        "python benchmarks/bench_chat_format.py",
    )
    out(
        "02_rag's LangChain chain (`WorkbenchChat(\"local\")` + the knowledge base's retriever) on the first 12 `en` "
        "and `zh` questions, scored by the expected keywords, with the prompt sent three ways: as completion text "
        "(what WorkbenchChat sends for a lone message), labelled `User:`/`Assistant:` turns, and Gemma's chat markup.\n"
    )
    out("| prompt sent to the local model | en (12) | zh (12) | both |\n|---|---|---|---|")
    for fmt in ("completion", "labelled", "gemma-turns"):
        passed = {}
        for group in ("en", "zh"):
            subset = [r for r in rows if r["group"] == group][:12]
            result = wb.run(SCORED, subset, [chain(kb, fmt)], store=f"{path}/runs.db", progress=False)
            passed[group] = sum(bool(r.passed) for r in result.records)
        total = passed["en"] + passed["zh"]
        out(f"| {fmt} | {passed['en']}/12 | {passed['zh']}/12 | {total}/24 |")
    out.save()


if __name__ == "__main__":
    main()
