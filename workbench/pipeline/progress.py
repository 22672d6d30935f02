"""What one run tracks while it goes: its records by cell key, its counters, and its progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from workbench.pipeline.plan import Cell, RunPlan
from workbench.pipeline.recorder import RunSession
from workbench.secrets import secret_values
from workbench.store import ResultRecord

ProgressCallback = Callable[[ResultRecord, int, int], None]
COUNTERS = ("cells", "resumed", "cached", "called", "errors", "retried", "attempts")


class RunState:
    def __init__(self, plan: RunPlan, session: RunSession, progress: bool, on_result: ProgressCallback | None):
        self.plan = plan
        self.session = session
        self.records: dict[str, ResultRecord] = {}
        self.stats = dict.fromkeys(COUNTERS, 0)
        self.stats["cells"] = len(plan.cells)
        self.retryable: set[str] = set()
        self.workers: dict[str, int] = {}
        self.on_result = on_result
        secrets = secret_values()  # one scan of the environment for every cell's key
        for cell in plan.cells:
            done = session.finished(cell, secrets)
            if done is not None:
                self.records[str(cell.key)] = done
                self.stats["resumed"] += 1
        self.bar = progress_bar(len(plan.cells), len(self.records), session.run_id) if progress else None

    def pending(self) -> list[Cell]:
        return [c for c in self.plan.cells if str(c.key) not in self.records]

    def done(self, cell: Cell, record: ResultRecord, *, retryable: bool = False, sweep: bool = False) -> None:
        """A cell has its stored record (``sweep``: a second try of a cell that failed once)."""
        key = str(cell.key)
        self.records[key] = record
        self.stats["attempts"] += record.attempts if not record.cached else 0
        if retryable:
            self.retryable.add(key)
        else:
            self.retryable.discard(key)
        if record.worker:
            self.workers[record.worker] = self.workers.get(record.worker, 0) + 1
        if sweep:
            self.stats["errors"] -= 0 if record.error else 1
        elif record.error:
            self.stats["errors"] += 1
        if self.bar is not None and not sweep:
            self.bar.update(1)  # tqdm redraws at most every mininterval; the counters go with the next redraw
            if self.bar.n == self.bar.total or self.bar.n % 50 == 0:
                self.bar.set_postfix(errors=self.stats["errors"], cached=self.stats["cached"], refresh=False)
        if self.on_result is not None:
            self.on_result(record, len(self.records), len(self.plan.cells))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def ordered(self) -> list[ResultRecord]:
        return [self.records[str(c.key)] for c in self.plan.cells if str(c.key) in self.records]


def progress_bar(total: int, initial: int, run_id: str) -> Any:
    from tqdm.auto import tqdm

    from workbench.provenance import in_a_kernel

    interactive = sys.stderr.isatty() or in_a_kernel()  # CI logs get an update every 5 s, not 10/s
    return tqdm(
        total=total,
        initial=initial,
        desc=f"run {run_id}",
        unit="cell",
        dynamic_ncols=True,
        mininterval=0.1 if interactive else 5.0,
    )
