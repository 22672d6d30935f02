"""The optimiser's rules without any model: the splits, the minimum held-out size, the acceptance rule's
false-accept rate on simulated candidates (and the in-sample rule's, which it avoids), label-word selection, the
template edits and the proposer's parsing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.datasets import from_records
from workbench.errors import DatasetError
from workbench.optimization import labelwords
from workbench.optimization.acceptance import accept, select_winner
from workbench.optimization.edits import (
    candidate_name,
    renamed,
    with_demonstrations,
    with_front_key,
    with_instruction,
)
from workbench.optimization.proposer import parse_proposal, proposer_template
from workbench.optimization.splits import SplitPlan, min_heldout, row_fingerprint, split_dataset
from workbench.prompts import PromptTemplate, diff_templates, load_prompt
from workbench.stats import ALPHA, mcnemar_exact, paired_verdict
from workbench.testing.fake_openai import canned_proposal


def dataset(n: int, labels: int = 2, skew: float = 0.5):
    rows = []
    for i in range(n):
        label = "a" if i < n * skew else f"l{i % max(1, labels - 1)}"
        rows.append({"id": f"r{i}", "text": f"row {i}", "expected": label})
    return from_records(rows, name="d", source="d.csv")


# -- splits ---------------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(100, 400),
    labels=st.integers(2, 4),
    skew=st.floats(0.2, 0.8),
    seed=st.integers(0, 10_000),
)
def test_splits_are_disjoint_complete_stratified_and_fixed_by_the_seed(n, labels, skew, seed):
    data = dataset(n, labels, skew)
    label_of = lambda row: row["expected"]  # noqa: E731
    s = split_dataset(data, seed=seed, label_of=label_of, label_column="expected")
    ids = {role: s.ids(role) for role in ("train", "dev", "heldout")}
    assert sum(map(len, ids.values())) == n and len(set().union(*map(set, ids.values()))) == n
    assert abs(len(ids["heldout"]) - n / 2) <= 1 and abs(len(ids["train"]) - 0.2 * n) <= 1.5
    totals = Counter(row["expected"] for row in data.rows)
    for role, fraction in (("heldout", 0.5), ("train", 0.2), ("dev", 0.3)):
        counts = Counter(row["expected"] for row in s.of(role).rows)
        for label, total in totals.items():
            assert abs(counts[label] - fraction * total) <= 2, (role, label, counts[label], total)
    again = split_dataset(data, seed=seed, label_of=label_of, label_column="expected")
    assert again.ids("heldout") == ids["heldout"] and again.ids("train") == ids["train"]


def test_spent_rows_never_go_to_held_out_and_too_few_fresh_rows_are_refused_with_the_numbers():
    data = dataset(160)
    first = split_dataset(data, seed=0, label_of=lambda r: r["expected"])
    spent = set(first.fingerprints("heldout"))
    second = split_dataset(data, seed=1, label_of=lambda r: r["expected"], spent=spent, spent_note=" by X")
    assert not set(second.fingerprints("heldout")) & spent and second.spent == 80
    with pytest.raises(DatasetError) as exc:
        split_dataset(data, seed=2, spent=spent | set(second.fingerprints("heldout")), spent_note=" by X and Y")
    message = str(exc.value)
    assert "needs ≥ 50 fresh rows" in message and "160 of the 160 rows" in message and "by X and Y" in message


def test_a_row_is_the_same_row_under_another_id_file_line_or_label():
    a = {"id": "r1", "__line": 2, "text": "good", "expected": "positive"}
    b = {"id": "zz", "__line": 9, "text": "good", "expected": "negative"}
    assert row_fingerprint(a, ignore=["expected"]) == row_fingerprint(b, ignore=["expected"])
    assert row_fingerprint(a, ignore=["expected"]) != row_fingerprint({**a, "text": "bad"}, ignore=["expected"])


@pytest.mark.parametrize("gain, rows", [(0.12, 50), (0.10, 60), (0.2, 30), (1.0, 6)])
def test_min_heldout_is_where_the_exact_mcnemar_test_can_first_reach_alpha_at_the_target_gain(gain, rows):
    assert min_heldout(gain) == rows
    flips = int(gain * rows + 1e-9)
    assert mcnemar_exact(0, flips) < ALPHA, "all flips one way on that many rows is significant"
    assert mcnemar_exact(0, int(gain * (rows - 1) + 1e-9)) >= ALPHA, "one row fewer and it never can be"


def test_a_small_dataset_is_refused_saying_the_minimum():
    with pytest.raises(DatasetError, match=r"d\.csv: 99 rows is too few .* needs at least 100"):
        split_dataset(dataset(99), label_of=lambda r: r["expected"])
    assert SplitPlan(target_gain=0.2).min_rows(2) == 67, "a larger target gain needs fewer held-out rows"
    split_dataset(dataset(100), label_of=lambda r: r["expected"])


# -- the acceptance rule on noise -------------------------------------------------------------------------------
def simulate(rng, *, k, n_dev, n_heldout, base, spread, runs, in_sample=False):
    """Accepted optimisations out of ``runs``, when K candidates are exactly as good as the original: each row has its
    own chance of passing (rows differ in difficulty; prompts do not), so every gain seen is luck."""
    accepted = 0
    for _ in range(runs):
        p_dev = np.clip(rng.normal(base, spread, n_dev), 0.02, 0.98)
        p_held = np.clip(rng.normal(base, spread, n_heldout), 0.02, 0.98)
        dev = rng.random((k + 1, n_dev)) < p_dev  # row 0: the original
        winner = select_winner(int(dev[0].sum()), [int(d.sum()) for d in dev[1:]])
        if winner is None:
            continue
        if in_sample:  # the peers' way: the dev rows that chose the winner also test it
            a, b = dev[0], dev[1 + winner]
        else:
            held = rng.random((2, n_heldout)) < p_held
            a, b = held[0], held[1]
        accepted += accept(int((a & ~b).sum()), int((b & ~a).sum()))
    return accepted / runs


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    k=st.integers(1, 12),
    n_dev=st.integers(20, 120),
    n_heldout=st.integers(50, 200),
    base=st.floats(0.2, 0.85),
    spread=st.floats(0.0, 0.35),
    seed=st.integers(0, 2**31),
)
def test_the_false_accept_rate_over_random_candidate_sets_stays_at_or_below_alpha(
    k, n_dev, n_heldout, base, spread, seed
):
    rate = simulate(
        np.random.default_rng(seed), k=k, n_dev=n_dev, n_heldout=n_heldout, base=base, spread=spread, runs=400
    )
    assert rate <= ALPHA, f"{rate:.3f} of optimisations accepted a candidate no better than the original"


def test_choosing_and_testing_on_the_same_rows_would_accept_noise_far_more_often():
    rng = np.random.default_rng(7)
    kwargs = {"k": 10, "n_dev": 60, "n_heldout": 60, "base": 0.6, "spread": 0.25, "runs": 1000}
    in_sample = simulate(rng, in_sample=True, **kwargs)
    held_out = simulate(rng, **kwargs)
    assert held_out <= ALPHA < in_sample, (held_out, in_sample)


def test_a_winner_must_beat_the_original_on_dev_and_ties_go_to_the_earlier_candidate():
    assert select_winner(10, [8, 10]) is None
    assert select_winner(10, [11, 12, 12]) == 1
    assert select_winner(10, [None, 11]) == 1 and select_winner(10, []) is None
    assert accept(0, 6) and not accept(0, 5) and not accept(6, 0), "only 'better' is accepted"
    assert accept(2, 12) == (paired_verdict(2, 12)[1] == "better")


# -- label words ------------------------------------------------------------------------------------------------
def test_label_word_search_keeps_the_words_that_tell_the_labels_apart():
    template = load_prompt("sentiment_zeroshot_en")
    words = labelwords.candidate_words(template)
    rng = np.random.default_rng(0)
    scores, labels = [], []
    for i in range(40):
        label = "positive" if i % 2 else "negative"
        row = {w: float(rng.normal(-8, 0.5)) for w in words}
        row["good" if label == "positive" else "bad"] += 4.0  # the model says "good"/"bad" when it should
        row["great"] += 3.0  # "great" is likely everywhere: frequent, but tells nothing
        scores.append(row)
        labels.append(label)
    candidates, found = labelwords.search(template, scores, labels)
    by = {c.generator: c for c in candidates}
    assert set(by) >= {"labels:logprob", "labels:top-1"}
    top1 = by["labels:top-1"].edit
    assert top1.output["method"] == "logprob" and dict(top1.output["labels"]) == {
        "positive": ["good"],
        "negative": ["bad"],
    }
    assert (
        found["by_words_per_label"][1] == 1.0
        and labelwords.accuracy(scores, labels, {"positive": ["great"], "negative": ["terrible"]}) < 0.7
    )
    probe = labelwords.probe_template(template)
    other = labelwords.probe_template(template.with_changes(body="Review: {{ text }}\nIt was"))
    assert probe.name != other.name and probe.version == other.version, "same name and version, another text"
    assert probe.assertions == () and set(probe.parser.labels) == set(words) and probe.output["method"] == "logprob"


# -- edits ------------------------------------------------------------------------------------------------------
def test_edits_change_one_part_of_the_file_and_keep_the_rest_as_written():
    template = load_prompt("sentiment_zeroshot_zh")
    edited = with_front_key(template, "output", {**template.output, "method": "logprob"})
    diff = diff_templates(template, edited)
    assert "+  method: logprob" in diff and diff.count("\n-") <= 3 and "model:" not in diff.split("@@")[-1][:5]
    demo = with_demonstrations(template, [({"text": "用了 {{ 两天 }} 就坏了。"}, "难过")])
    assert (
        demo.body.startswith("{% raw %}评论：用了 {{ 两天 }} 就坏了。\n总之，我感觉很难过。")
        and "{% endraw %}" in demo.body
    )
    assert demo.render(text="好").endswith("评论：好\n总之，我感觉很"), "demonstrations are literal text"
    assert demo.static_prefix.startswith("评论：用了 {{ 两天 }}"), "the local model evaluates them once per run"
    chat = PromptTemplate.from_string("---\nname: c\n---\nsystem:\nOld rule.\n\nuser:\n{{ q }}\n")
    new = with_instruction(chat, "New rule.")
    assert new.render(q="x")[0].content == "New rule." and new.render(q="x")[1].content == "x"
    name = candidate_name(template, edited)
    assert name.startswith("sentiment_zeroshot_zh.opt-") and renamed(edited, name).to_text().count(name) == 1
    assert candidate_name(template, edited) != candidate_name(template, demo)


def test_proposals_are_read_from_their_code_block_and_the_stand_in_serves_them_in_order():
    assert parse_proposal("Sure:\n```\nLabel the review.\n```\nthanks") == "Label the review."
    assert parse_proposal("Just this.") == "Just this." and parse_proposal("  ") is None
    assert parse_proposal("```\n" + "x" * 3000 + "\n```") is None
    text = proposer_template().render(instruction="i", prompt="p", examples="e", number=2, total=3)
    assert canned_proposal(str(text), ("one", "two")) == "Here is a better instruction:\n```\ntwo\n```"
    assert canned_proposal("Text: hello", ("one",)) is None
