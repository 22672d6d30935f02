"""What an optimisation reports: every candidate's dev score with its interval, the winner's diff, the held-out
verdict with the flipped rows, the optimism (dev gain minus held-out gain), and whether a version was saved.

``to_dict()`` is the CLI's ``--format json`` (at least ``accepted``, ``version`` and ``heldout``); ``str()`` is the
text report; in a notebook the report renders as HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from workbench.stats import wilson_interval


def score(passed: int, n: int) -> dict[str, Any]:
    """``{passed, n, pass_rate, ci95}`` of one prompt on one split."""
    return {
        "passed": passed,
        "n": n,
        "pass_rate": round(passed / n, 4) if n else None,
        "ci95": list(wilson_interval(passed, n) or ()) or None,
    }


def points(gain: float | None) -> str:
    return "n/a" if gain is None else f"{gain * 100:+.1f} points"


def _rate(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("pass_rate") is None:
        return "n/a"
    ci = entry.get("ci95")
    interval = f" [{ci[0]:.1%}–{ci[1]:.1%}]" if ci else ""
    return f"{entry['passed']}/{entry['n']} = {entry['pass_rate']:.1%}{interval}"


@dataclass
class CandidateResult:
    name: str
    generator: str
    description: str
    diff: str
    status: str = "evaluated"  # evaluated | skipped (budget) | failed (errors)
    dev: dict[str, Any] | None = None
    dev_gain: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "generator": self.generator,
            "description": self.description,
            "status": self.status,
            "dev": self.dev,
            "dev_gain": self.dev_gain,
            "diff": self.diff,
        }


@dataclass
class OptimizationReport:
    optimization_id: str
    prompt: str  # the original's ref
    model: str
    seed: int
    alpha: float
    target_gain: float
    splits: dict[str, Any]
    estimate: dict[str, Any]
    spent_calls: int = 0
    original_dev: dict[str, Any] | None = None
    candidates: list[CandidateResult] = field(default_factory=list)
    winner: str | None = None
    winner_diff: str | None = None
    dev_gain: float | None = None
    heldout: dict[str, Any] | None = None
    heldout_gain: float | None = None
    accepted: bool = False
    version: int | None = None  # the version saved (None: nothing saved)
    next_version: int | None = None  # the version a save would create
    saved_ref: str | None = None
    message: str = ""
    runs: dict[str, str] = field(default_factory=dict)
    generators: dict[str, Any] = field(default_factory=dict)  # what each generator did or why it did not run
    winner_template: Any = field(default=None, repr=False)  # the accepted edit (a PromptTemplate), for save()
    library: Any = field(default=None, repr=False)

    @property
    def optimism(self) -> float | None:
        """How much the dev gain overstated the gain on rows nobody chose on (dev gain − held-out gain)."""
        if self.dev_gain is None or self.heldout_gain is None:
            return None
        return round(self.dev_gain - self.heldout_gain, 4)

    def save(self, library: Any = None) -> Any:
        """Save the accepted winner as the original's next version (what the UI's "Save as vN" does)."""
        from workbench.errors import WorkbenchError

        if not self.accepted or self.winner_template is None:
            raise WorkbenchError("Nothing to save: no candidate was accepted on the held-out test.")
        if self.version is not None:
            raise WorkbenchError(f"Already saved as {self.saved_ref}.")
        library = library or self.library
        if library is None:
            raise WorkbenchError(
                f"{self.prompt} is not a file of a prompt library, so there is no next version to write: save the "
                "winner yourself (report.winner_template.to_text())."
            )
        # the version the optimisation started from: if the file moved on since, the save is refused, not merged over
        started_from = int(self.prompt.rsplit("@v", 1)[-1])
        saved = library.save(self.winner_template, as_next_version=True, expected_version=started_from)
        self.version, self.saved_ref = saved.version, saved.ref
        self.message = self.message.replace(f"v{self.next_version} can be saved", f"saved as {saved.ref}")
        return saved

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimization_id": self.optimization_id,
            "prompt": self.prompt,
            "model": self.model,
            "accepted": self.accepted,
            "version": self.version,
            "saved": self.saved_ref,
            "next_version": self.next_version,
            "message": self.message,
            "seed": self.seed,
            "alpha": self.alpha,
            "target_gain": self.target_gain,
            "splits": self.splits,
            "estimate": self.estimate,
            "spent_calls": self.spent_calls,
            "original_dev": self.original_dev,
            "candidates": [c.to_dict() for c in self.candidates],
            "winner": self.winner,
            "winner_diff": self.winner_diff,
            "dev_gain": self.dev_gain,
            "heldout": self.heldout,
            "heldout_gain": self.heldout_gain,
            "optimism": self.optimism,
            "generators": self.generators,
            "runs": self.runs,
        }

    # -- text ----------------------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        sizes = self.splits.get("sizes", {})
        strat = self.splits.get("stratified_by")
        out = [
            f"optimisation {self.optimization_id} of {self.prompt} on {self.model}: train {sizes.get('train')} · "
            f"dev {sizes.get('dev')} · held-out {sizes.get('heldout')} rows"
            + (f" (stratified by {strat!r})" if strat else "")
            + f", seed {self.seed}",
            f"model calls: {self.spent_calls} (estimated at most {self.estimate.get('calls')}"
            + (f", budget {self.estimate['budget']})" if self.estimate.get("budget") is not None else ")"),
            f"dev — original {self.prompt}: {_rate(self.original_dev)}",
        ]
        for c in self.candidates:
            mark = "★ " if c.name == self.winner else "  "
            if c.status != "evaluated":
                out.append(f"{mark}{c.name} [{c.generator}] {c.status} — {c.description}")
            else:
                out.append(f"{mark}{c.name} [{c.generator}] {_rate(c.dev)} {points(c.dev_gain)} — {c.description}")
        if self.winner_diff:
            out += [f"winner {self.winner} — its diff against {self.prompt}:", self.winner_diff.rstrip()]
        if self.heldout:
            h = self.heldout
            out.append(
                f"held-out ({h['pairs']} rows no generator or ranking saw): original {_rate(h['original'])}, "
                f"winner {_rate(h['winner'])}; {h['b_only']} pass only with the winner, {h['a_only']} only with "
                f"the original; exact McNemar p = {h['p_value']:.4g} → {h['verdict']} (α = {self.alpha:g})"
            )
            for f in h.get("flipped", [])[:20]:
                way = "fixed" if f["b"]["passed"] else "broken"
                out.append(
                    f"  {f['row_id']}: {way} — original {str(f['a']['output']).strip()!r} → winner "
                    f"{str(f['b']['output']).strip()!r}"
                )
            if len(h.get("flipped", [])) > 20:
                out.append(f"  … and {len(h['flipped']) - 20} more flipped rows")
            out.append(
                f"optimism: dev gain {points(self.dev_gain)} − held-out gain {points(self.heldout_gain)} = "
                f"{points(self.optimism)}"
            )
        out.append(("ACCEPTED: " if self.accepted else "NOT ACCEPTED: ") + self.message)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"
