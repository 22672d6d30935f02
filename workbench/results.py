"""What a run produced: immutable result records, and the views of them (DataFrame, summary, matrix,
paired comparison, stability). Records are the state; every view is computed from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.identity import Column
from workbench.store import ResultRecord, Store, open_store


@dataclass
class RunResult:
    """The records of one run (stored, redacted) plus how the run went (``stats``)."""

    run_id: str
    records: list[ResultRecord]
    store: Store
    stats: dict[str, Any] = field(default_factory=dict)  # counters (cells, called, cached, ...) and model_load_s
    workers: dict[str, int] = field(default_factory=dict)  # cells per Dask worker (cluster runs)

    @classmethod
    def load(cls, run_id: str, store: Store | str | None = None) -> RunResult:
        """A stored run (a unique prefix of its id is enough)."""
        s = open_store(store)
        run = s.run(run_id)
        return cls(run["id"], s.results(run["id"]), s)

    @property
    def columns(self) -> list[Column]:
        """The prompt-version × model columns of the run, in the order they first appear."""
        return list(dict.fromkeys(r.column for r in self.records))

    def to_dataframe(self) -> Any:
        from workbench.reports import results_dataframe

        return results_dataframe(self.records)

    def summary(self) -> Any:
        """Per column: pass rate with its 95 % interval, errors, latency, tokens, cost (a DataFrame)."""
        from workbench.reports import summarize

        return summarize(self.records)

    def summary_rows(self) -> list[dict[str, Any]]:
        """:meth:`summary` as plain dicts (no pandas)."""
        from workbench.reports import summary_rows

        return summary_rows(self.records)

    def matrix(self) -> Any:
        """One line per dataset row (id and inputs), then output / parsed / passed per column."""
        from workbench.compare import matrix

        return matrix(self.records)

    def compare(
        self, other: RunResult | str | None = None, *, a: str | Column | None = None, b: str | Column | None = None
    ) -> Any:
        """Paired comparison of two columns on their shared rows: within this run, or this run (A) against
        ``other`` (B). Returns a :class:`workbench.compare.Comparison` (``.to_dict()`` is the JSON)."""
        from workbench.compare import compare_runs

        other_records = None
        if other is not None:
            other_records = other.records if isinstance(other, RunResult) else self.store.results(other)
        return compare_runs(self.records, other_records, a=a, b=b)

    def stability(self, *, aggregate: str | None = None) -> Any:
        """Per column: pass rate over all samples, pass@k, pass^k, flaky rows and agreement (runs with repeats), as
        a DataFrame with the columns ``workbench runs stability`` prints."""
        from workbench.compare import stability

        return stability(self.records, aggregate=aggregate)

    def stability_report(self, *, aggregate: str | None = None) -> dict[str, Any]:
        """:meth:`stability` as the JSON ``workbench runs stability --format json`` prints."""
        from workbench.compare import stability_report

        return stability_report(self.records, aggregate=aggregate)

    def export(self, path: Any) -> Any:
        """Write the records to .csv, .jsonl (typed values) or .html (summary and matrix); the path."""
        from workbench.exports import export_results

        return export_results(self.records, path)

    @property
    def pass_rate(self) -> float | None:
        judged = [r for r in self.records if r.passed is not None]
        return sum(r.passed for r in judged) / len(judged) if judged else None

    @property
    def errors(self) -> list[ResultRecord]:
        return [r for r in self.records if r.error]

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        rate = self.pass_rate
        rate_text = f"{rate:.0%}" if rate is not None else "n/a"
        return (
            f"<RunResult {self.run_id}: {len(self.records)} cells, pass rate {rate_text}, "
            f"{len(self.errors)} errors, {self.stats}>"
        )
