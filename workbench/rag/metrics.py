"""Retrieval quality against a question set with expected sources: hit@k and MRR, per group.

The bundled set (``datasets/rag_questions.jsonl``) groups its questions honestly: ``en`` and ``zh`` (in-language),
``cross`` (the answer is only in the other language's note), ``bilingual`` (either language's note answers), and
``hard`` (a detail that only one of several similar notes holds). Report each group: an average over all of them
hides that cross-lingual retrieval is the hard part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.datasets import load_dataset
from workbench.errors import DatasetError


def evaluate_retrieval(
    kb: Any,
    dataset: Any,
    *,
    question_column: str = "question",
    source_column: str = "expected_source",
    group_column: str | None = "group",
    ks: Sequence[int] = (1, 3, 5),
) -> tuple[Any, Any]:
    """Returns (summary DataFrame per group and overall, per-question DataFrame with the rank of the expected source).

    A hit@k counts when a chunk of the expected source (a document name; several may be given separated by
    ``|``) is among the top k retrieved chunks. MRR uses the rank of the first such chunk (0 if absent in the
    top ``max(ks)``).
    """
    import pandas as pd

    data = load_dataset(dataset)
    data.check_columns([question_column, source_column], template_name="the retrieval evaluation")
    depth = max(ks)
    results = kb.query_many([str(r[question_column]) for r in data.rows], k=depth)
    rows = []
    for row, chunks in zip(data.rows, results, strict=True):
        expected = {s.strip() for s in str(row[source_column]).split("|") if s.strip()}
        rank = next((i + 1 for i, c in enumerate(chunks) if c.source in expected), None)
        record = {
            "question": row[question_column],
            "expected_source": "|".join(sorted(expected)),
            "rank": rank,
            "top": chunks[0].source if chunks else None,
            "retrieved": [c.id for c in chunks],
        }
        if group_column and group_column in row:
            record[group_column] = row[group_column]
        elif group_column and "lang" in row:  # an older question set without groups: by language
            record[group_column] = row["lang"]
        for k in ks:
            record[f"hit@{k}"] = rank is not None and rank <= k
        record["rr"] = 1.0 / rank if rank else 0.0
        rows.append(record)
    per_question = pd.DataFrame(rows)
    if per_question.empty:
        raise DatasetError("The question set is empty.")
    groups = [("all", per_question)]
    if group_column and group_column in per_question:
        groups += [(str(g), frame) for g, frame in per_question.groupby(group_column)]
    summary = pd.DataFrame(
        [
            {
                "group": name,
                "questions": len(frame),
                **{f"hit@{k}": round(float(frame[f"hit@{k}"].mean()), 4) for k in ks},
                "mrr": round(float(frame["rr"].mean()), 4),
            }
            for name, frame in groups
        ]
    )
    return summary, per_question
