"""Prompt optimisation that cannot fool itself: candidates learn on train, are ranked on dev, and the dev winner
is saved only if it beats the original in one exact McNemar test on held-out rows nothing was chosen on.

:func:`prepare_optimization` does everything that needs no model call — loads and checks the prompt, the data,
the model and the proposer (reached with a preflight, not a call), draws the three splits (refusing, with the numbers,
when held-out would be too small or its rows were spent before), and estimates the calls against the budget. Its
:class:`Optimization` then runs the phases, each an ordinary run (origin ``optimize``; cached, resumable, visible in
Runs and trends, on a cluster when the run options say so):

1. **train** — the original on the train rows (bad cases for the proposer, right answers to bootstrap from), and
   the label-word probe;
2. **propose** — the ``--proposer`` model writes instructions from the train bad cases;
3. **dev** — the original and every candidate, in one run, on the dev rows: the ranking;
4. **held-out** — the original and the dev winner, in one run, on the held-out rows: the one test. Its stored
   config records which rows it spent (:mod:`~workbench.optimization.ledger`).

Run again with the same arguments, an optimisation resumes where it stopped and replays what it finished from the
cache: the same id, the same splits, the same candidates, the same single test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import workbench.optimization.labelwords as labelwords
from workbench.compare import paired
from workbench.datasets import Dataset
from workbench.errors import ConfigError, WorkbenchError
from workbench.optimization.acceptance import accept, select_winner
from workbench.optimization.budget import Estimate
from workbench.optimization.candidates import DEMO_KINDS, Candidate, expected_column, label_parser, unique
from workbench.optimization.costing import Costing
from workbench.optimization.generating import Generating
from workbench.optimization.ledger import ORIGIN, spent_heldout
from workbench.optimization.report import OptimizationReport, points, score
from workbench.optimization.settings import (
    Settings,
    default_generators,
    given_text,
    load_rows,
    optimization_id,
)
from workbench.optimization.splits import FRACTIONS, TARGET_GAIN, SplitPlan, Splits, split_dataset
from workbench.pipeline.options import RunOptions
from workbench.stats import ALPHA

Progress = Callable[[str, dict[str, Any]], None]


class OptimizationStopped(WorkbenchError):
    """Stop was pressed (the run options' ``cancel_event``): finished runs are stored, the same call resumes."""


def prepare_optimization(
    prompt: Any,
    dataset: Any = None,
    model: Any = None,
    *,
    budget: int | None = None,
    seed: int = 0,
    proposer: str | None = None,
    generators: Sequence[str] | None = None,
    shots: int = 4,
    proposals: int = 3,
    fractions: Mapping[str, float] | None = None,
    target_gain: float = TARGET_GAIN,
    alpha: float = ALPHA,
    candidates: Sequence[Any] = (),
    save: bool = True,
    library: Any = None,
    options: RunOptions | None = None,
    **run_overrides: Any,
) -> Optimization:
    """Check everything and estimate the cost — no model is called. Raises a :class:`WorkbenchError` (the CLI's
    exit 2) naming the problem and the fix: a dataset too small for three splits, held-out rows already spent, a
    budget below one candidate on dev plus the held-out test, a prompt with no scorer, an unreachable proposer."""
    from workbench.prompts import load_prompt

    options = RunOptions.of(options, **run_overrides)
    if options.repeats != 1 or options.limit is not None:
        raise ConfigError("An optimisation scores every row once: leave repeats at 1 and limit unset.")
    original = load_prompt(prompt, library)
    chosen = default_generators(generators, candidates, proposer)
    given = tuple(given_text(original, c) for c in candidates)
    fractions = dict(fractions or FRACTIONS)
    settings = Settings(budget, seed, proposer, chosen, shots, proposals, fractions, target_gain, alpha, given)
    settings.check()
    if not list(original.assertions) + list(options.scorers or []):
        raise ConfigError(
            f"{original.path or original.ref}: the prompt has no assertions, so there is nothing to optimise for. "
            "Add a scorer under `assertions:` (e.g. `- type: label`) or pass scorers=[...]. Nothing was run."
        )
    optimization = _assemble(original, load_rows(dataset, original, options.id_column), model, settings, options)
    optimization.library = _library(library, original)
    optimization.save = save
    optimization.estimate = optimization.estimate_cost()
    optimization.check_budget()
    optimization.preflight()
    return optimization


def _assemble(original: Any, data: Dataset, model: Any, settings: Settings, options: RunOptions) -> Optimization:
    """Resolve the models, check every row renders, draw the splits (keeping spent rows out of held-out)."""
    from workbench.models import get_model
    from workbench.pipeline.plan import plan_run, resolve_models
    from workbench.pipeline.recorder import Recorder

    model_obj = resolve_models(model, original.model.spec, options.model_options)[0]
    recorder = Recorder(options.store)
    options = replace(options, store=recorder.store, origin=ORIGIN)
    plan = plan_run(original, data, [model_obj], options)  # every row renders, every column exists — or it raises
    column = expected_column(original, plan.scorers[original.ref])
    parser = label_parser(original)
    label_of = None
    if parser is not None and column is not None and column in data.columns:
        label_of = lambda row: parser.normalize_label(row.get(column))  # noqa: E731
    proposer_model = get_model(settings.proposer) if settings.proposer else None
    opt_id = optimization_id(original, model_obj, data, settings, proposer_model)
    spent = spent_heldout(recorder.store, original.name, exclude=opt_id)
    splits = split_dataset(
        data,
        seed=settings.seed,
        plan=SplitPlan(settings.fractions, settings.target_gain, settings.alpha),
        label_of=label_of,
        label_column=column,
        spent=spent.fingerprints,
        spent_note=spent.note(),
    )
    return Optimization(
        original, data, splits, model_obj, proposer_model, settings, options, recorder.store, label_of, column,
        opt_id, hits_of=recorder.cached_many,
    )  # fmt: skip


def _library(library: Any, original: Any) -> Any:
    """Where an accepted winner is saved: the library given (if the prompt is its file) or the prompt's own."""
    from workbench.prompts import PromptLibrary

    lib = library if isinstance(library, PromptLibrary) else (PromptLibrary(library) if library else None)
    return lib if lib is not None and lib.owns(original) else PromptLibrary.containing(original)


def optimize(prompt: Any, dataset: Any = None, model: Any = None, **kwargs: Any) -> OptimizationReport:
    """Optimise ``prompt`` on ``dataset`` for ``model`` and return the report; the winner is saved as the next
    version only if it beats the original on held-out rows (exact McNemar, α = 0.05).

    ``dataset``: a file, several files (a list: their rows together), a DataFrame or rows; ``model``: a spec
    (``local``, ``openai:MODEL@URL``) or a Model. Keywords: ``budget`` (model calls not answered from the cache,
    everything included), ``seed``, ``proposer`` (a spec for instruction rewrites), ``generators`` (``demos``,
    ``labels``, ``instructions``; or one kind of demonstrations: ``demos:random``, ``demos:nearest``,
    ``demos:bootstrapped``), ``candidates`` (edits of your own, ranked and tested the same way), ``shots``,
    ``proposals``, ``fractions``, ``target_gain`` [0.12], ``alpha`` [0.05], ``save`` [True], ``library``,
    ``on_progress(kind, info)``, and any run option (``store``, ``concurrency``, ``cluster``, ...)."""
    on_progress = kwargs.pop("on_progress", None)
    return prepare_optimization(prompt, dataset, model, **kwargs).run(on_progress)


@dataclass
class Optimization(Costing, Generating):
    """A prepared optimisation: checked, split and estimated; :meth:`run` makes the calls."""

    original: Any
    data: Dataset
    splits: Splits
    model: Any
    proposer_model: Any
    settings: Settings
    options: RunOptions
    store: Any
    label_of: Any
    expected_column: str | None
    opt_id: str
    library: Any = None
    save: bool = True
    hits_of: Callable[[Sequence[Any]], dict[str, Any]] = field(default=lambda cells: {}, repr=False)
    estimate: Estimate = field(default_factory=Estimate)
    spent_calls: int = 0
    _known: dict[str, Candidate] = field(default_factory=dict)
    _progress: Progress | None = None
    _report: Any = None

    def preflight(self) -> None:
        """The model and the proposer answer (a model list, not a model call) — before anything is spent."""
        from workbench.models import bridge

        async def check(models: list[Any]) -> None:
            for m in models:
                try:
                    await m.preflight()
                finally:
                    await m.aclose()

        if not self.options.preflight:
            return
        try:
            bridge.run(check([self.model] + ([self.proposer_model] if self.proposer_model is not None else [])))
        except WorkbenchError as exc:
            if self.proposer_model is not None and self.proposer_model.spec in str(exc):
                raise ConfigError(f"--proposer {self.settings.proposer}: {exc}") from exc
            raise

    # -- running ------------------------------------------------------------------------------------------------
    def _emit(self, kind: str, **info: Any) -> None:
        if self._progress is not None:
            self._progress(kind, info)

    def _check_stop(self) -> None:
        event = self.options.cancel_event
        if isinstance(event, threading.Event) and event.is_set():
            raise OptimizationStopped(
                "Stopped. Every finished run is stored; run the same optimisation again to resume."
            )

    def _annotations(self, role: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": self.opt_id,
            "role": role,
            "prompt_name": self.original.name,
            "prompt": self.original.ref,
            "seed": self.settings.seed,
            "split": self.splits.to_dict(),
        }
        if role == "heldout":
            meta["fingerprints"] = self.splits.fingerprints("heldout")
        return {"optimize": meta}

    def _run(self, role: str, templates: Sequence[Any], data: Dataset, model: Any = None) -> Any:
        """One phase as an ordinary run (origin ``optimize``, its role and the split in its stored config)."""
        from workbench.pipeline.runner import run

        self._check_stop()
        self._emit("phase", phase=role, rows=len(data), prompts=[t.ref for t in templates])

        def on_result(record: Any, done: int, total: int) -> None:
            self._emit("cell", phase=role, done=done, total=total)
            if self.options.on_result is not None:
                self.options.on_result(record, done, total)

        name = f"optimize {self.original.ref} · {role} · {self.opt_id}"
        options = replace(self.options, origin=ORIGIN, annotations=self._annotations(role), name=name)
        try:
            result = run(list(templates), data, [model or self.model], replace(options, on_result=on_result))
        except BaseException:  # Stop cancels the run's cells: say so plainly (the finished cells are stored)
            self._check_stop()
            raise
        self.spent_calls += int(result.stats.get("called", 0))
        self._report.runs[role] = result.run_id
        self._check_stop()
        return result

    def _affordable(self, calls: int, reserve: int) -> bool:
        budget = self.settings.budget
        return budget is None or self.spent_calls + calls + reserve <= budget

    def run(self, on_progress: Progress | None = None) -> OptimizationReport:
        """Make the calls: train → (probe, proposals) → candidates → dev ranking → held-out test → accept/save."""
        self._progress = on_progress
        self._report = OptimizationReport(
            optimization_id=self.opt_id,
            prompt=self.original.ref,
            model=self.model.spec,
            seed=self.settings.seed,
            alpha=self.settings.alpha,
            target_gain=self.settings.target_gain,
            splits=self.splits.to_dict(),
            estimate=self.estimate.to_dict(),
            library=self.library,
            generators=dict(self._generator_notes()),
        )
        dev_original, _ = self._cost([self.original], self.splits.dev)
        heldout_original, _ = self._cost([self.original], self.splits.heldout)
        final = heldout_original + len(self.splits.heldout)  # the held-out test, at its upper bound
        candidates = self._learn(reserve=dev_original + final + len(self.splits.dev))
        winner = self._rank(candidates, dev_original, final)
        if winner is not None:
            self._test(winner)
        self._report.spent_calls = self.spent_calls
        self._emit("done", report=self._report)
        return self._report

    def _learn(self, reserve: int) -> list[Candidate]:
        """The train phase and the generators: every candidate, in a fixed order (``reserve``: calls kept for the
        original and one candidate on dev and the held-out test)."""
        labels_first: list[Candidate] = []
        if self._labels_note() is None:
            probe = labelwords.probe_template(self.original)
            if self._affordable(self._cost([probe], self.splits.train)[0], reserve):
                labels_first = self._label_candidates(probe)
            else:
                self._note("labels", "labels: skipped — the budget does not cover the probe")
        train_records: dict[str, Any] = {}
        if self._needs_train() and self._affordable(self._cost([self.original], self.splits.train)[0], reserve):
            result = self._run("train", [self.original], self.splits.train)
            train_records = {r.row_id: r for r in result.records}
        candidates = [self._known[g] for g in self._known if g.startswith("given:")] + labels_first
        if any(self.settings.wants(kind) for kind in DEMO_KINDS):
            candidates += self._demo_candidates(train_records)
        if self.settings.wants("instructions"):
            candidates += self._instruction_candidates(train_records, reserve)
        candidates = unique(candidates, self.original)
        self._emit("candidates", candidates=[(c.name, c.generator, c.description) for c in candidates])
        return candidates

    def _rank(self, candidates: list[Candidate], dev_original: int, final: int) -> Candidate | None:
        """One dev run of the original and every candidate the budget covers; the winner, if one beats the original."""
        report = self._report
        chosen, results = self._fit(candidates, dev_original, final)
        dev_run = self._run("dev", [self.original, *(c.runnable for c in chosen)], self.splits.dev)
        n_dev = len(self.splits.dev)
        passed = {name: 0 for name in [self.original.name, *(c.name for c in chosen)]}
        for record in dev_run.records:
            passed[record.prompt] = passed.get(record.prompt, 0) + bool(record.passed)
        original_passed = passed[self.original.name]
        report.original_dev = score(original_passed, n_dev)
        for c in candidates:
            entry = results[c.name]
            if c in chosen:
                entry.dev = score(passed[c.name], n_dev)
                entry.dev_gain = round((passed[c.name] - original_passed) / n_dev, 4)
            report.candidates.append(entry)
        self._emit("dev", original=report.original_dev, candidates=[c.to_dict() for c in report.candidates])
        best = select_winner(original_passed, [passed[c.name] if c in chosen else None for c in candidates])
        if best is None:
            top = max((c.dev_gain for c in report.candidates if c.dev_gain is not None), default=None)
            report.message = (
                f"no candidate beat v{self.original.version} on dev (best dev gain {points(top)} over {n_dev} rows); "
                f"the {len(self.splits.heldout)} held-out rows were not spent"
            )
            return None
        winner = candidates[best]
        report.winner, report.winner_diff = winner.name, winner.diff(self.original)
        report.dev_gain = report.candidates[best].dev_gain
        return winner

    def _test(self, winner: Candidate) -> None:
        """The one held-out run of the original and the winner, the exact McNemar verdict, and the decision."""
        report, alpha, v = self._report, self.settings.alpha, f"v{self.original.version}"
        run = self._run("heldout", [self.original, winner.runnable], self.splits.heldout)
        side_a = [r for r in run.records if r.prompt == self.original.name]
        side_b = [r for r in run.records if r.prompt == winner.name]
        comparison = paired(side_a, side_b, self.original.ref, winner.runnable.ref, alpha)
        report.heldout = {
            "pairs": comparison.pairs,
            "excluded": comparison.excluded,
            "original": score(comparison.a.passed, comparison.a.n),
            "winner": score(comparison.b.passed, comparison.b.n),
            "a_only": comparison.a_only,
            "b_only": comparison.b_only,
            "p_value": comparison.p_value,
            "verdict": comparison.verdict,
            "flipped": comparison.flipped,
        }
        report.heldout_gain = round((comparison.b.passed - comparison.a.passed) / max(1, comparison.pairs), 4)
        report.accepted = accept(comparison.a_only, comparison.b_only, alpha)
        held = f"{comparison.pairs} held-out rows"
        if not report.accepted:
            report.message = (
                f"no candidate beat {v} on {held}; best dev gain {points(report.dev_gain)} did not hold (held-out "
                f"{points(report.heldout_gain)}, p = {comparison.p_value:.4g}); nothing was saved"
            )
            return
        report.winner_template = winner.edit
        report.next_version = self._next_version()
        saving = f"v{report.next_version} can be saved" if report.next_version else "not a library prompt"
        report.message = (
            f"{winner.name} ({winner.generator}) beat {v} on {held} ({points(report.heldout_gain)}, "
            f"p = {comparison.p_value:.4g}); {saving}"
        )
        if self.save and self.library is not None:
            report.save(self.library)

    def _next_version(self) -> int | None:
        if self.library is None:
            return None
        try:
            return max(self.library.versions(self.original.name)) + 1
        except WorkbenchError:
            return None
