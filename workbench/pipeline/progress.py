"""What one run tracks while it goes: which cells are stored (keys, not records: results stream to the store, and a
run's summary is computed there), its counters, and its progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from workbench.errors import LeaseLostError
from workbench.pipeline.plan import Cell, RunPlan
from workbench.pipeline.recorder import Recorder, RunSession
from workbench.results import RunResult
from workbench.secrets import secret_values
from workbench.store import ResultRecord

ProgressCallback = Callable[[ResultRecord, int, int], None]
COUNTERS = ("cells", "resumed", "cached", "called", "errors", "retried", "attempts")


class RunState:
    def __init__(self, plan: RunPlan, session: RunSession, progress: bool, on_result: ProgressCallback | None):
        self.plan = plan
        self.session = session
        self.stored: set[str] = set()  # cells with a stored record (an answer or an error)
        self.ok: set[str] = set()  # of those, the ones stored without error
        self.stats: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
        self.stats["cells"] = len(plan.cells)
        self.retryable: set[str] = set()
        self.workers: dict[str, int] = {}
        self.on_result = on_result
        secrets = secret_values()  # one scan of the environment for every cell's key
        for cell in plan.cells:
            if session.finished(cell, secrets):
                key = str(cell.key)
                self.stored.add(key)
                self.ok.add(key)
                self.stats["resumed"] += 1
        self.bar = progress_bar(len(plan.cells), len(self.stored), session.run_id) if progress else None

    def pending(self) -> list[Cell]:
        return [c for c in self.plan.cells if str(c.key) not in self.stored]

    def done(self, cell: Cell, record: ResultRecord, *, retryable: bool = False, sweep: bool = False) -> None:
        """A cell has its stored record (``sweep``: a second try of a cell that failed once)."""
        key = str(cell.key)
        self.stored.add(key)
        if record.error is None:
            self.ok.add(key)
        else:
            self.ok.discard(key)
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
            self.on_result(record, len(self.stored), len(self.plan.cells))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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


def followed_result(recorder: Recorder, session: RunSession) -> RunResult:
    """The result of a run another process executed while this one followed it."""
    cells = recorder.store.result_count(session.run_id)
    stats = {**dict.fromkeys(COUNTERS, 0), "cells": cells, "resumed": cells, "followed": 1}
    return RunResult(session.run_id, None, recorder.store, stats)


def lease_lost(session: RunSession, state: RunState) -> LeaseLostError:
    """The error a run ends with when another process took it over: what this process stored, and that it stopped."""
    reason = session.lease.reason if session.lease is not None else ""
    return LeaseLostError(
        f"Run {session.run_id} stopped: {reason or 'another process took it over'}. This process stored "
        f"{len(state.stored)} of {len(state.plan.cells)} cells and wrote nothing after it lost the lease; the process "
        "that holds the run now stores the rest (follow it with `workbench runs status RUN`)."
    )
