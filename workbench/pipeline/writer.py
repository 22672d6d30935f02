"""The one path a result takes into the store, whichever hand produced it: a cell executed here, an answer from
the cache, a shard back from a Dask worker, a line of a provider's batch job, a served request (plain, streamed or
abandoned by its client).

A :class:`RecordPath` belongs to one run and decides, in one place, what every writer used to decide on its own:

- the record itself (:meth:`Recorder.result`: output, parsed value, scores, tokens, cost, model identity, worker);
- whether the answer may go to the response cache — never under ``--no-cache``, never for a cached answer, an
  error or a request that is not reproducible (a server's unseeded sample);
- redaction (the store redacts every record and cache entry it writes, once per batch);
- lease fencing: a run executed under a lease writes only while this process holds the lease, checked in the same
  transaction as the write (:meth:`Store.write_results` ``fence=``); a process that lost the run writes nothing
  more and says so (:class:`~workbench.errors.LeaseLostError`).

Writes from a concurrent endpoint go through a :class:`ResultWriter` thread beside the event loop, committing what
queued up meanwhile in one transaction (group commit); in-process models and cached answers write at once.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Sequence
from typing import Any

from workbench.pipeline.lease import Lease
from workbench.pipeline.plan import Cell
from workbench.store import CacheEntry, ResultRecord

Item = tuple[ResultRecord, CacheEntry | None]


class RecordPath:
    """How one run's results are built and written (see the module docstring)."""

    def __init__(
        self,
        recorder: Any,
        run_id: str,
        *,
        cache: bool = True,
        reproducible_only: bool = False,
        lease: Lease | None = None,
        worker: str | None = None,
    ):
        self.recorder = recorder
        self.run_id = run_id
        self.cache = cache
        self.reproducible_only = reproducible_only  # a server: an unseeded sample is drawn afresh, never cached
        self.lease = lease
        self.worker = worker
        self._writer: ResultWriter | None = None

    def may_cache(self, cell: Cell) -> bool:
        """Whether this cell's answer may be read from, and written to, the response cache."""
        if self.reproducible_only and not cell.params.reproducible:
            return False
        return self.cache and cell.cacheable

    def build(self, cell: Cell, **outcome: Any) -> Item:
        """One cell's record and (when the answer may be cached) its cache entry — not yet written. ``outcome``:
        generation, verdict, error, cached, extra, worker."""
        outcome.setdefault("worker", self.worker)
        outcome["cache"] = self.may_cache(cell) and outcome.pop("cache", True)
        return self.recorder.result(self.run_id, cell, **outcome)

    def write(self, items: Sequence[Item]) -> list[ResultRecord]:
        """Write records built by :meth:`build` in one transaction, fenced by the run's lease."""
        if not items:
            return []
        fence = (self.run_id, self.lease.owner) if self.lease is not None else None
        try:
            return self.recorder.store.write_results(items, fence=fence)
        except Exception as exc:
            from workbench.errors import LeaseLostError

            if isinstance(exc, LeaseLostError) and self.lease is not None:
                self.lease.lose(f"another process ({exc.holder or 'none'}) took it over")
            raise

    def submit(self, item: Item) -> concurrent.futures.Future[ResultRecord]:
        """Queue a record for the writer thread (group commit); the future gives the stored record."""
        if self._writer is None:
            self._writer = ResultWriter(self)
        return self._writer.submit(item)

    def close(self) -> None:
        """Wait until every queued result has reached the store."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class ResultWriter:
    """One thread that writes a run's results; each time it is free it commits everything that queued up
    meanwhile in one transaction (group commit), so a busy run pays one commit per batch, not per cell."""

    BATCH = 500

    def __init__(self, path: RecordPath):
        self.path = path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="workbench-store", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> concurrent.futures.Future[ResultRecord]:
        future: concurrent.futures.Future[ResultRecord] = concurrent.futures.Future()
        self._queue.put((item, future))
        return future

    def _loop(self) -> None:
        while (entry := self._queue.get()) is not _END:
            batch = [entry]
            while len(batch) < self.BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _END:
                    self._queue.put(_END)
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[Any]) -> None:
        try:
            stored = self.path.write([item for item, _ in batch])
        except BaseException as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), record in zip(batch, stored, strict=True):
            future.set_result(record)

    def close(self) -> None:
        self._queue.put(_END)
        self._thread.join()


_END = object()
