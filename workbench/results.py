"""What a run produced: immutable result records, and the views of them (DataFrame, summary, matrix,
paired comparison, stability). Records are the state; every view is computed from them.
"""

from __future__ import annotations

from typing import Any

from workbench.identity import Column
from workbench.store import ResultRecord, Store, open_store


class RunResult:
    """One run: its id and store, how it went (``stats``), and its records — read back from the store when first
    asked for (a run streams its results to the store; a summary is computed there), so a 100,000-cell run does not
    keep 100,000 records in memory to say how it went."""

    def __init__(
        self,
        run_id: str,
        records: list[ResultRecord] | None,
        store: Store,
        stats: dict[str, Any] | None = None,
        workers: dict[str, int] | None = None,
    ):
        self.run_id = run_id
        self.store = store
        self.stats: dict[str, Any] = dict(stats or {})  # counters (cells, called, cached, ...) and model_load_s
        self.workers: dict[str, int] = dict(workers or {})  # cells per Dask worker (cluster runs)
        self._records = records
        self._summary: list[dict[str, Any]] | None = None

    @classmethod
    def load(cls, run_id: str, store: Store | str | None = None) -> RunResult:
        """A stored run (a unique prefix of its id is enough)."""
        s = open_store(store)
        run = s.run(run_id)
        return cls(run["id"], None, s)

    @property
    def records(self) -> list[ResultRecord]:
        """Every cell's stored record, in the run's order (read from the store once, then kept)."""
        if self._records is None:
            self._records = self.store.results(self.run_id)
        return self._records

    @property
    def columns(self) -> list[Column]:
        """The prompt-version × model columns of the run, in the order they first appear."""
        return list(dict.fromkeys(r.column for r in self.records))

    def to_dataframe(self) -> Any:
        from workbench.reports import results_dataframe

        return results_dataframe(self.records)

    def summary(self) -> Any:
        """Per column: pass rate with its 95 % interval, errors, latency, tokens, cost (a DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.summary_rows())

    def summary_rows(self) -> list[dict[str, Any]]:
        """:meth:`summary` as plain dicts (no pandas): from the records when they are loaded, else computed in the
        store without reading them back."""
        from workbench.reports import stored_summary_rows, summary_rows

        if self._records is not None:
            return summary_rows(self._records)
        if self._summary is None:  # a finished run's results do not change: summarised once
            self._summary = stored_summary_rows(self.store, self.run_id)
        return [dict(row) for row in self._summary]

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
        if self._records is None:
            rows = self.summary_rows()
            judged = sum(r["judged"] for r in rows)
            return sum(r["passed"] for r in rows) / judged if judged else None
        judged = [r for r in self._records if r.passed is not None]
        return sum(r.passed for r in judged) / len(judged) if judged else None

    @property
    def errors(self) -> list[ResultRecord]:
        if self._records is None and not any(r["errors"] for r in self.summary_rows()):
            return []
        return [r for r in self.records if r.error]

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        # cheap on purpose: asyncio and debuggers repr a finished run's future; the summary is `summary()`
        return f"<RunResult {self.run_id}: {self.stats}>"
