"""Gates a degenerate model cannot pass: what a notebook, a test or a nightly job asserts about a run.

A bare ``pass_rate >= 0.5`` passes a model that always answers "great" on a balanced set. Every gate here has
three kinds of check:

- an **absolute bar** at or below the lower end of the 95% interval of a figure a benchmark measured and wrote to
  ``benchmarks/results/`` (:data:`GATES` names it; :mod:`workbench.course.evidence` reads it);
- **better than the majority-class baseline**, tested, not eyeballed: a one-sided exact binomial test
  (:func:`workbench.stats.binom_test`) of the pass count against always answering the most common label, at α = 0.05;
- **per-class recall** where rows have labels: a model that never predicts one class fails.

A constant-answer and a random-answer model fail every gate in :data:`GATES` (``tests/test_gates.py``).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError, WorkbenchError

ALPHA = 0.05


class GateFailed(WorkbenchError, AssertionError):
    """A run did not earn its pass: the message lists every failed check."""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class GateReport:
    """The checks of one gate on one set of results; ``require()`` raises :class:`GateFailed` if any failed."""

    name: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def require(self) -> GateReport:
        if not self.passed:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.passed)
            raise GateFailed(f"Gate {self.name!r} failed — {failed}")
        return self

    def __str__(self) -> str:
        lines = [f"gate {self.name}: {'PASSED' if self.passed else 'FAILED'}"]
        lines += [f"  {'✓' if c.passed else '✗'} {c.name}: {c.detail}" for c in self.checks]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✓' if c.passed else '✗'}</td><td>{html.escape(c.name)}</td>"
            f"<td>{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        verdict = "passed" if self.passed else "FAILED"
        return f"<b>gate {html.escape(self.name)}: {verdict}</b><table>{rows}</table>"


@dataclass(frozen=True)
class GateSpec:
    """A named gate: its bars and the benchmark figure that justifies them (``prompt``/``dataset`` say what it
    gates). ``kind``: ``labels`` (per-class recall and the majority class), ``choice`` (a multiple-choice exam: the
    bar and beating the most common correct letter), ``tools`` (tool routing: the classes are the expected tool, or
    no call — so a model that never calls a tool, or always calls one, fails a class's recall) or ``rate`` (a pass
    rate against a baseline measured in the same run, e.g. closed-book answers)."""

    prompt: str
    dataset: str
    min_pass_rate: float
    figure: str
    kind: str = "labels"
    min_recall: float = 0.5
    row_counts: tuple[int, ...] = (24,)  # how many rows the gate is used on (CI profiles, tests, the demo)

    @property
    def measured(self) -> str:
        """What the bar rests on, read from the figure a benchmark wrote (``benchmarks/results/``)."""
        from workbench.course.evidence import read_figures

        found = read_figures().get(self.figure)
        if found is None:
            return f"figure {self.figure!r} is missing from benchmarks/results/ — run the benchmark that writes it"
        return found.describe()


def _judged(records: Iterable[Any]) -> list[Any]:
    return [r for r in records if r.passed is not None and r.error is None]


def _bar(passed: int, n: int, minimum: float) -> Check:
    if n == 0:
        return Check("absolute bar", False, "no judged rows")
    detail = f"pass rate {passed}/{n} = {passed / n:.0%} (needs ≥ {minimum:.0%})"
    return Check("absolute bar", passed / n >= minimum, detail)


def _better_than(passed: int, n: int, baseline: float, alpha: float) -> Check:
    from workbench.stats import binom_test

    if n == 0:
        return Check("better than the baseline", False, "no judged rows")
    if baseline >= 1.0:
        return Check("better than the baseline", False, "the baseline is already 100%")
    p = binom_test(passed, n, baseline, alternative="greater")
    detail = f"{passed}/{n} vs baseline {baseline:.0%}: one-sided exact binomial p = {p:.3g} (needs < {alpha})"
    return Check("better than the baseline", p < alpha, detail)


def check_labels(
    records: Sequence[Any],
    *,
    min_pass_rate: float,
    min_recall: float = 0.5,
    alpha: float = ALPHA,
    name: str = "labels",
    label_of: Any = None,
) -> GateReport:
    """A label task's gate: no errors, the absolute bar, beating the majority class, recall of every class.

    ``label_of(record)`` gives a row's true label (default: its ``expected`` input)."""
    records = list(records)
    label_of = label_of or (lambda r: str(r.inputs.get("expected", "")).strip().casefold())
    judged = _judged(records)
    n, passed = len(judged), sum(bool(r.passed) for r in judged)
    errors = sum(1 for r in records if r.error)
    checks = [Check("no errors", errors == 0, f"{errors} errored cell(s)"), _bar(passed, n, min_pass_rate)]
    classes = Counter(label_of(r) for r in judged)
    majority = max(classes.values()) / n if n else 1.0
    checks.append(_better_than(passed, n, majority, alpha))
    for label, count in sorted(classes.items()):
        hit = sum(bool(r.passed) for r in judged if label_of(r) == label)
        checks.append(
            Check(
                f"recall of {label!r}",
                hit / count >= min_recall,
                f"{hit}/{count} = {hit / count:.0%} (needs ≥ {min_recall:.0%})",
            )
        )
    if len(classes) < 2:
        checks.append(Check("both classes present", False, f"only {sorted(classes)}: a gate needs every class"))
    return GateReport(name, checks)


def check_rate(
    records: Sequence[Any], *, min_pass_rate: float, baseline: float, alpha: float = ALPHA, name: str = "rate"
) -> GateReport:
    """A gate for scored tasks without classes (RAG answers, extraction): no errors, the bar, beating a baseline."""
    records = list(records)
    judged = _judged(records)
    n, passed = len(judged), sum(bool(r.passed) for r in judged)
    errors = sum(1 for r in records if r.error)
    return GateReport(
        name,
        [
            Check("no errors", errors == 0, f"{errors} errored cell(s)"),
            _bar(passed, n, min_pass_rate),
            _better_than(passed, n, baseline, alpha),
        ],
    )


def check(name: str, records: Any, *, baseline: float | None = None) -> GateReport:
    """Run the named gate of :data:`GATES` on a run's records (a :class:`RunResult` works too). A ``rate`` gate
    needs the ``baseline`` measured in the same run (e.g. the closed-book pass rate of the same questions)."""
    if name not in GATES:
        raise ConfigError(f"No gate named {name!r}. Known: {', '.join(sorted(GATES))}.")
    spec = GATES[name]
    records = list(getattr(records, "records", records))
    if spec.kind == "rate":
        if baseline is None:
            raise ConfigError(
                f"Gate {name!r} compares with a baseline measured in the same run: pass baseline=<pass rate>, "
                "e.g. check_gate(name, answers, baseline=closed_book.pass_rate)."
            )
        return check_rate(records, min_pass_rate=spec.min_pass_rate, baseline=baseline, name=name)
    if spec.kind == "choice":
        return check_choice(records, min_pass_rate=spec.min_pass_rate, name=name)
    if spec.kind == "tools":
        return check_labels(
            records, min_pass_rate=spec.min_pass_rate, min_recall=spec.min_recall, name=name, label_of=expected_tool
        )
    return check_labels(records, min_pass_rate=spec.min_pass_rate, min_recall=spec.min_recall, name=name)


def expected_tool(record: Any) -> str:
    """A tool-routing row's class: the first expected tool, or ``(no call)``."""
    from workbench.tools.expected import parse_expected

    calls = parse_expected(record.inputs.get("expected_tool_calls"))
    return str(calls[0]["name"]) if calls else "(no call)"


def check_choice(
    records: Sequence[Any], *, min_pass_rate: float, alpha: float = ALPHA, name: str = "choice"
) -> GateReport:
    """A multiple-choice exam's gate: no errors, the bar, and beating the best "always the same letter" answer (the
    share of the most common correct letter, at least chance) by a one-sided exact binomial test."""
    records = list(records)
    judged = _judged(records)
    n, passed = len(judged), sum(bool(r.passed) for r in judged)
    errors = sum(1 for r in records if r.error)
    letters = Counter(str(r.inputs.get("expected", "")).strip().upper() for r in judged)
    options = _option_letters(judged[0]) if judged else 0
    chance = 1 / options if options else 0.0
    baseline = max([chance, *(count / n for count in letters.values())]) if n else 1.0
    return GateReport(
        name,
        [
            Check("no errors", errors == 0, f"{errors} errored cell(s)"),
            _bar(passed, n, min_pass_rate),
            _better_than(passed, n, baseline, alpha),
        ],
    )


def _option_letters(record: Any) -> int:
    """How many options a question offers: its single capital-letter columns (A, B, C, D)."""
    return sum(1 for key in record.inputs if len(key) == 1 and key.isupper())


def require(name: str, records: Any, *, baseline: float | None = None) -> GateReport:
    """:func:`check`, raising :class:`GateFailed` when the run did not earn its pass."""
    return check(name, records, baseline=baseline).require()


# The gates of the notebooks, the demo and the tests. Each bar sits at or below the lower end of the 95% interval of
# the figure it names (written by a script in benchmarks/ to benchmarks/results/; tests/test_gates.py checks it).
GATES: dict[str, GateSpec] = {
    "cloze_en": GateSpec(
        prompt="sentiment_cloze_en",
        dataset="datasets/sentiment_en.csv",
        min_pass_rate=0.80,
        row_counts=(12, 24),
        figure="local/sentiment_cloze_en@v1/reviews_en_test/generate",
    ),
    "cloze_zh": GateSpec(
        prompt="sentiment_cloze_zh",
        dataset="datasets/sentiment_zh.csv",
        min_pass_rate=0.80,
        row_counts=(12, 24),
        figure="local/sentiment_cloze_zh@v2/reviews_zh_test/generate",
    ),
    "cloze_zh_heldout": GateSpec(
        prompt="sentiment_cloze_zh",
        dataset="datasets/reviews_zh_test.csv",
        min_pass_rate=0.85,
        row_counts=(60, 200),
        figure="local/sentiment_cloze_zh@v2/reviews_zh_test/generate",
    ),
    "exam_cloze": GateSpec(
        prompt="exam_cloze",
        dataset="datasets/exam_mc.jsonl",
        kind="choice",
        min_pass_rate=0.30,
        row_counts=(48,),
        figure="local/exam_cloze@v1/exam_mc/logprob",
    ),
    "lora_en": GateSpec(
        prompt="sentiment_zeroshot_en",
        dataset="datasets/reviews_en_test.csv",
        min_pass_rate=0.80,
        row_counts=(24,),
        figure="finetune/en/lora/100",
    ),
    "lora_zh": GateSpec(
        prompt="sentiment_zeroshot_zh",
        dataset="datasets/reviews_zh_test.csv",
        min_pass_rate=0.70,
        row_counts=(24,),
        figure="finetune/zh/lora/100",
    ),
    "rag_answers": GateSpec(
        prompt="rag_qa_kb",
        dataset="datasets/rag_questions.jsonl",
        kind="rate",
        min_pass_rate=0.30,
        row_counts=(12,),
        figure="rag/answers/with_context",
    ),
}
