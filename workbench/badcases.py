"""The bad-case tracker: from a failed row to a fixed regression case.

A bad case is a (dataset row inputs, prompt, model, output) that a person or a scorer judged
wrong, with tags (format error, hallucination, wrong label, refusal, off-language, ...), a note,
the expected answer if known, and a status::

    open ──recheck passes──▶ fixed ──recheck fails──▶ regressed ──recheck passes──▶ fixed
      └──────────── set_status("wontfix") / reopen ────────────┘

A case belongs to one prompt on one model (its *column*, minus the version it was found in): it is
deduplicated by a fingerprint of its inputs, so capturing the same failure from ten runs gives one case
(with its tags merged), while the same input failing on another model is another case. Capturing happens
after a run (``capture_failures(result)``), never inside it. Rechecks run the cases through the normal
pipeline, so every check is a stored run too. Export turns them into a regression dataset.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import events
from workbench.datasets import write_dataset
from workbench.errors import StoreError
from workbench.models import get_model
from workbench.pipeline import run
from workbench.pipeline.plan import as_list
from workbench.prompts import load_prompt
from workbench.secrets import redact
from workbench.store import ResultRecord, Store, now

STATUSES = ("open", "fixed", "regressed", "wontfix")
SUGGESTED_TAGS = ("wrong label", "format error", "hallucination", "refusal", "off-language", "incomplete", "too long")


def fingerprint(inputs: dict[str, Any]) -> str:
    """Identity of a case: its inputs without the expected answer or bookkeeping columns."""
    core = {k: v for k, v in inputs.items() if k not in ("expected", "id") and not k.startswith("__")}
    return hashlib.sha256(json.dumps(core, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BadCase:
    id: int
    prompt: str
    version: int
    model: str
    row_id: str | None
    inputs: dict[str, Any]
    output: str | None
    expected: str | None
    tags: tuple[str, ...]
    note: str
    status: str
    source: str
    found_in_run: str | None
    result_id: int | None
    created_at: str
    updated_at: str
    checks: tuple[dict[str, Any], ...] = field(default=())

    @property
    def category(self) -> str:
        return self.tags[0] if self.tags else "untagged"


@dataclass
class RecheckReport:
    run_id: str
    outcomes: dict[int, str]  # bad case id -> fixed | still failing | regressed | still fixed
    result: Any  # RunResult

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for outcome in self.outcomes.values():
            out[outcome] = out.get(outcome, 0) + 1
        return out

    def __repr__(self) -> str:
        return f"<RecheckReport run {self.run_id}: {self.counts()}>"


def _insert_case(
    db: Any, record: ResultRecord, fp: str, tags: list[str], note: str, expected: str | None, source: str
) -> int:
    stamp = now()
    cur = db.execute(
        "INSERT INTO bad_cases (fingerprint, prompt, version, model, row_id, inputs, output, expected, tags, note,"
        " status, source, found_in_run, result_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " RETURNING id",
        (
            fp,
            record.prompt,
            record.version,
            record.model,
            record.row_id,
            redact(json.dumps(record.inputs, ensure_ascii=False, default=str)),
            redact(record.output),
            expected,
            json.dumps(tags, ensure_ascii=False),
            redact(note) or "",
            "open",
            source,
            record.run_id,
            record.id,
            stamp,
            stamp,
        ),
    )
    return cur.fetchone()[0]


def _update_case(
    db: Any, existing: Any, record: ResultRecord, tags: list[str], note: str, expected: str | None
) -> None:
    merged = sorted(set(json.loads(existing["tags"])) | set(tags))
    status = "regressed" if existing["status"] == "fixed" else existing["status"]  # failed again after a fix
    db.execute(
        "UPDATE bad_cases SET tags=?, note=?, expected=COALESCE(?, expected), output=?, version=?, model=?,"
        " result_id=?, status=?, updated_at=? WHERE id=?",
        (
            json.dumps(merged, ensure_ascii=False),
            redact(note) or existing["note"],
            expected,
            redact(record.output),
            record.version,
            record.model,
            record.id,
            status,
            now(),
            existing["id"],
        ),
    )


def _record_check(db: Any, case: BadCase, record: ResultRecord, run_id: str) -> str:
    """Store one recheck of a case and move its status: fixed / still failing / regressed / still fixed."""
    passed = bool(record.passed) and record.error is None
    if passed:
        outcome, status = ("still fixed" if case.status == "fixed" else "fixed"), "fixed"
    elif case.status in ("fixed", "regressed"):
        outcome, status = "regressed", "regressed"
    else:
        outcome, status = "still failing", case.status
    stamp = now()
    db.execute(
        "INSERT INTO bad_case_checks (bad_case_id, run_id, result_id, prompt, version, model, output, passed, outcome,"
        " checked_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            case.id,
            run_id,
            record.id,
            record.prompt,
            record.version,
            record.model,
            redact(record.output),
            None if record.passed is None else int(record.passed),
            outcome,
            stamp,
        ),
    )
    db.execute("UPDATE bad_cases SET status=?, updated_at=? WHERE id=?", (status, stamp, case.id))
    return outcome


def _row_to_case(row: Any, checks: Sequence[dict[str, Any]] = ()) -> BadCase:
    data = dict(row)
    data["inputs"] = json.loads(data["inputs"])
    data["tags"] = tuple(json.loads(data["tags"]))
    data.pop("fingerprint", None)
    return BadCase(**data, checks=tuple(checks))


class BadCaseTracker:
    """Bad cases kept in the run store (``bad_cases`` and ``bad_case_checks`` tables)."""

    def __init__(self, store: Store | str | None = None):
        self.store = store if isinstance(store, Store) else Store(store)

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
        expected = expected if expected is not None else record.inputs.get("expected")
        expected_text = None if expected is None else redact(str(expected))
        fp = fingerprint(record.inputs)
        tags = sorted({t.strip() for t in tags if t and t.strip()})
        with self.store.transaction() as db:
            existing = db.execute(
                "SELECT * FROM bad_cases WHERE prompt=? AND model=? AND fingerprint=?",
                (record.prompt, record.model, fp),
            ).fetchone()
            if existing is None:
                case_id = _insert_case(db, record, fp, tags, note, expected_text, source)
            else:
                case_id = existing["id"]
                _update_case(db, existing, record, tags, note, expected_text)
        if source != "scorer":  # captured failures notify once, together
            events.emit(events.BAD_CASES_CHANGED, case_id)
        return self.get(case_id)

    def capture_failures(self, records: Iterable[ResultRecord] | Any) -> list[BadCase]:
        """Turn every scored failure (not infrastructure errors) of a run into a bad case, deduplicated.

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
    def get(self, case_id: int) -> BadCase:
        rows = self.store.query("SELECT * FROM bad_cases WHERE id=?", (case_id,))
        if not rows:
            raise StoreError(f"No bad case #{case_id}. List them with `workbench badcases list`.")
        checks = [
            dict(r)
            for r in self.store.query(
                "SELECT run_id, result_id, prompt, version, model, output, passed, outcome, checked_at"
                " FROM bad_case_checks WHERE bad_case_id=? ORDER BY id",
                (case_id,),
            )
        ]
        return _row_to_case(rows[0], checks)

    def list(
        self, *, status: str | Sequence[str] | None = None, tag: str | None = None, prompt: str | None = None
    ) -> list[BadCase]:
        sql, params = "SELECT * FROM bad_cases WHERE 1=1", []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += statuses
        if prompt:
            sql += " AND prompt=?"
            params.append(prompt)
        cases = [_row_to_case(r) for r in self.store.query(sql + " ORDER BY id", params)]
        return [c for c in cases if tag is None or tag in c.tags]

    def dataframe(self, **filters: Any) -> Any:
        import pandas as pd

        rows = []
        for c in self.list(**filters):
            rows.append(
                {
                    "id": c.id,
                    "prompt": c.prompt,
                    "version": c.version,
                    "model": c.model,
                    "category": c.category,
                    "tags": ", ".join(c.tags),
                    "status": c.status,
                    "inputs": c.inputs,
                    "output": c.output,
                    "expected": c.expected,
                    "note": c.note,
                    "source": c.source,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                }
            )
        return pd.DataFrame(rows)

    def report(self) -> Any:
        """Counts per category × status (a case counts under each of its tags)."""
        import pandas as pd

        rows = [{"category": tag, "status": c.status} for c in self.list() for tag in (c.tags or ("untagged",))]
        if not rows:
            return pd.DataFrame()
        table = pd.crosstab(pd.DataFrame(rows)["category"], pd.DataFrame(rows)["status"])
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
    def tag(self, case_id: int, add: Iterable[str] = (), remove: Iterable[str] = ()) -> BadCase:
        case = self.get(case_id)
        tags = (set(case.tags) | {t.strip() for t in add if t.strip()}) - set(remove)
        self._update(case_id, tags=json.dumps(sorted(tags), ensure_ascii=False))
        return self.get(case_id)

    def annotate(self, case_id: int, *, note: str | None = None, expected: Any = None) -> BadCase:
        self.get(case_id)
        changes: dict[str, Any] = {}
        if note is not None:
            changes["note"] = redact(note)
        if expected is not None:
            changes["expected"] = str(expected)
        if changes:
            self._update(case_id, **changes)
        return self.get(case_id)

    def set_status(self, case_id: int, status: str) -> BadCase:
        if status not in STATUSES:
            raise StoreError(f"Unknown status {status!r}. Use one of: {', '.join(STATUSES)}.")
        self.get(case_id)
        self._update(case_id, status=status)
        return self.get(case_id)

    def _update(self, case_id: int, **changes: Any) -> None:
        columns = ", ".join(f"{k}=?" for k in changes)
        with self.store.transaction() as db:
            db.execute(f"UPDATE bad_cases SET {columns}, updated_at=? WHERE id=?", (*changes.values(), now(), case_id))
        events.emit(events.BAD_CASES_CHANGED, case_id)

    # -- recheck and export -------------------------------------------------------------
    def as_rows(self, cases: Sequence[BadCase]) -> list[dict[str, Any]]:
        rows = []
        for case in cases:
            row = dict(case.inputs)
            if case.expected is not None:
                row["expected"] = case.expected
            row["id"] = f"bad-{case.id}"
            rows.append(row)
        return rows

    def recheck(
        self,
        prompt: Any,
        models: Any = None,
        *,
        statuses: Sequence[str] = ("open", "regressed", "fixed"),
        prompt_name: str | None = None,
        **run_options: Any,
    ) -> RecheckReport:
        """Run the bad cases of a prompt against a (new) prompt version and update their statuses.

        Each case is checked on its own model; ``models`` (specs) limits the recheck to the cases found on
        those models (default: every case's model).
        """
        template = load_prompt(prompt)
        cases = self.list(status=list(statuses), prompt=prompt_name or template.name)
        if not cases:
            raise StoreError(f"No bad cases with status {', '.join(statuses)} for prompt {template.name!r}.")
        given = {(m if isinstance(m, str) else get_model(m).spec): m for m in as_list(models)}
        if given:
            found_on = sorted({c.model for c in cases})
            cases = [c for c in cases if c.model in given]
            if not cases:
                raise StoreError(
                    f"No bad cases of {template.name!r} on {', '.join(given)}; they were found on: "
                    f"{', '.join(found_on)}. Recheck with one of those models."
                )
        chosen = [given.get(spec, spec) for spec in dict.fromkeys(c.model for c in cases)]
        result = run(template, self.as_rows(cases), chosen, store=self.store, **run_options)
        by_key = {(r.row_id, r.model): r for r in result.records if r.repeat == 0}
        outcomes: dict[int, str] = {}
        with self.store.transaction() as db:
            for case in cases:
                record = by_key.get((f"bad-{case.id}", case.model))
                if record is not None:
                    outcomes[case.id] = _record_check(db, case, record, result.run_id)
        events.emit(events.BAD_CASES_CHANGED, outcomes)
        return RecheckReport(result.run_id, outcomes, result)

    def export(self, path: str | Path, **filters: Any) -> Path:
        """Write the cases as a regression dataset (inputs + expected), ready for ``run``."""
        cases = self.list(**filters)
        if not cases:
            raise StoreError("No bad cases match; nothing to export.")
        rows = self.as_rows(cases)
        for row, case in zip(rows, cases, strict=True):
            row["__bad_case_tags"] = ", ".join(case.tags)
            row["__bad_case_status"] = case.status
        return write_dataset(rows, path)
