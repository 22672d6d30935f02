"""The bad-case tracker: from a failed row to a fixed regression case.

A case belongs to one prompt on one model (its *column*, minus the version it was found in): it is deduplicated
by a fingerprint of its inputs, so capturing the same failure from ten runs gives one case (tags merged), while
the same input failing on another model is another case. Capturing happens after a run
(``capture_failures(result)``), never inside it; only scored failures become cases — a cell that errored
(the model or a scorer could not answer) is an error, not a bad case.

Changes made from a view of a case (a :class:`BadCase` passed in) are checked against the version that view
read: if somebody changed the case since, the change is refused (:class:`~workbench.errors.ConflictError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import workbench.events as events
from workbench.badcases.recheck import choose_models, recheck_cases
from workbench.badcases.records import STATUSES, BadCase, RecheckReport, case_from_row, fingerprint
from workbench.badcases.rows import regression_rows
from workbench.errors import ConflictError, NotFoundError, StoreError
from workbench.secrets import redact
from workbench.store import ResultRecord, Store, open_store

CaseRef = int | BadCase


class BadCaseTracker:
    """Bad cases kept in the run store."""

    def __init__(self, store: Store | str | Path | None = None):
        self.store = open_store(store)

    # -- capture ------------------------------------------------------------------------
    def mark_bad(
        self,
        result: int | ResultRecord,
        *,
        tags: Iterable[str] = (),
        note: str = "",
        expected: Any = None,
        source: str = "manual",
    ) -> BadCase:
        """Mark a stored result as a bad case (or update the existing case for the same inputs)."""
        record = result if isinstance(result, ResultRecord) else self.store.result(int(result))
        if record.id is None:
            raise StoreError("That result was never stored; mark results that came from a run.")
        if record.error is not None and source == "scorer":
            raise StoreError(f"Result {record.id} is an error ({record.error}), not a wrong answer.")
        expected = expected if expected is not None else record.inputs.get("expected")
        case_id = self.store.upsert_bad_case(
            record,
            fingerprint=fingerprint(record.inputs),
            tags=sorted({t.strip() for t in tags if t and t.strip()}),
            note=note,
            expected=None if expected is None else redact(str(expected)),
            source=source,
        )
        if source != "scorer":  # captured failures notify once, together
            events.emit(events.BAD_CASES_CHANGED, case_id)
        return self.get(case_id)

    def capture_failures(self, records: Iterable[ResultRecord] | Any) -> list[BadCase]:
        """Turn every scored failure of a run into a bad case, deduplicated; errored cells are never cases.

        Pass a :class:`~workbench.results.RunResult` or its records."""
        captured = []
        for record in getattr(records, "records", records):
            if record.passed is False and record.error is None:
                failed = [s["name"] for s in record.scores if not s.get("passed")]
                reason = "; ".join(s["reason"] for s in record.scores if not s.get("passed"))
                captured.append(
                    self.mark_bad(record, tags=[f"scorer:{n}" for n in failed], note=reason, source="scorer")
                )
        events.emit(events.BAD_CASES_CHANGED, captured)
        return captured

    # -- reading ------------------------------------------------------------------------
    def get(self, case_id: CaseRef) -> BadCase:
        case_id = case_id.id if isinstance(case_id, BadCase) else int(case_id)
        row = self.store.bad_case_row(case_id)
        if row is None:
            raise NotFoundError(f"No bad case #{case_id}. List them with `workbench badcases list`.")
        return case_from_row(row, self.store.bad_case_checks(case_id))

    def list(
        self, *, status: str | Sequence[str] | None = None, tag: str | None = None, prompt: str | None = None
    ) -> list[BadCase]:
        statuses = [status] if isinstance(status, str) else list(status or [])
        for name in statuses:
            _check_status(name)
        cases = [case_from_row(r) for r in self.store.bad_case_rows(statuses=statuses, prompt=prompt)]
        return [c for c in cases if tag is None or tag in c.tags]

    def dataframe(self, **filters: Any) -> Any:
        import pandas as pd

        columns = ["id", "prompt", "version", "model", "row_id", "category", "tags", "status", "inputs", "output"]
        columns += ["expected", "note", "source", "created_at", "updated_at"]
        rows = [_frame_row(c) for c in self.list(**filters)]
        return pd.DataFrame(rows, columns=columns)

    def report(self) -> Any:
        """Cases per category (a case's first tag, "untagged" without one) × status; empty without cases."""
        import pandas as pd

        cases = self.list()
        if not cases:
            return pd.DataFrame()
        frame = pd.DataFrame([{"category": c.category, "status": c.status} for c in cases])
        table = pd.crosstab(frame["category"], frame["status"])
        return table.reindex(columns=[s for s in STATUSES if s in table.columns])

    def over_time(self, freq: str = "D") -> Any:
        """Cases opened per period, and how many of those are fixed now."""
        import pandas as pd

        df = self.dataframe()
        if df.empty:
            return pd.DataFrame()
        df["created"] = pd.to_datetime(df["created_at"]).dt.tz_localize(None).dt.to_period(freq)
        return pd.crosstab(df["created"], df["status"])

    # -- editing ------------------------------------------------------------------------
    def tag(self, case: CaseRef, add: Iterable[str] = (), remove: Iterable[str] = ()) -> BadCase:
        add, remove = [t.strip() for t in add if t.strip()], list(remove)

        def change(current: BadCase) -> dict[str, Any]:
            tags = (set(current.tags) | set(add)) - set(remove)
            return {"tags": json.dumps(sorted(tags), ensure_ascii=False)}

        return self._change(case, change)

    def annotate(self, case: CaseRef, *, note: str | None = None, expected: Any = None) -> BadCase:
        changes: dict[str, Any] = {}
        if note is not None:
            changes["note"] = redact(note) or ""
        if expected is not None:
            changes["expected"] = redact(str(expected))
        return self._change(case, lambda current: changes) if changes else self.get(case)

    def set_status(self, case: CaseRef, status: str) -> BadCase:
        _check_status(status)
        return self._change(case, lambda current: {"status": status})

    def _change(self, case: CaseRef, change: Any) -> BadCase:
        """Apply ``change(current) -> columns``. A BadCase passed in is the view the change was made from: it must
        still be current. A bare id means "the case as it is now" (re-read and retried if it moves meanwhile)."""
        for _ in range(3):
            current = case if isinstance(case, BadCase) else self.get(case)
            try:
                self.store.update_bad_case(current.id, change(current), expected_version=current.row_version)
            except ConflictError:
                if isinstance(case, BadCase):
                    raise
                continue
            events.emit(events.BAD_CASES_CHANGED, current.id)
            return self.get(current.id)
        raise ConflictError(f"Bad case #{current.id} kept changing while we tried to update it; try again.")

    # -- recheck and export -------------------------------------------------------------
    def recheck(
        self,
        prompt: Any,
        models: Any = None,
        *,
        statuses: Sequence[str] = ("open", "regressed", "fixed"),
        cases: Iterable[CaseRef] | None = None,
        prompt_name: str | None = None,
        **run_options: Any,
    ) -> RecheckReport:
        """Run bad cases against a (new) prompt version and update their statuses.

        By default every open, regressed and fixed case of the prompt (fixed ones too: that is how a regression
        is caught); ``cases`` (ids or cases) rechecks exactly those. Each case is checked on its own model;
        ``models`` (specs) limits the recheck to the cases found on those models.
        """
        from workbench.models import get_model
        from workbench.pipeline.plan import as_list
        from workbench.prompts import load_prompt

        template = load_prompt(prompt)
        name = prompt_name or template.name
        listed = self.list(status=list(statuses), prompt=name) if cases is None else None
        chosen = listed if listed is not None else [self.get(c) for c in cases or ()]
        if not chosen:
            raise NotFoundError(f"No bad cases with status {', '.join(statuses)} for prompt {name!r}.")
        given = {(m if isinstance(m, str) else get_model(m).spec): m for m in as_list(models)}
        chosen, run_models = choose_models(chosen, given, name)
        report = recheck_cases(self.store, template, chosen, run_models, **run_options)
        events.emit(events.BAD_CASES_CHANGED, report.outcomes)
        return report

    def export(self, path: str | Path, **filters: Any) -> Path:
        """Write one prompt's cases as a regression dataset (inputs, ``expected``, the rows' own ids), ready for
        ``run``. Cases of several prompts are not mixed: pass ``prompt=``."""
        from workbench.datasets import write_dataset

        cases = self.list(**filters)
        if not cases:
            raise StoreError("No bad cases match; nothing to export.")
        prompts = sorted({c.prompt for c in cases})
        if len(prompts) > 1:
            raise StoreError(
                f"These cases belong to {len(prompts)} prompts ({', '.join(prompts)}); a regression set is for one "
                "prompt. Pick one with --prompt NAME (prompt=NAME)."
            )
        rows, _ = regression_rows(cases, bookkeeping=True)
        return write_dataset(rows, path)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise StoreError(f"Unknown status {status!r}. Use one of: {', '.join(STATUSES)}.")


def _frame_row(case: BadCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "prompt": case.prompt,
        "version": case.version,
        "model": case.model,
        "row_id": case.row_id,
        "category": case.category,
        "tags": ", ".join(case.tags),
        "status": case.status,
        "inputs": case.inputs,
        "output": case.output,
        "expected": case.expected,
        "note": case.note,
        "source": case.source,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }
