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
    evidence: str = ""  # the figure the bar rests on, measured on these rows

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
        lines += [f"  ({self.evidence})"] if self.evidence else []
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
class Bar:
    """One absolute bar of a gate: the pass rate a run must reach on the rows of the figure it rests on."""

    min_pass_rate: float
    figure: str  # the id of a figure a benchmark wrote (benchmarks/results/), measured on exactly these rows


@dataclass(frozen=True)
class GateSpec:
    """A named gate: its bars and the benchmark figures that justify them. Each bar applies to the rows its figure was
    measured on — a gate used on 12 rows of a file, 24 rows, or another file, has a bar (and a figure) for each —
    and a run on rows no figure measured is refused rather than judged against numbers from other data.
    ``kind``: ``labels`` (per-class recall and the majority class), ``choice`` (a multiple-choice exam: the bar and
    beating the most common correct letter), ``tools`` (tool routing: the classes are the expected tool, or no call —
    so a model that never calls a tool, or always calls the same one, fails a class's recall) or ``rate`` (a pass
    rate against a baseline measured in the same run, e.g. closed-book answers)."""

    prompt: str
    bars: tuple[Bar, ...]
    kind: str = "labels"
    min_recall: float = 0.5

    def figures(self) -> list[tuple[Bar, Any]]:
        """Each bar with its figure (``None`` where the figure is missing)."""
        from workbench.course.evidence import read_figures

        known = read_figures()
        return [(bar, known.get(bar.figure)) for bar in self.bars]

    @property
    def measured(self) -> str:
        """What the bars rest on, read from the figures benchmarks wrote (``benchmarks/results/``)."""
        lines = []
        for bar, figure in self.figures():
            if figure is None:
                lines.append(
                    f"figure {bar.figure!r} is missing from benchmarks/results/ — run the benchmark that writes it"
                )
            else:
                lines.append(f"bar {bar.min_pass_rate:.0%} on {figure.n} rows of {figure.dataset}: {figure.describe()}")
        return "\n".join(lines)

    def bar_for(self, records: Sequence[Any], name: str = "") -> tuple[Bar, Any]:
        """The bar (and its figure) measured on exactly the rows of ``records``; a clear error when there is none."""
        rows = frozenset(str(r.row_id) for r in records)
        found = self.figures()
        for bar, figure in found:
            if figure is not None and figure.rows == rows:
                return bar, figure
        measured = "; ".join(f"{f.n} rows of {f.dataset} ({f.id})" for _, f in found if f is not None) or "none"
        raise ConfigError(
            f"Gate {name or self.prompt!r} has no bar measured on these {len(rows)} rows — its bars rest on figures "
            f"measured on: {measured}. A bar only holds for the rows it was measured on: run the gate on one of those "
            "row sets, or measure a figure on yours (benchmarks/bench_local.py --gates) and add a bar."
        )


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
    """Run the named gate of :data:`GATES` on a run's records (a :class:`RunResult` works too), against the bar
    measured on exactly these rows. A ``rate`` gate needs the ``baseline`` measured in the same run (e.g. the
    closed-book pass rate of the same questions)."""
    if name not in GATES:
        raise ConfigError(f"No gate named {name!r}. Known: {', '.join(sorted(GATES))}.")
    spec = GATES[name]
    records = list(getattr(records, "records", records))
    if spec.kind == "rate" and baseline is None:
        raise ConfigError(
            f"Gate {name!r} compares with a baseline measured in the same run: pass baseline=<pass rate>, "
            "e.g. check_gate(name, answers, baseline=closed_book.pass_rate)."
        )
    bar, figure = spec.bar_for(records, name)
    if spec.kind == "rate":
        report = check_rate(records, min_pass_rate=bar.min_pass_rate, baseline=baseline, name=name)
    elif spec.kind == "choice":
        report = check_choice(records, min_pass_rate=bar.min_pass_rate, name=name)
    elif spec.kind == "tools":
        report = check_tools(records, min_pass_rate=bar.min_pass_rate, min_recall=spec.min_recall, name=name)
    else:
        report = check_labels(records, min_pass_rate=bar.min_pass_rate, min_recall=spec.min_recall, name=name)
    report.evidence = f"the bar rests on {figure.describe()}"
    return report


def check_tools(records: Sequence[Any], *, min_pass_rate: float, min_recall: float, name: str = "tools") -> GateReport:
    """A tool router's gate: no errors, the bar and beating the most common class (on the ``tool_calls`` verdicts,
    arguments included), and for every tool the share of its rows on which the router picked it — so a model that
    never calls a tool, or always calls the same one, fails. The rows that expect no call count in the bar and the
    baseline but have no pick check of their own: the 270M base model almost never answers small talk without a
    tool (BENCHMARKS.md, "Tool calls"), and a gate that no model of the course passes teaches nothing."""
    records = list(records)
    report = check_labels(
        records, min_pass_rate=min_pass_rate, min_recall=min_recall, name=name, label_of=expected_tool
    )
    report.checks = [c for c in report.checks if not c.name.startswith("recall of ")]
    judged = _judged(records)
    for tool in sorted({expected_tool(r) for r in judged} - {NO_CALL}):
        rows = [r for r in judged if expected_tool(r) == tool]
        picked = sum(1 for r in rows if (r.tool_calls or [{}])[0].get("name") == tool)
        detail = f"{picked}/{len(rows)} = {picked / len(rows):.0%} (needs ≥ {min_recall:.0%})"
        report.checks.append(Check(f"picks {tool!r}", picked / len(rows) >= min_recall, detail))
    return report


NO_CALL = "(no call)"


def expected_tool(record: Any) -> str:
    """A tool-routing row's class: the first expected tool, or ``(no call)``."""
    from workbench.tools.expected import parse_expected

    calls = parse_expected(record.inputs.get("expected_tool_calls"))
    return str(calls[0]["name"]) if calls else NO_CALL


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
# the figure it names, measured on exactly the rows it gates (written by a script in benchmarks/ to
# benchmarks/results/; tests/test_gates.py checks both).
def _cloze(lang: str, heldout_rows: tuple[int, ...]) -> tuple[Bar, ...]:
    own = tuple(
        Bar(GATE_BARS[f"cloze_{lang}/sentiment_{lang}/{n}"], f"gate/cloze_{lang}/sentiment_{lang}/{n}")
        for n in (12, 24)
    )
    held = tuple(
        Bar(GATE_BARS[f"cloze_{lang}/reviews_{lang}_test/{n}"], f"gate/cloze_{lang}/reviews_{lang}_test/{n}")
        for n in heldout_rows
    )
    return own + held


def _tools(lang: str) -> tuple[Bar, ...]:
    """The tool router's bars: the CI profile's first 12 rows (two per class) and the whole set."""
    return tuple(
        Bar(GATE_BARS[f"tools_{lang}/tool_routing_{lang}/{n}"], f"gate/tools_{lang}/tool_routing_{lang}/{n}")
        for n in (12, 36)
    )


#: The bars, each at or below the lower end of its figure's 95% interval (figure ids: ``gate/<key>``).
GATE_BARS = {
    "cloze_en/sentiment_en/12": 0.60,
    "cloze_en/sentiment_en/24": 0.75,
    "cloze_en/reviews_en_test/24": 0.75,
    "cloze_en/reviews_en_test/100": 0.85,
    "cloze_zh/sentiment_zh/12": 0.60,
    "cloze_zh/sentiment_zh/24": 0.75,
    "cloze_zh/reviews_zh_test/24": 0.75,
    "cloze_zh/reviews_zh_test/100": 0.85,
    "tools_en/tool_routing_en/12": 0.30,  # measured 7/12, 95% CI 32%–81% (bench_tools.py)
    "tools_en/tool_routing_en/36": 0.30,  # 17/36, 32%–63%
    "tools_zh/tool_routing_zh/12": 0.35,  # 8/12, 39%–86%
    "tools_zh/tool_routing_zh/36": 0.30,  # 18/36, 34%–66%
}

GATES: dict[str, GateSpec] = {
    "cloze_en": GateSpec(prompt="sentiment_cloze_en", bars=_cloze("en", (24, 100))),
    "cloze_zh": GateSpec(prompt="sentiment_cloze_zh", bars=_cloze("zh", (24, 100))),
    "exam_cloze": GateSpec(
        prompt="exam_cloze", kind="choice", bars=(Bar(0.30, "local/exam_cloze@v1/exam_mc/logprob"),)
    ),
    "lora_en": GateSpec(
        prompt="sentiment_zeroshot_en",
        bars=(Bar(0.75, "finetune/en/lora/12"), Bar(0.75, "finetune/en/lora/24"), Bar(0.85, "finetune/en/lora/100")),
    ),
    "lora_zh": GateSpec(
        prompt="sentiment_zeroshot_zh",
        bars=(Bar(0.60, "finetune/zh/lora/12"), Bar(0.60, "finetune/zh/lora/24"), Bar(0.80, "finetune/zh/lora/100")),
    ),
    "tools_en": GateSpec(prompt="tool_router_en", kind="tools", bars=_tools("en"), min_recall=0.3),
    "tools_zh": GateSpec(prompt="tool_router_zh", kind="tools", bars=_tools("zh"), min_recall=0.3),
    "rag_answers": GateSpec(
        prompt="rag_qa_kb",
        kind="rate",
        bars=(Bar(0.15, "rag/answers/en/with_context"), Bar(0.25, "rag/answers/zh/with_context")),
    ),
}
