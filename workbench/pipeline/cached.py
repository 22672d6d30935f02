"""Answering cells from the response cache, in bulk: the step every run takes before any model call (a local run,
a cluster run's driver), so a re-run of a finished run costs store writes only."""

from __future__ import annotations

from typing import Any

from workbench.pipeline.executor import CellExecutor
from workbench.pipeline.plan import Cell
from workbench.pipeline.progress import RunState

CACHE_BATCH = 500  # cached cells written per transaction


async def answer_from_cache(
    executor: CellExecutor, state: RunState, cells: list[Cell], hits: dict[str, Any]
) -> list[Cell]:
    """Answer every cell the cache knows (looked up in bulk before the run began), writing a few hundred per
    transaction; the cells left to call."""
    if not hits:
        return cells
    remaining, batch = [], []
    for cell in cells:
        generation = hits.get(cell.cache_key) if cell.cacheable else None
        if generation is None:
            remaining.append(cell)
            continue
        judged = await executor.judge(cell, generation, state.plan.scorers[cell.template.ref])
        retryable = judged.pop("retryable", False)
        batch.append((cell, retryable, executor.path.build(cell, cached=True, **judged)))
        if len(batch) >= CACHE_BATCH:
            write_cached(executor, state, batch)
    write_cached(executor, state, batch)
    return remaining


def write_cached(executor: CellExecutor, state: RunState, batch: list[tuple[Cell, bool, Any]]) -> None:
    stored = executor.path.write([item for _, _, item in batch])
    for (cell, retryable, _), record in zip(batch, stored, strict=True):
        state.stats["cached"] += 1
        state.done(cell, record, retryable=retryable)
    batch.clear()
