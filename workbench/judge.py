"""Calibrating an LLM judge against human labels, before trusting it as a scorer.

A judge is a model being evaluated too. :func:`calibrate_judge` runs a judge prompt over rows a person labelled
(pass / fail, or the judge parser's own labels), and reports how often the judge agrees, Cohen's κ with its 95 %
interval (agreement beyond chance), the confusion matrix and every disagreement, as a table to review — the loop
MLflow's judge ``align()``, Langfuse's κ and ragas' judge alignment offer. Two versions of a judge prompt are
compared on the same rows with the exact McNemar test (:func:`compare_calibrations`). A judge used as a scorer
can require a minimum calibrated κ (``{type: llm_judge, min_kappa: 0.6}``): the scorer then refuses to judge —
an error, not a verdict — until a calibration of that judge version on that model reaches it.

Every calibration is a stored run (named ``judge calibration ...``), so its κ can be re-read later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError, DatasetError
from workbench.stats import cohens_kappa, mcnemar_exact

CALIBRATION_PREFIX = "judge calibration"
NO_VERDICT = "(no verdict)"  # the confusion column of rows the judge gave no verdict on


def _two_places(value: float) -> str:
    """0.00 rather than -0.00 for a κ that rounds to zero from below."""
    return f"{round(value, 2) + 0.0:.2f}"


def _normal(value: Any) -> str:
    return str(value).strip().casefold() if value is not None else ""


@dataclass
class Calibration:
    """How well a judge agrees with people on labelled rows."""

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
    unjudged: int = 0  # rows the judge gave no verdict on (unparseable, errors): counted as disagreements

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("judge", "model", "run_id", "n", "agreement", "kappa", "labels")}
        data.update(confusion=self.confusion, disagreements=self.disagreements, unjudged=self.unjudged)
        data["ci95"] = list(self.ci95) if self.ci95 else None
        return data

    def disagreements_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.disagreements)

    def judge_answers(self) -> list[str]:
        """The distinct verdicts the judge gave (rows without a verdict left out)."""
        given = {label for row in self.confusion.values() for label, count in row.items() if count}
        return sorted(given - {NO_VERDICT})

    def verdict(self, min_kappa: float = 0.6) -> str:
        """Plain words: can this judge be trusted at ``min_kappa``?"""
        if self.kappa is None:
            return "κ is undefined (the labels or the judge's answers have one value only): do not trust this judge"
        answers = self.judge_answers()
        if len(answers) == 1:
            return (
                f"the judge answered {answers[0]!r} on every row it judged: it does not tell the labels apart "
                "(κ 0); do not trust this judge — try a larger model or a clearer judge prompt"
            )
        low = self.ci95[0] if self.ci95 else self.kappa
        if low >= min_kappa:
            return f"κ {self.kappa:.2f}, 95% CI from {low:.2f}: trustworthy at κ ≥ {min_kappa}"
        if self.kappa >= min_kappa:
            return f"κ {self.kappa:.2f} ≥ {min_kappa}, but its interval reaches down to {low:.2f}: label more rows"
        return f"κ {self.kappa:.2f} < {min_kappa}: do not trust this judge; review the disagreements"

    def __str__(self) -> str:
        agreement = "n/a" if self.agreement is None else f"{self.agreement:.0%}"
        kappa = "undefined" if self.kappa is None else _two_places(self.kappa)
        ci = f" [95% CI {_two_places(self.ci95[0])}–{_two_places(self.ci95[1])}]" if self.ci95 else ""
        return (
            f"judge {self.judge} on {self.model}: {self.n} labelled rows, agreement {agreement}, "
            f"Cohen's κ {kappa}{ci}, {len(self.disagreements)} disagreement(s)"
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
    labels = sorted(set(human.values()) | {v for v in judged.values() if v})
    index = {label: i for i, label in enumerate(labels)}
    table = [[0] * len(labels) for _ in labels]
    confusion: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for row_id, person in human.items():
        verdict = judged[row_id] or NO_VERDICT
        confusion[person][verdict] += 1
        if judged[row_id]:
            table[index[person]][index[judged[row_id]]] += 1
    stats = cohens_kappa(table)
    unjudged = sum(1 for v in judged.values() if not v)
    n = len(rows)
    agreed = {row_id: judged[row_id] == person for row_id, person in human.items()}
    return Calibration(
        judge=template.ref,
        model=rows[0].model,
        run_id=run_id,
        n=n,
        agreement=round(sum(agreed.values()) / n, 4),
        kappa=None if stats["kappa"] is None else round(stats["kappa"], 4),
        ci95=None if stats["kappa"] is None else (round(stats["ci_low"], 4), round(stats["ci_high"], 4)),
        labels=labels,
        confusion={person: dict(counts) for person, counts in confusion.items()},
        disagreements=[_disagreement(r, human[r.row_id], judged[r.row_id]) for r in rows if not agreed[r.row_id]],
        per_row=agreed,
        unjudged=unjudged,
    )


def _disagreement(record: Any, person: str, verdict: str) -> dict[str, Any]:
    shown = {k: v for k, v in record.inputs.items() if k not in ("id",)}
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
    p_value = mcnemar_exact(a_only, b_only)
    verdict = "no significant difference"
    if p_value < 0.05:
        verdict = "better" if b_only > a_only else "worse"
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
