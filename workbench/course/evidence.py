"""The figures gates rest on: what a benchmark script measured, kept where a test and a notebook can read it.

A gate's bar is a promise about the local model ("the cloze prompt passes at least 75% of these 24 reviews"). The
promise is only as good as the measurement behind it, so each benchmark writes its figures to
``benchmarks/results/<script>.json`` (:func:`write_figures`) — each with the dataset and the exact row ids it was
measured on — and each gate's bar names the figure it rests on. A bar applies only to the rows its figure was
measured on (a 24-row check never rests on a 100-row figure); a test fails when a bar is above the lower end of
its figure's 95% interval, or the figure is missing (``tests/test_gates.py``). The text a notebook prints under a
gate (``GATES[name].measured``) is built from the figures, never typed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench.paths import project_root
from workbench.stats import wilson_interval

RESULTS_DIR = Path("benchmarks") / "results"


@dataclass(frozen=True)
class Figure:
    """One measured proportion: ``passed`` of ``n`` rows, with its Wilson 95% interval, and the rows it was measured
    on (``dataset``, relative to the project, and the ids of the rows, in order)."""

    id: str
    what: str
    passed: int
    n: int
    script: str
    low: float
    high: float
    measured_at: str
    dataset: str = ""
    row_ids: tuple[str, ...] = ()

    @property
    def rows(self) -> frozenset[str]:
        return frozenset(self.row_ids)

    @property
    def rate(self) -> float:
        return self.passed / self.n if self.n else 0.0

    def describe(self) -> str:
        return (
            f"{self.what}: {self.passed}/{self.n} = {self.rate:.1%} (95% CI {self.low:.1%}–{self.high:.1%}) — "
            f"benchmarks/{self.script}, figure {self.id!r}"
        )


def proportion(
    figure_id: str,
    what: str,
    passed: int,
    n: int,
    *,
    script: str,
    dataset: str | Path = "",
    row_ids: Sequence[str] = (),
) -> Figure:
    """A figure from a count, with its interval, the rows it was measured on and the time it was measured."""
    if row_ids and len(row_ids) != n:
        raise ValueError(f"figure {figure_id}: {len(row_ids)} row ids for n={n}")
    low, high = wilson_interval(passed, n) or (0.0, 0.0)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    where = (
        str(Path(dataset).resolve().relative_to(project_root()))
        if dataset and Path(dataset).is_absolute()
        else str(dataset)
    )
    return Figure(figure_id, what, passed, n, script, low, high, stamp, where, tuple(str(r) for r in row_ids))


def results_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / RESULTS_DIR


def write_figures(figures: list[Figure], *, root: Path | None = None) -> Path:
    """Merge figures into their script's results file (a partial run, e.g. ``--answers-only``, keeps the rest)."""
    if not figures:
        raise ValueError("write_figures needs at least one figure")
    script = figures[0].script
    path = results_dir(root) / f"{Path(script).stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    known.update({figure.id: {**asdict(figure), "row_ids": list(figure.row_ids)} for figure in figures})
    path.write_text(json.dumps(dict(sorted(known.items())), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


FIGURE_FIELDS = frozenset(Figure.__dataclass_fields__)
REQUIRED_FIELDS = FIGURE_FIELDS - {"dataset", "row_ids"}


def read_figures(root: Path | None = None) -> dict[str, Figure]:
    """Every figure every benchmark wrote, by id. Other records in the folder (timings such as
    ``bench_setup.json``) are not proportions a gate can rest on and are skipped."""
    figures: dict[str, Figure] = {}
    folder = results_dir(root)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        for figure_id, fields in json.loads(path.read_text(encoding="utf-8")).items():
            if isinstance(fields, dict) and REQUIRED_FIELDS <= set(fields) <= FIGURE_FIELDS:
                figures[figure_id] = Figure(**{**fields, "row_ids": tuple(fields.get("row_ids") or ())})
    return figures
