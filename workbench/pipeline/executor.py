"""The life of one cell, written once: cache → execute (retried, limited, timed) → evaluate → record.

A run's workers, the server (plain and streaming answers) and the bad-case recheck all go through a
:class:`CellExecutor`, so a prompt and row give the same stored record — output, parsed value, scores, tokens —
whichever path asked. Per model it keeps one concurrency gate (an AIMD limiter that holds a slot only during an
attempt) and one 429 budget, shared by every call to that model: the cells' own calls, their log-probability
scoring, and the calls an LLM judge makes while scoring them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from workbench.errors import ModelError, RetryableModelError, ScorerError
from workbench.models import ChunkSink, Generation, Model
from workbench.models.retry import Retrier, RetryBudget, RetryPolicy
from workbench.pipeline.limiter import AdaptiveLimiter
from workbench.pipeline.plan import Cell
from workbench.pipeline.recorder import Recorder
from workbench.pipeline.stages import Verdict, evaluate, execute
from workbench.scoring import Scorer
from workbench.store import ResultRecord


@dataclass(frozen=True)
class Computed:
    """A cell's answer and verdict (or its error), before anything is written."""

    generation: Generation | None = None
    verdict: Verdict | None = None
    error: str | None = None
    retryable: bool = False
    cached: bool = False
    called: bool = False

    def recorded(self) -> dict[str, Any]:
        """The recorder's arguments for this outcome."""
        return {"generation": self.generation, "verdict": self.verdict, "error": self.error, "cached": self.cached}


@dataclass(frozen=True)
class Outcome:
    """What became of one cell: its stored record, and whether its error is worth another try."""

    record: ResultRecord
    retryable: bool = False
    called: bool = False


class CellExecutor:
    """Answers cells for one run (or one server): see the module docstring."""

    def __init__(
        self,
        recorder: Recorder | None,
        *,
        cache: bool = True,
        timeout: float | None = 120.0,
        retries: int | None = None,
        retry_budget: float | None = None,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        cancel_event: threading.Event | None = None,
        worker: str | None = None,
        reproducible_only: bool = False,
    ):
        self.recorder = recorder
        self.cache = cache
        self.reproducible_only = reproducible_only  # the server: a sampled answer without a seed is drawn afresh
        self.timeout = timeout
        self.retries, self.retry_budget = retries, retry_budget
        self.concurrency, self.rate_limit = concurrency, rate_limit
        self.cancel_event = cancel_event
        self.worker = worker
        self.gates: dict[str, AdaptiveLimiter] = {}
        self.budgets: dict[str, RetryBudget] = {}
        self.policies: dict[str, RetryPolicy] = {}
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None

    # -- the run's controls, per model ------------------------------------------------------------
    def retrier(self, model: Model) -> Retrier:
        """A retrier for one call to ``model``: its policy, its shared 429 budget, its gate, the run's timeout."""
        spec = model.spec
        if spec not in self.gates:
            base = model.retry_policy
            self.policies[spec] = RetryPolicy(
                retries=base.retries if self.retries is None else self.retries,
                budget=base.budget if self.retry_budget is None else self.retry_budget,
                initial_wait=base.initial_wait,
                max_wait=base.max_wait,
            )
            self.budgets[spec] = RetryBudget(self.policies[spec].budget)
            limit = self.concurrency or model.max_concurrency
            self.gates[spec] = AdaptiveLimiter(limit, rate_limit=self.rate_limit, cancel_event=self.cancel_event)
        return Retrier(self.policies[spec], self.budgets[spec], gate=self.gates[spec], timeout=self.timeout, spec=spec)

    def may_cache(self, cell: Cell) -> bool:
        if self.recorder is None or self.reproducible_only and not cell.params.reproducible:
            return False
        return self.cache and cell.cacheable

    # -- one cell ---------------------------------------------------------------------------------
    async def compute(self, cell: Cell, scorers: list[Scorer], *, cached: Generation | None = None) -> Computed:
        """Execute (unless ``cached`` answers it) and evaluate one cell; nothing is written. A cluster worker
        stops here and hands the outcome back to the run's one writer."""
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise asyncio.CancelledError
        generation = cached
        if generation is None:
            try:
                generation = await execute(cell, retrier=self.retrier(cell.model))
            except ModelError as exc:
                return Computed(error=str(exc), retryable=isinstance(exc, RetryableModelError))
            except Exception as exc:  # a provider bug must not lose the other cells
                return Computed(error=f"[{cell.model.spec}] {type(exc).__name__}: {exc}")
        judged = await self.judge(cell, generation, scorers)
        return Computed(**judged, cached=cached is not None, called=cached is None)

    async def answer(
        self,
        run_id: str,
        cell: Cell,
        scorers: list[Scorer],
        *,
        cached: Generation | None = None,
        look_up: bool = True,
    ) -> Outcome:
        """Cache (``cached``: an answer already looked up), else execute; evaluate; record."""
        if cached is None and look_up and self.may_cache(cell):
            cached = self.recorder.cached(cell)
        computed = await self.compute(cell, scorers, cached=cached)
        record = await self.write(run_id, cell, **computed.recorded())
        return Outcome(record, computed.retryable, computed.called)

    async def judge(self, cell: Cell, generation: Generation, scorers: list[Scorer]) -> dict[str, Any]:
        """The evaluation of an answer as recorder arguments: a verdict, or the scorer's error (output kept)."""
        store = self.recorder.store if self.recorder is not None else None
        try:
            verdict: Verdict = await evaluate(cell, generation, scorers, retrier_for=self.retrier, store=store)
        except ScorerError as exc:
            return {"generation": generation, "error": str(exc), "retryable": exc.retryable}
        return {"generation": generation, "verdict": verdict}

    async def judge_and_write(
        self, run_id: str, cell: Cell, generation: Generation, scorers: list[Scorer], *, cached: bool, called: bool
    ) -> Outcome:
        """Evaluate an answer and store it."""
        judged = await self.judge(cell, generation, scorers)
        retryable = judged.pop("retryable", False)
        record = await self.write(run_id, cell, cached=cached, **judged)
        return Outcome(record, retryable, called)

    async def stream(self, run_id: str, cell: Cell, scorers: list[Scorer]) -> AsyncIterator[str]:
        """The answer's text as it is generated, then the same record :meth:`answer` would store. A cached or
        log-probability answer comes as one piece. If the reader leaves, what was sent is logged as such."""
        cached = self.recorder.cached(cell) if self.may_cache(cell) else None
        if cached is not None or cell.uses_logprob_labels:
            outcome = await self.answer(run_id, cell, scorers, cached=cached, look_up=False)
            yield outcome.record.output or ""
            if outcome.record.output is None and outcome.record.error:
                raise ModelError(outcome.record.error, spec=cell.model.spec)
            return
        async for piece in self._stream_call(run_id, cell, scorers):
            yield piece

    async def _stream_call(self, run_id: str, cell: Cell, scorers: list[Scorer]) -> AsyncIterator[str]:
        pieces: asyncio.Queue[Any] = asyncio.Queue()
        sink = ChunkSink(pieces.put_nowait)
        task = asyncio.ensure_future(execute(cell, retrier=self.retrier(cell.model), sink=sink))
        task.add_done_callback(lambda _: pieces.put_nowait(_END))
        sent: list[str] = []
        start = time.perf_counter()
        try:
            while (piece := await pieces.get()) is not _END:
                sent.append(piece)
                yield piece
            generation = task.result()
        except ModelError as exc:
            await self.write(run_id, cell, generation=_partial(cell, sent, start), error=f"{exc}", cache=False)
            raise
        finally:
            if not task.done():  # the reader left: stop the model, log what it was sent (no await: we are cancelled)
                sink.close()
                task.cancel()
                partial = _partial(cell, sent, start)
                note = f"client disconnected after {len(sent)} pieces"
                extra = {"disconnected": True}
                self.recorder.record(run_id, cell, generation=partial, error=note, cache=False, extra=extra)
        await self.judge_and_write(run_id, cell, generation, scorers, cached=False, called=True)

    # -- writing ------------------------------------------------------------------------------------
    async def write(self, run_id: str, cell: Cell, **outcome: Any) -> ResultRecord:
        """Store one result. Answers from a concurrent endpoint go to the run's writer thread, beside the event
        loop, so the calls in flight keep moving while it commits (what has queued up meanwhile is committed
        together); in-process models (nothing else is in flight) and cached answers are written at once."""
        outcome.setdefault("cache", self.may_cache(cell))
        record, entry = self.recorder.result(run_id, cell, worker=self.worker, **outcome)
        if outcome.get("cached") or cell.model.capabilities.in_process:
            return self.recorder.record_many([(record, entry)])[0]
        if self._writer is None:
            self._writer = ResultWriter(self.recorder)
        # shielded: a run cancelled while this write waits its turn still stores the answer it paid for
        return await asyncio.shield(asyncio.wrap_future(self._writer.submit(record, entry)))

    def close(self) -> None:
        """Wait until every result has reached the store."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class ResultWriter:
    """One thread that writes a run's results; each time it is free it commits everything that queued up
    meanwhile in one transaction (group commit), so a busy run pays one commit per batch, not per cell."""

    BATCH = 500

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="workbench-store", daemon=True)
        self._thread.start()

    def submit(self, record: ResultRecord, entry: Any) -> concurrent.futures.Future[ResultRecord]:
        future: concurrent.futures.Future[ResultRecord] = concurrent.futures.Future()
        self._queue.put((record, entry, future))
        return future

    def _loop(self) -> None:
        while (item := self._queue.get()) is not _END:
            batch = [item]
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
            stored = self.recorder.record_many([(record, entry) for record, entry, _ in batch])
        except BaseException as exc:
            for _, _, future in batch:
                future.set_exception(exc)
            return
        for (_, _, future), record in zip(batch, stored, strict=True):
            future.set_result(record)

    def close(self) -> None:
        self._queue.put(_END)
        self._thread.join()


_END = object()


def _partial(cell: Cell, pieces: list[str], start: float) -> Generation:
    latency = round((time.perf_counter() - start) * 1000, 3)
    return Generation(text="".join(pieces), model=cell.model.spec, latency_ms=latency, finish_reason="interrupted")
