"""Bad cases as dataset rows: for a recheck run, and for an exported regression set.

Rows keep the id of the row each case was found on. Cases of one prompt on several models share their input,
so they become one row; two different inputs that happen to share a row id (found in two datasets) get the id
made unique with a short fingerprint, so the run's duplicate-id check never rejects a regression set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.badcases.records import BadCase


def regression_rows(cases: Sequence[BadCase], *, bookkeeping: bool = False) -> tuple[list[dict[str, Any]], dict]:
    """(rows, {fingerprint: row id}): one row per distinct input, with ``expected`` when a case knows it."""
    rows: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    ids: dict[str, str] = {}
    for case in cases:
        fp = case.fingerprint
        if fp in rows:
            _merge(rows[fp], case, bookkeeping)
            continue
        row_id = str(case.row_id) if case.row_id not in (None, "") else f"case-{case.id}"
        if row_id in taken:
            row_id = f"{row_id}~{fp[:6]}"
        taken.add(row_id)
        ids[fp] = row_id
        row = {k: v for k, v in case.inputs.items() if k not in ("id", "expected")}
        row["id"] = row_id
        if case.expected is not None:
            row["expected"] = case.expected
        if bookkeeping:
            row.update(__bad_case_ids=str(case.id), __bad_case_tags=", ".join(case.tags))
            row["__bad_case_status"] = case.status
        rows[fp] = row
    return list(rows.values()), ids


def _merge(row: dict[str, Any], case: BadCase, bookkeeping: bool) -> None:
    if "expected" not in row and case.expected is not None:
        row["expected"] = case.expected
    if bookkeeping:
        row["__bad_case_ids"] += f", {case.id}"
        tags = dict.fromkeys([*row["__bad_case_tags"].split(", "), *case.tags])
        row["__bad_case_tags"] = ", ".join(t for t in tags if t)
