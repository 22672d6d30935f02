"""Rechecking bad cases: run them through the normal pipeline against a prompt version, then move each case's
status by what its own model answered (every recheck is a stored run too)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.badcases.records import BadCase, RecheckReport
from workbench.badcases.rows import regression_rows
from workbench.errors import StoreError
from workbench.store import ResultRecord, Store


def outcome_of(case: BadCase, record: ResultRecord) -> tuple[str, str]:
    """(outcome, new status) of one check. A cell that errored says nothing about the prompt: status kept."""
    if record.error is not None or record.passed is None:
        return "error", case.status
    if record.passed:
        return ("still fixed" if case.status == "fixed" else "fixed"), "fixed"
    if case.status in ("fixed", "regressed"):
        return "regressed", "regressed"
    return "still failing", case.status


def choose_models(cases: list[BadCase], given: dict[str, Any], prompt: str) -> tuple[list[BadCase], list[Any]]:
    """The cases to recheck and the models to run them on: every case's own model, or only ``given`` ones."""
    if given:
        found_on = sorted({c.model for c in cases})
        cases = [c for c in cases if c.model in given]
        if not cases:
            raise StoreError(
                f"No bad cases of {prompt!r} on {', '.join(given)}; they were found on: "
                f"{', '.join(found_on)}. Recheck with one of those models."
            )
    return cases, [given.get(spec, spec) for spec in dict.fromkeys(c.model for c in cases)]


def recheck_cases(store: Store, template: Any, cases: Sequence[BadCase], models: list[Any], **options: Any):
    """Run ``cases`` with ``template`` on ``models``, store one check per case; the report."""
    from workbench.pipeline import run

    rows, ids = regression_rows(cases)
    options.setdefault("name", f"recheck of {len(cases)} bad case(s) of {template.name}")
    options.setdefault("origin", "recheck")
    result = run(template, rows, models, store=store, **options)
    by_key = {(r.row_id, r.model): r for r in result.records if r.repeat == 0}
    outcomes: dict[int, str] = {}
    checks = []
    for case in cases:
        record = by_key.get((ids[case.fingerprint], case.model))
        if record is not None:
            outcome, status = outcome_of(case, record)
            outcomes[case.id] = outcome
            checks.append((case.id, record, outcome, status))
    store.add_checks(result.run_id, checks, seen={c.id: c.row_version for c in cases})
    return RecheckReport(result.run_id, outcomes, result, {c.id: c for c in cases})
