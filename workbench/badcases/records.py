"""What a bad case is, as a record: its inputs, prompt, model, output, tags, note, status and history of checks.

Statuses::

    open ──recheck passes──▶ fixed ──recheck fails──▶ regressed ──recheck passes──▶ fixed
      └──────────── set_status("wontfix") / reopen ────────────┘
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("open", "fixed", "regressed", "wontfix")
SUGGESTED_TAGS = ("wrong label", "format error", "hallucination", "refusal", "off-language", "incomplete", "too long")
BOOKKEEPING = ("expected", "id")


def fingerprint(inputs: dict[str, Any]) -> str:
    """Identity of a case: its inputs without the expected answer or bookkeeping columns."""
    core = {k: v for k, v in inputs.items() if k not in BOOKKEEPING and not k.startswith("__")}
    text = json.dumps(core, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BadCase:
    """One input that one prompt gets wrong on one model. ``row_version`` is what a change is checked against."""

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
    row_version: int = 1
    checks: tuple[dict[str, Any], ...] = field(default=())

    @property
    def category(self) -> str:
        return self.tags[0] if self.tags else "untagged"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.inputs)


def case_from_row(row: dict[str, Any], checks: Sequence[dict[str, Any]] = ()) -> BadCase:
    data = dict(row)
    data["inputs"] = json.loads(data["inputs"])
    data["tags"] = tuple(json.loads(data["tags"]))
    data.pop("fingerprint", None)
    return BadCase(**data, checks=tuple(checks))


@dataclass
class RecheckReport:
    """What a recheck found: the run it made, and per case one of fixed / still failing / regressed / still
    fixed / error (the cell could not be answered or scored: the case's status is left as it was)."""

    run_id: str
    outcomes: dict[int, str]
    result: Any  # RunResult
    cases: dict[int, BadCase] = field(default_factory=dict)  # the cases as they were before the recheck

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for outcome in self.outcomes.values():
            out[outcome] = out.get(outcome, 0) + 1
        return out

    def changed(self) -> dict[int, str]:
        """The cases whose status moved (fixed, regressed), by id."""
        return {case_id: o for case_id, o in self.outcomes.items() if o in ("fixed", "regressed")}

    def __repr__(self) -> str:
        return f"<RecheckReport run {self.run_id}: {self.counts()}>"
