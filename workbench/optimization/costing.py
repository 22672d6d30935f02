"""The cost side of an :class:`~workbench.optimization.optimizer.Optimization`: every part of the work counted in
model calls the cache cannot answer, before any call (see :mod:`workbench.optimization.budget` for the rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import workbench.optimization.demos as demos
import workbench.optimization.labelwords as labelwords
from workbench.datasets import Dataset
from workbench.errors import ConfigError, WorkbenchError
from workbench.optimization.budget import Estimate, Part, per_row_price, price_of, uncached
from workbench.optimization.candidates import DEMO_KINDS, Candidate
from workbench.optimization.report import CandidateResult


class Costing:
    """Mixed into :class:`Optimization` (which has the original, the splits, the model, settings and options)."""

    original: Any
    splits: Any
    model: Any
    settings: Any
    options: Any
    expected_column: str | None
    label_of: Any
    hits_of: Any
    estimate: Estimate
    _known: dict[str, Candidate]

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
        """Why the label-word search does not run (``None``: it does)."""
        if not self.settings.wants("labels"):
            return "not chosen"
        return labelwords.applicable(self.original, self.model)

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
        if self.settings.wants("instructions"):
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

    def _expected_candidates(self) -> list[tuple[str, int]]:
        """(generator, how many candidates it will make at most), in the order they are tried. Candidates that need
        no model call to make (the caller's, random demonstrations) are made now, so they are costed exactly."""
        out: list[tuple[str, int]] = []
        for candidate in self._given():
            self._known[candidate.generator] = candidate
            out.append((candidate.generator, 1))
        if self._labels_note() is None:
            out.append(("labels", 2 if self.original.output.get("method") == "logprob" else 3))
        if self.settings.wants("demos:random") and "demos:random" not in self._known:
            s = self.settings
            candidate = demos.random_demos(
                self.original, self.splits.train, self.label_of, self._expected, k=s.shots, seed=s.seed
            )
            if candidate is not None:
                self._known["demos:random"] = candidate
        out += [(kind, 1) for kind in DEMO_KINDS if self.settings.wants(kind)]
        if self.settings.wants("instructions"):
            out.append(("instructions", self.settings.proposals))
        return out

    def _minimum(self, parts: list[Part]) -> tuple[int, str]:
        """Calls for the original and one candidate on dev plus the held-out test — the cheapest such candidate."""
        dev_original = next(p.calls for p in parts if p.phase == "dev" and p.what.startswith(self.original.ref))
        heldout = sum(p.calls for p in parts if p.phase == "heldout")
        train = next((p.calls for p in parts if p.phase == "train"), 0)
        probe = next((p.calls for p in parts if p.phase == "probe"), 0)
        dev = len(self.splits.dev)
        routes = {  # what each kind of candidate costs before it can be ranked, and how to say it
            "given:": (0, "your candidate"),
            "demos:random": (0, "a random-demonstrations candidate"),
            "demos:nearest": (0, "a nearest-neighbour demonstrations candidate"),
            "demos:bootstrapped": (train, "a bootstrapped demonstrations candidate (after the train run)"),
            "labels": (probe, "a label-word candidate (after the probe)"),
            "instructions": (train + 1, "an instruction candidate (after the train run and a proposal)"),
        }
        options = []
        for p in parts:
            if p.phase == "dev" and "candidate" in p.what:
                key = next(k for k in routes if k in p.what)
                before, what = routes[key]
                options.append((before + (p.calls if p.exact else dev), what))
        if not options:
            raise ConfigError(
                f"No candidate generator applies to {self.original.ref} on {self.model.spec}: "
                f"{'; '.join(self._generator_notes().values())}. Nothing was run."
            )
        cheapest, what = min(options)
        return dev_original + cheapest + heldout, f"{self.original.ref} and {what} on dev, then the held-out test"

    def _generator_notes(self) -> dict[str, str]:
        notes = {}
        if self.settings.wants("labels") and (why := self._labels_note()):
            notes["labels"] = f"labels: {why}"
        if not any(self.settings.wants(kind) for kind in DEMO_KINDS):
            notes["demos"] = "demos: not chosen"
        if not self.settings.wants("instructions"):
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

    def _fit(self, candidates: list[Candidate], dev_original: int, final: int) -> tuple[list[Candidate], dict]:
        """The candidates the budget covers on dev (already cached ones first), and a result entry for each."""
        if not candidates:
            notes = "; ".join(str(n) for n in self._report.generators.values())
            raise WorkbenchError(f"No candidate could be made for {self.original.ref}: {notes}.")
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
        if not chosen:
            raise ConfigError("The budget was spent before any candidate could be ranked on dev.")
        return [c for c in candidates if c in chosen], results
