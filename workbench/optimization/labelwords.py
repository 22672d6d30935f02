"""Label-word search: which words the model should fill in for each label (the verbalizer of a cloze prompt).

In prompt learning a cloze prompt (``…我感觉很___``) is turned into a classifier by mapping words to labels. Which
words work depends on the model: "开心" may be what the model writes after a happy review, "棒" may be rare. The
search asks the model itself, through the log-probability path the local model already has:

1. **probe** (one ordinary run over the train rows): a copy of the template whose "labels" are the candidate words
   themselves, one word per label, scored with ``method: logprob`` — every row's stored ``label_scores`` is then the
   log-probability of every candidate word after that row's prompt;
2. **discrimination**: each word goes to the label whose train rows make it most likely relative to the other
   labels' rows (mean log-probability on rows of that label minus the mean on the rest), if any;
3. **selection**: the top ``m`` words per label, ``m`` chosen by train accuracy under the same rule the model uses
   (a label's score is the log-sum-exp of its words' log-probabilities); the candidates are "the words as they were,
   scored by log-probability", "the best m", and "the single best word per label".

Candidate words are the template's own words (both labels); no dev or held-out row is ever scored here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.optimization.candidates import Candidate, label_parser
from workbench.optimization.edits import candidate_name, renamed, with_front_key
from workbench.prompts import PromptTemplate

MAX_WORDS_PER_LABEL = 5


def applicable(template: PromptTemplate, model: Any) -> str | None:
    """Why the label-word search cannot run for this template and model (``None`` when it can)."""
    if label_parser(template) is None:
        return "the prompt has no label parser (`output: {parser: label, labels: …}`)"
    if template.api != "completion":
        return "log-probability scoring needs a completion prompt (a cloze), not chat turns"
    if not model.capabilities.logprob_labels:
        return f"{model.spec} cannot score words by log-probability (the local model can)"
    return None


def candidate_words(template: PromptTemplate) -> list[str]:
    parser = label_parser(template)
    assert parser is not None
    return list(dict.fromkeys(w for words in parser.labels.values() for w in words))


def probe_template(template: PromptTemplate) -> PromptTemplate:
    """The template with every candidate word as its own label and no assertions: a run of it records each word's
    log-probability per row (``details.label_scores``), and nothing is judged."""
    words = candidate_words(template)
    output = {"parser": "label", "labels": {w: [w] for w in words}, "method": "logprob"}
    probe = with_front_key(with_front_key(template, "output", output), "assertions", [])
    return renamed(probe, candidate_name(template, probe).replace(".opt-", ".probe-"))


def word_scores(details: Mapping[str, Any] | None, words: Sequence[str]) -> dict[str, float] | None:
    scores = (details or {}).get("label_scores") or {}
    if not all(w in scores for w in words):
        return None
    return {w: float(scores[w]) for w in words}


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def discriminate(
    scores: Sequence[Mapping[str, float]], labels: Sequence[str], words: Sequence[str]
) -> dict[str, list[tuple[str, float]]]:
    """For each label, its words ranked by how much more likely they are on that label's rows than on the others'
    (only words with a positive margin; each word under one label)."""
    by_label: dict[str, list[Mapping[str, float]]] = {}
    for row, label in zip(scores, labels, strict=True):
        by_label.setdefault(label, []).append(row)
    ranked: dict[str, list[tuple[str, float]]] = {label: [] for label in sorted(by_label)}
    for word in words:
        margins = {}
        for label, rows in by_label.items():
            inside = [r[word] for r in rows]
            outside = [r[word] for other, rs in by_label.items() if other != label for r in rs]
            if inside and outside:
                margins[label] = sum(inside) / len(inside) - sum(outside) / len(outside)
        if margins:
            best = max(margins, key=margins.__getitem__)
            if margins[best] > 0:
                ranked[best].append((word, margins[best]))
    for label in ranked:
        ranked[label].sort(key=lambda item: -item[1])
    return ranked


def accuracy(
    scores: Sequence[Mapping[str, float]], labels: Sequence[str], verbalizer: Mapping[str, Sequence[str]]
) -> float:
    """Train accuracy of a label → words map under log-sum-exp scoring (the label's own name is always one of its
    words, as the label parser adds it)."""
    right = 0
    for row, label in zip(scores, labels, strict=True):
        totals = {
            name: _logsumexp([row[w] for w in dict.fromkeys([name, *words]) if w in row])
            for name, words in verbalizer.items()
            if any(w in row for w in [name, *words])
        }
        right += bool(totals) and max(totals, key=totals.__getitem__) == label
    return right / len(labels) if labels else 0.0


def search(
    template: PromptTemplate, scores: Sequence[Mapping[str, float]], labels: Sequence[str]
) -> tuple[list[Candidate], dict[str, Any]]:
    """Candidates from the probe's word scores on the train rows (and what the search found, for the report)."""
    parser = label_parser(template)
    assert parser is not None
    names = list(parser.labels)
    words = candidate_words(template)
    ranked = discriminate(scores, labels, words)
    found: dict[str, Any] = {"train_rows": len(labels), "words": len(words)}
    candidates = []
    current = {name: [w for w in parser.labels[name] if w != name] for name in names}
    if template.output.get("method") != "logprob":
        found["as_is"] = round(accuracy(scores, labels, current), 4)
        edit = _with_labels(template, current)
        candidates.append(Candidate.of(template, "labels:logprob", "the same words, scored by log-probability", edit))
    if all(ranked.get(name) for name in names):
        trials = {}
        for m in range(1, MAX_WORDS_PER_LABEL + 1):
            verbalizer = {name: [w for w, _ in ranked[name][:m]] for name in names}
            trials[m] = (accuracy(scores, labels, verbalizer), verbalizer)
        best_m = max(trials, key=lambda m: (trials[m][0], -m))
        found["by_words_per_label"] = {m: round(acc, 4) for m, (acc, _) in trials.items()}
        for m in dict.fromkeys([best_m, 1]):
            acc, verbalizer = trials[m]
            shown = "; ".join(f"{name}: {', '.join(ws)}" for name, ws in verbalizer.items())
            description = f"top {m} word(s) per label by log-probability on train ({shown}; train {acc:.0%})"
            candidates.append(
                Candidate.of(template, f"labels:top-{m}", description, _with_labels(template, verbalizer))
            )
    else:
        found["note"] = "some label has no word that is more likely on its rows than on the others'"
    return candidates, found


def _with_labels(template: PromptTemplate, verbalizer: Mapping[str, Sequence[str]]) -> PromptTemplate:
    output = dict(template.output)
    output["labels"] = {name: list(words) for name, words in verbalizer.items()}
    output["method"] = "logprob"
    return with_front_key(template, "output", output)
