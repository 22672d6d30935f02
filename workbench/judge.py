"""Calibrating an LLM judge against human labels, before trusting it as a scorer.

A judge is a model being evaluated too. :func:`calibrate_judge` runs a judge prompt over rows a person labelled
(pass / fail, or the judge parser's own labels), and reports how often the judge agrees, Cohen's κ with its 95 %
interval (agreement beyond chance), the confusion matrix and every disagreement, as a table to review — the loop
MLflow's judge ``align()``, Langfuse's κ and ragas' judge alignment offer. Two versions of a judge prompt are
compared on the same rows with the exact McNemar test (:func:`compare_calibrations`). A judge used as a scorer
can require a minimum calibrated κ (``{type: llm_judge, min_kappa: 0.6}``): the scorer then refuses to judge —
an error, not a verdict — until the lower end of κ's 95% interval, in a calibration of that judge version on that
model, reaches it.

Every calibration is a stored run (named ``judge calibration ...``), so its κ can be re-read later.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from workbench.errors import ConfigError, DatasetError
from workbench.stats import cohens_kappa, paired_verdict

CALIBRATION_PREFIX = "judge calibration"
NO_VERDICT = "(no verdict)"  # the confusion column of rows the judge gave no verdict on


def _two_places(value: float) -> str:
    """0.00 rather than -0.00 for a κ that rounds to zero from below."""
    return f"{round(value, 2) + 0.0:.2f}"


def _normal(value: Any) -> str:
    return str(value).strip().casefold() if value is not None else ""


NO_VERDICT_RULE = "a row the judge gave no verdict on counts as its answer '(no verdict)'"
ROW_SET = f"every labelled row; {NO_VERDICT_RULE}"


@dataclass
class Calibration:
    """How well a judge agrees with people on labelled rows.

    Every figure uses one row set: every labelled row, where a row the judge gave no verdict on (unparseable output,
    an error) is the judge's answer ``(no verdict)`` — a third category that never matches a person's label. So
    agreement and κ are computed on the same table, and κ is statsmodels' ``cohens_kappa`` of :meth:`table`.

    A judge is trusted at a bar only when the *lower end* of κ's 95% interval clears it (the rule the gates follow):
    a κ whose interval reaches below the bar needs more labelled rows, and :meth:`rows_needed` says about how many.
    κ is undefined — and the judge never trusted — when the judge gave fewer than two different verdicts, or the
    people used one label only: κ would be a number without meaning (statsmodels gives 0 with a near-zero error).
    """

    judge: str  # the judge prompt version, name@vN
    model: str
    run_id: str
    n: int
    agreement: float | None
    kappa: float | None
    ci95: tuple[float, float] | None
    labels: list[str]
    confusion: dict[str, dict[str, int]]  # human label → judge label → rows
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    per_row: dict[str, bool] = field(default_factory=dict)  # row id → the judge agreed with the person
    unjudged: int = 0  # rows the judge gave no verdict on: its answer "(no verdict)", never an agreement
    se: float | None = None  # κ's asymptotic standard error
    undefined: str | None = None  # why κ is undefined, when it is

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("judge", "model", "run_id", "n", "agreement", "kappa", "labels")}
        data.update(confusion=self.confusion, disagreements=self.disagreements, unjudged=self.unjudged)
        data.update(row_set=ROW_SET, kappa_undefined=self.undefined, se=self.se)
        data["ci95"] = list(self.ci95) if self.ci95 else None
        return data

    def table(self) -> list[list[int]]:
        """The square table κ is computed on (rows: people, columns: the judge, in :attr:`labels` order)."""
        return [[self.confusion.get(h, {}).get(j, 0) for j in self.labels] for h in self.labels]

    def disagreements_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.disagreements)

    def judge_answers(self) -> list[str]:
        """The distinct verdicts the judge gave (rows without a verdict left out)."""
        given = {label for row in self.confusion.values() for label, count in row.items() if count}
        return sorted(given - {NO_VERDICT})

    def trusted(self, min_kappa: float = 0.6) -> bool:
        """True only when κ is defined and the lower end of its 95% interval reaches ``min_kappa``."""
        return self.kappa is not None and self.ci95 is not None and self.ci95[0] >= min_kappa

    def rows_needed(self, min_kappa: float = 0.6, confidence: float = 0.95) -> int | None:
        """About how many labelled rows would put the lower end of κ's interval at ``min_kappa``, if κ stayed
        what it is (its standard error shrinks as 1/√n); ``None`` when no number of rows would (κ ≤ the bar)."""
        if self.kappa is None or self.se is None or self.kappa <= min_kappa:
            return None
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        return max(self.n, math.ceil(self.n * (z * self.se / (self.kappa - min_kappa)) ** 2))

    def verdict(self, min_kappa: float = 0.6) -> str:
        """Plain words: can this judge be trusted at ``min_kappa``?"""
        if self.kappa is None:
            return f"κ is undefined ({self.undefined}): do not trust this judge"
        low = self.ci95[0] if self.ci95 else self.kappa
        if self.trusted(min_kappa):
            return f"κ {self.kappa:.2f}, 95% CI from {low:.2f}: trustworthy at κ ≥ {min_kappa}"
        if self.kappa > min_kappa:
            needed = self.rows_needed(min_kappa)
            more = f" (about {needed} labelled rows would, if κ stays {self.kappa:.2f})" if needed else ""
            return (
                f"κ {self.kappa:.2f} ≥ {min_kappa}, but its 95% interval reaches down to {_two_places(low)}: "
                f"not trusted yet — label more rows{more}"
            )
        return f"κ {self.kappa:.2f} ≤ {min_kappa}: do not trust this judge; review the disagreements"

    def __str__(self) -> str:
        agreement = "n/a" if self.agreement is None else f"{self.agreement:.0%}"
        kappa = f"undefined ({self.undefined})" if self.kappa is None else _two_places(self.kappa)
        ci = f" [95% CI {_two_places(self.ci95[0])}–{_two_places(self.ci95[1])}]" if self.ci95 else ""
        unjudged = f", {self.unjudged} without a verdict (counted as the judge's answer {NO_VERDICT})"
        return (
            f"judge {self.judge} on {self.model}: {self.n} labelled rows{unjudged if self.unjudged else ''}, "
            f"agreement {agreement}, Cohen's κ {kappa}{ci}, {len(self.disagreements)} disagreement(s)"
        )


def calibrate_judge(
    judge: Any,
    labels: Any,
    model: Any = None,
    *,
    label_column: str = "expected",
    store: Any = None,
    **run_options: Any,
) -> Calibration:
    """Run the judge prompt ``judge`` over human-labelled rows (a file, DataFrame or records: the judge's variables
    plus ``label_column``) on ``model``; how well it agrees with the people."""
    from workbench.datasets import load_dataset
    from workbench.pipeline import run
    from workbench.prompts import load_prompt

    template = load_prompt(judge)
    data = load_dataset(labels)
    data.check_columns([label_column], template_name=f"calibrating {template.ref} (the human labels)")
    judge_only = template.with_changes(assertions=())  # the comparison with people is the calibration itself
    options = {"name": f"{CALIBRATION_PREFIX} {template.ref}", "progress": False, **run_options}
    result = run(judge_only, data, model, store=store, **options)
    return calibration_from(result.records, template, label_column, result.run_id)


def calibration_from(records: list[Any], template: Any, label_column: str, run_id: str) -> Calibration:
    """The calibration a judge run's records show (each record's inputs carry the person's label)."""
    parser = template.parser
    normalize = getattr(parser, "normalize_label", _normal)
    rows = [r for r in records if r.repeat == 0]
    if not rows:
        raise DatasetError(f"No labelled rows to calibrate {template.ref} on.")
    human = {r.row_id: _normal(normalize(r.inputs[label_column])) for r in rows}
    judged = {r.row_id: (_normal(r.parsed) if r.error is None and r.parsed is not None else "") for r in rows}
    answers = {row_id: verdict or NO_VERDICT for row_id, verdict in judged.items()}
    labels = sorted(set(human.values()) | {v for v in judged.values() if v})
    if NO_VERDICT in answers.values():
        labels.append(NO_VERDICT)
    confusion: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for row_id, person in human.items():
        confusion[person][answers[row_id]] += 1
    agreed = {row_id: answers[row_id] == person for row_id, person in human.items()}
    calibration = Calibration(
        judge=template.ref,
        model=rows[0].model,
        run_id=run_id,
        n=len(rows),
        agreement=round(sum(agreed.values()) / len(rows), 4),
        kappa=None,
        ci95=None,
        labels=labels,
        confusion={person: dict(counts) for person, counts in confusion.items() if person != NO_VERDICT},
        disagreements=[
            _disagreement(r, human[r.row_id], judged[r.row_id], label_column, _reading_order(template))
            for r in rows
            if not agreed[r.row_id]
        ],
        per_row=agreed,
        unjudged=sum(1 for v in judged.values() if not v),
    )
    calibration.undefined = _why_undefined(calibration, set(human.values()))
    if calibration.undefined is None:
        stats = cohens_kappa(calibration.table())
        if stats["kappa"] is None:  # pragma: no cover - excluded above: one label on both sides
            calibration.undefined = "both the people and the judge used one label only"
        else:
            calibration.kappa = round(stats["kappa"], 4)
            calibration.se = round(stats["se"], 6)
            calibration.ci95 = (round(stats["ci_low"], 4), round(stats["ci_high"], 4))
    return calibration


def _why_undefined(calibration: Calibration, people: set[str]) -> str | None:
    answers = calibration.judge_answers()
    if not answers:
        return "the judge gave no verdict on any row"
    if len(answers) == 1:
        return (
            f"the judge answered {answers[0]!r} on every row it judged: it does not tell the labels apart — try a "
            "larger model or a clearer judge prompt"
        )
    if len(people) < 2:
        only = next(iter(people), "")
        return f"the people's labels are all {only!r}: κ cannot tell agreement from chance; label rows of every class"
    return None


def _reading_order(template: Any) -> tuple[str, ...]:
    """The judge's inputs as its front matter lists them (the author's order), then the variables it reads."""
    declared = tuple(getattr(template, "inputs", None) or ())
    return declared + tuple(v for v in getattr(template, "variables", ()) if v not in declared)


def _disagreement(
    record: Any, person: str, verdict: str, label_column: str, variables: tuple[str, ...]
) -> dict[str, Any]:
    """One row to review; the person's label is shown once, as ``human`` (not again under its column name), and the
    inputs in the order the judge declares them (the question before the answer), then any other column."""
    order = [k for k in variables if k in record.inputs] + [k for k in record.inputs if k not in variables]
    shown = {k: record.inputs[k] for k in order if k not in ("id", label_column)}
    output = record.output if record.error is None else f"ERROR: {record.error}"
    return {
        "row_id": record.row_id,
        "human": person,
        "judge": verdict or NO_VERDICT,
        **shown,
        "judge_output": output,
    }


def compare_calibrations(a: Calibration, b: Calibration) -> dict[str, Any]:
    """Is judge B closer to the people than judge A? Paired on the rows both judged, exact McNemar."""
    shared = sorted(set(a.per_row) & set(b.per_row))
    if not shared:
        raise ConfigError(f"{a.judge} and {b.judge} were calibrated on different rows; use the same labels file.")
    a_only = sum(1 for r in shared if a.per_row[r] and not b.per_row[r])
    b_only = sum(1 for r in shared if b.per_row[r] and not a.per_row[r])
    p_value, verdict = paired_verdict(a_only, b_only)
    return {
        "a": a.judge,
        "b": b.judge,
        "rows": len(shared),
        "a_only": a_only,
        "b_only": b_only,
        "p_value": round(p_value, 6),
        "verdict": verdict,
        "kappa_a": a.kappa,
        "kappa_b": b.kappa,
    }


def latest_calibration(store: Any, judge_ref: str, model: str, label_column: str = "expected") -> Calibration | None:
    """The newest stored calibration of this judge version on this model, re-read from its run."""
    from workbench.prompts import load_prompt

    for run in store.runs(limit=200, prompt=judge_ref.split("@")[0], model=model):
        if run["name"] == f"{CALIBRATION_PREFIX} {judge_ref}" and run["status"] == "completed":
            records = store.results(run["id"])
            return calibration_from(records, load_prompt(judge_ref), label_column, run["id"])
    return None
