"""A run's summary computed where its results are: one aggregate query per run instead of reading every record back.

A finished run of 100,000 cells is summarised (per column: cells, errors, pass rate, tokens, cost, cached cells,
model calls and requests, latency quantiles) without building 100,000 records in memory — the figures
:func:`workbench.reports.summary_rows` computes from records, to the same numbers (``tests/test_reports.py``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from workbench.store.base import StoreBase
from workbench.store.schema import results

COLUMN = (results.c.prompt, results.c.version, results.c.model)


class SummariesMixin(StoreBase):
    def _cost(self) -> Any:
        """The cell's ``details.cost_usd`` (the price the recorder computed), NULL when it has none."""
        if self.location.is_sqlite:
            return func.json_extract(results.c.details, "$.cost_usd")
        return cast(cast(results.c.details, JSONB)["cost_usd"].astext, Float)

    def run_aggregates(self, run_id: str) -> list[dict[str, Any]]:
        """Per column (prompt, version, model) of a run, the counts a summary needs, and each column's latencies."""
        called = and_(results.c.cached == 0, or_(results.c.output.is_not(None), results.c.error.is_not(None)))
        cost = self._cost()
        statement = (
            select(
                *COLUMN,
                func.count().label("cells"),
                func.count(results.c.error).label("errors"),
                func.coalesce(func.sum(results.c.passed), 0).label("passed"),
                func.count(results.c.passed).label("judged"),
                func.avg(results.c.score).label("mean_score"),
                func.coalesce(func.sum(results.c.prompt_tokens), 0).label("prompt_tokens"),
                func.coalesce(func.sum(results.c.completion_tokens), 0).label("completion_tokens"),
                func.coalesce(func.sum(results.c.cached), 0).label("cached"),
                func.sum(case((called, 1), else_=0)).label("calls"),
                func.sum(case((called, results.c.attempts), else_=0)).label("requests"),
                func.sum(cost).label("cost_usd"),
                func.sum(case((cost.is_(None), 1), else_=0)).label("unpriced"),
            )
            .where(results.c.run_id == run_id)
            .group_by(*COLUMN)
        )
        rows = self._rows(statement)
        latencies = self._latencies(run_id)
        for row in rows:
            key = (row["prompt"], row["version"], row["model"])
            row["latencies"] = latencies.get(key, ([], []))
        return rows

    def _latencies(self, run_id: str) -> dict[tuple[str, int, str], tuple[list[float], list[float]]]:
        """Per column: latencies of calls really made (no error), and of every timed cell (when none was made)."""
        statement = select(*COLUMN, results.c.latency_ms, results.c.cached, results.c.error.is_(None)).where(
            results.c.run_id == run_id, results.c.latency_ms.is_not(None)
        )
        found: dict[tuple[str, int, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        with self._engine.connect() as connection:
            for prompt, version, model, latency, cached, ok in connection.execute(statement):
                made, every = found[(prompt, version, model)]
                every.append(float(latency))
                if not cached and ok:
                    made.append(float(latency))
        return found
