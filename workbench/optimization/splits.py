"""Three fixed splits of a dataset — train, dev, held-out — stratified by label, and how small they may be.

Why three: candidates *learn* from train (demonstrations, bad cases, label-word scores), are *ranked* on dev, and
the dev winner is *tested once* against the original on held-out rows that no generator and no ranking has seen.
Choosing the best of K candidates on dev rows makes the winner's dev score optimistic (the more candidates, the
more); the held-out test is one paired comparison of two prompts, so it needs no correction for K.

Proportions (:data:`FRACTIONS`): 20 % train, 30 % dev, 50 % held-out. The held-out half is the largest because it
is the one number the decision rests on: the exact McNemar test needs at least :func:`~workbench.stats.min_discordant`
(6 at α = 0.05) discordant rows all one way, so ``n`` held-out rows can only ever show a gain of ``6 / n``. A
100-row dataset gives 50 held-out rows, enough for the default target gain of 12 points; train only has to supply a
few demonstrations per label, and dev only has to rank.

Rows already spent as held-out for this prompt by an earlier optimisation (:mod:`workbench.optimization.ledger`) are
never held out again: they may still teach (train) or rank (dev), but the held-out rows are drawn from fresh ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.dataset_files import LINE_KEY
from workbench.datasets import Dataset
from workbench.errors import DatasetError
from workbench.stats import ALPHA, min_discordant

FRACTIONS: dict[str, float] = {"train": 0.2, "dev": 0.3, "heldout": 0.5}
ROLES = ("train", "dev", "heldout")
TARGET_GAIN = 0.12  # the gain (in pass rate) the report targets: 6 one-way flips on 50 held-out rows
MIN_DEV = 20  # rows: fewer and ranking K candidates is mostly noise
MIN_TRAIN_PER_LABEL = 2  # demonstrations need at least this many rows of every label


def row_fingerprint(row: Mapping[str, Any], id_column: str = "id", ignore: Iterable[str] = ()) -> str:
    """What a row *is*, apart from its id, its file line and its expected answer (``ignore``): the same review under
    another id, in another file or with a corrected label is the same test of the prompt, so spending it as held-out
    is remembered across files and relabelling."""
    skip = {LINE_KEY, id_column, *ignore}
    content = {k: v for k, v in row.items() if k not in skip}
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def min_heldout(target_gain: float = TARGET_GAIN, alpha: float = ALPHA) -> int:
    """The fewest held-out rows on which the exact McNemar test can reach ``alpha`` at ``target_gain``: a gain of
    ``g`` on ``n`` rows is at most ``g·n`` one-way flips, and significance needs ``min_discordant(alpha)``."""
    return math.ceil(min_discordant(alpha) / target_gain - 1e-9)


@dataclass(frozen=True)
class SplitPlan:
    """Proportions and the minimums they imply."""

    fractions: Mapping[str, float] = field(default_factory=lambda: dict(FRACTIONS))
    target_gain: float = TARGET_GAIN
    alpha: float = ALPHA

    @property
    def heldout_needed(self) -> int:
        return min_heldout(self.target_gain, self.alpha)

    def min_rows(self, n_labels: int = 1) -> int:
        """The smallest dataset whose three splits meet every minimum."""
        f = self.fractions
        need = [
            self.heldout_needed / f["heldout"],
            MIN_DEV / f["dev"],
            MIN_TRAIN_PER_LABEL * max(1, n_labels) / f["train"],
        ]
        return math.ceil(max(need) - 1e-9)

    def problems(self) -> list[str]:
        f = self.fractions
        found = []
        if set(f) != set(ROLES) or any(not 0 < float(v) < 1 for v in f.values()):
            found.append(f"fractions {dict(f)}: give train, dev and heldout, each between 0 and 1")
        elif abs(sum(f.values()) - 1) > 1e-6:
            found.append(f"fractions {dict(f)}: must add up to 1 (they add up to {sum(f.values()):g})")
        if not 0 < self.target_gain <= 1:
            found.append(f"target_gain {self.target_gain}: a gain in pass rate between 0 and 1 (0.12 = 12 points)")
        if not 0 < self.alpha < 1:
            found.append(f"alpha {self.alpha}: between 0 and 1")
        return found


@dataclass(frozen=True)
class Splits:
    """The three splits as datasets (rows keep their ids and file lines), and what a report records of them."""

    train: Dataset
    dev: Dataset
    heldout: Dataset
    stratified_by: str | None
    seed: int
    fractions: Mapping[str, float]
    spent: int = 0  # rows of the dataset already spent as held-out for this prompt (kept out of held-out)
    ignore: tuple[str, ...] = ()  # columns a row's fingerprint leaves out (its expected answer)

    def of(self, role: str) -> Dataset:
        return {"train": self.train, "dev": self.dev, "heldout": self.heldout}[role]

    def ids(self, role: str) -> list[str]:
        data = self.of(role)
        return [data.row_id(i) for i in range(len(data))]

    def fingerprints(self, role: str) -> list[str]:
        data = self.of(role)
        return [row_fingerprint(row, data.id_column, self.ignore) for row in data.rows]

    def sizes(self) -> dict[str, int]:
        return {role: len(self.of(role)) for role in ROLES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "fractions": dict(self.fractions),
            "stratified_by": self.stratified_by,
            "sizes": self.sizes(),
            "spent_before": self.spent,
            "rows": {role: self.ids(role) for role in ROLES},
        }


def split_dataset(
    data: Dataset,
    *,
    seed: int = 0,
    plan: SplitPlan | None = None,
    label_of: Any = None,
    label_column: str | None = None,
    spent: Iterable[str] = (),
    spent_note: str = "",
) -> Splits:
    """Split ``data`` into train / dev / held-out, stratified by ``label_of(row)`` (when given), deterministic in
    ``seed``. Rows whose fingerprint is in ``spent`` never go to held-out. Raises :class:`DatasetError` with the
    numbers when a split would be below its minimum — before any model call."""
    plan = plan or SplitPlan()
    rows = list(range(len(data)))
    labels = {i: (label_of(data.rows[i]) if label_of else None) for i in rows}
    n_labels = len(set(labels.values()))
    spent_set = set(spent)
    ignore = (label_column,) if label_column else ()
    fresh = [i for i in rows if row_fingerprint(data.rows[i], data.id_column, ignore) not in spent_set]
    n = len(rows)
    where = data.source or data.name
    minimum = plan.min_rows(n_labels)
    if n < minimum:
        raise DatasetError(_too_small(where, n, minimum, plan, n_labels))
    heldout_size = min(round(plan.fractions["heldout"] * n), len(fresh))
    if heldout_size < plan.heldout_needed:
        raise DatasetError(_no_fresh_rows(where, n, len(fresh), heldout_size, plan, spent_note))
    rng = random.Random(f"workbench-optimize|{seed}")
    heldout = _stratified_take(fresh, labels, heldout_size, rng)
    rest = [i for i in rows if i not in set(heldout)]
    share_train = plan.fractions["train"] / (plan.fractions["train"] + plan.fractions["dev"])
    train = _stratified_take(rest, labels, round(share_train * len(rest)), rng)
    dev = [i for i in rest if i not in set(train)]
    if len(dev) < MIN_DEV:
        raise DatasetError(_too_small(where, n, minimum, plan, n_labels))
    if label_of is not None:
        _check_train_labels(where, [labels[i] for i in train], set(labels.values()), plan)

    def subset(indices: Sequence[int], role: str) -> Dataset:
        chosen = sorted(indices)
        return replace(data, rows=tuple(data.rows[i] for i in chosen), name=f"{data.name}·{role}")

    return Splits(
        subset(train, "train"),
        subset(dev, "dev"),
        subset(heldout, "heldout"),
        stratified_by=label_column if label_of is not None else None,
        seed=seed,
        fractions=dict(plan.fractions),
        spent=n - len(fresh),
        ignore=ignore,
    )


def _check_train_labels(where: str, train: list[Any], labels: set[Any], plan: SplitPlan) -> None:
    short = sorted(str(label) for label in labels if label is not None and train.count(label) < MIN_TRAIN_PER_LABEL)
    if short:
        raise DatasetError(
            f"{where}: label(s) {', '.join(short)} have fewer than {MIN_TRAIN_PER_LABEL} rows in the train split "
            f"({round(plan.fractions['train'] * 100)}% of the rows): add rows of those labels."
        )


def _stratified_take(pool: Sequence[int], labels: Mapping[int, Any], size: int, rng: random.Random) -> list[int]:
    """``size`` rows of ``pool`` with each label in proportion (largest remainders), shuffled by ``rng``."""
    by_label: dict[Any, list[int]] = defaultdict(list)
    for i in pool:
        by_label[labels[i]].append(i)
    keys = sorted(by_label, key=str)
    exact = {k: size * len(by_label[k]) / max(1, len(pool)) for k in keys}
    counts = {k: math.floor(exact[k]) for k in keys}
    for k in sorted(keys, key=lambda k: (-(exact[k] - counts[k]), str(k)))[: size - sum(counts.values())]:
        counts[k] += 1
    taken: list[int] = []
    for k in keys:
        members = list(by_label[k])
        rng.shuffle(members)
        taken += members[: counts[k]]
    return taken


def _too_small(where: str, n: int, minimum: int, plan: SplitPlan, n_labels: int) -> str:
    f = plan.fractions
    return (
        f"{where}: {n} rows is too few to optimise a prompt on three splits; it needs at least {minimum}. "
        f"Held-out ({f['heldout']:.0%}) must have ≥ {plan.heldout_needed} rows — the fewest on which the exact "
        f"McNemar test can reach α = {plan.alpha:g} at the {plan.target_gain * 100:.0f}-point gain the report targets "
        f"({min_discordant(plan.alpha)} flips, all one way) — dev ({f['dev']:.0%}) ≥ {MIN_DEV} rows to rank "
        f"candidates, train ({f['train']:.0%}) ≥ {MIN_TRAIN_PER_LABEL} rows of each of {n_labels} label(s). "
        "Add rows, or aim at a larger gain (--target-gain)."
    )


def _no_fresh_rows(where: str, n: int, fresh: int, size: int, plan: SplitPlan, note: str) -> str:
    spent = n - fresh
    return (
        f"{where}: the held-out test needs ≥ {plan.heldout_needed} fresh rows (the exact McNemar test reaches "
        f"α = {plan.alpha:g} at a {plan.target_gain * 100:.0f}-point gain only then), but {spent} of the {n} rows "
        f"were already spent as held-out rows of this prompt{note}, leaving {fresh} fresh "
        f"(held-out would get {size}). Testing on rows the prompt was already tested on would be in-sample: add "
        "fresh rows (another --dataset file), or aim at a larger gain (--target-gain)."
    )
