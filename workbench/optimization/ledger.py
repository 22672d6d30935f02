"""Which rows were spent as held-out rows of a prompt — read from the store, not kept anywhere else.

Why: a held-out test is only out-of-sample once. If the rows that decided an earlier optimisation were used again
to test the next candidate, the second test would be chosen with knowledge of the first (peeking), and its p-value
would mean less than it says. So every held-out run an optimisation makes is an ordinary run with origin
``optimize`` whose stored config records, under ``annotations.optimize``, the optimisation's id, its role
(``heldout``) and the fingerprints of its rows (:func:`~workbench.optimization.splits.row_fingerprint`). A later
optimisation of the same prompt name (any version) reads them back and keeps those rows out of its held-out split.

The same optimisation run again (same id: same prompt text, data, model, seed and settings) is not a second look: it
resumes or replays the one test, answered from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORIGIN = "optimize"


@dataclass(frozen=True)
class Spent:
    """Rows spent as held-out for a prompt by other optimisations, and where."""

    fingerprints: frozenset[str] = frozenset()
    runs: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def note(self) -> str:
        """`` by optimisation X (run R, 2026-12-07)`` — for the refusal message."""
        if not self.runs:
            return ""
        shown = ", ".join(
            f"optimisation {r['optimization']} (run {r['run']}, {r['started'][:10]})" for r in self.runs[:3]
        )
        more = f" and {len(self.runs) - 3} more" if len(self.runs) > 3 else ""
        return f" by {shown}{more}"


def spent_heldout(store: Any, prompt_name: str, *, exclude: str | None = None) -> Spent:
    """Fingerprints of every row a held-out run of ``prompt_name`` used, except runs of optimisation ``exclude``."""
    fingerprints: set[str] = set()
    runs: list[dict[str, Any]] = []
    for run in store.run_configs(origin=ORIGIN, prompt=prompt_name):
        meta = (run["config"].get("annotations") or {}).get("optimize") or {}
        if meta.get("role") != "heldout" or meta.get("prompt_name") != prompt_name or meta.get("id") == exclude:
            continue
        rows = set(meta.get("fingerprints") or ())
        if rows - fingerprints:
            runs.append({"optimization": meta.get("id"), "run": run["id"], "started": run["started_at"] or ""})
        fingerprints |= rows
    return Spent(frozenset(fingerprints), tuple(runs))
