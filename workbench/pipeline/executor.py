"""The life of one cell, written once: cache → execute (retried, limited, timed) → evaluate → record.

A run's workers, the server (plain and streaming answers) and the bad-case recheck all go through a
:class:`CellExecutor`, so a prompt and row give the same stored record — output, parsed value, scores, tokens —
whichever path asked; every record it stores goes through its run's :class:`~workbench.pipeline.writer.RecordPath`
(the one path, shared with cached answers, cluster shards and batch collection). Per model it keeps one concurrency
gate (an AIMD limiter that holds a slot only during an attempt) and one 429 budget, shared by every call to that
model: the cells' own calls, their log-probability scoring, and the calls an LLM judge makes while scoring them.
"""

from __future__ import annotations

import asyncio
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
from workbench.pipeline.stages import Verdict, evaluate, execute
from workbench.pipeline.writer import RecordPath
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
        path: RecordPath | None,
        *,
        timeout: float | None = 120.0,
        retries: int | None = None,
        retry_budget: float | None = None,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        cancel_event: threading.Event | None = None,
    ):
        self.path = path  # None on a cluster worker: it computes, the driver records
        self.timeout = timeout
        self.retries, self.retry_budget = retries, retry_budget
        self.concurrency, self.rate_limit = concurrency, rate_limit
        self.cancel_event = cancel_event
        self.gates: dict[str, AdaptiveLimiter] = {}
        self.budgets: dict[str, RetryBudget] = {}
        self.policies: dict[str, RetryPolicy] = {}
        self._pending: set[asyncio.Task[Any]] = set()

    @property
    def recorder(self) -> Any:
        return self.path.recorder if self.path is not None else None

    @property
    def run_id(self) -> str:
        assert self.path is not None, "a worker's executor records nothing"
        return self.path.run_id

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
        return self.path is not None and self.path.may_cache(cell)

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
        record = await self.write(cell, **computed.recorded())
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
        self,
        cell: Cell,
        generation: Generation,
        scorers: list[Scorer],
        *,
        cached: bool,
        called: bool,
        extra: dict[str, Any] | None = None,
    ) -> Outcome:
        """Evaluate an answer and store it."""
        judged = await self.judge(cell, generation, scorers)
        retryable = judged.pop("retryable", False)
        record = await self.write(cell, cached=cached, extra=extra, **judged)
        return Outcome(record, retryable, called)

    def stream(self, cell: Cell, scorers: list[Scorer]) -> AsyncIterator[str]:
        """The answer's text as it is generated; the same record :meth:`answer` would store is written when it ends.
        A cached or log-probability answer comes as one piece. Whatever way the stream ends — finished, broken by
        the provider, or left by its reader before or after the model finished — exactly one record is written:
        the whole answer, or what was sent with the error or the disconnection. (One generator, not one wrapped in
        another: closing what the caller holds runs this stream's own clean-up at once.)"""
        cached = self.recorder.cached(cell) if self.may_cache(cell) else None
        if cached is not None or cell.uses_logprob_labels:
            return self._one_piece(cell, scorers, cached)
        return self._stream_call(cell, scorers)

    async def _one_piece(self, cell: Cell, scorers: list[Scorer], cached: Generation | None) -> AsyncIterator[str]:
        outcome = await self.answer(cell, scorers, cached=cached, look_up=False)
        yield outcome.record.output or ""
        if outcome.record.output is None and outcome.record.error:
            raise ModelError(outcome.record.error, spec=cell.model.spec)

    async def _stream_call(self, cell: Cell, scorers: list[Scorer]) -> AsyncIterator[str]:
        pieces: asyncio.Queue[Any] = asyncio.Queue()
        sink = ChunkSink(pieces.put_nowait)
        task = asyncio.ensure_future(execute(cell, retrier=self.retrier(cell.model), sink=sink))
        task.add_done_callback(lambda _: pieces.put_nowait(_END))
        sent: list[str] = []
        start = time.perf_counter()
        finished = recorded = False
        try:
            while (piece := await pieces.get()) is not _END:
                sent.append(piece)
                yield piece
            generation = task.result()
            finished = True
        except ModelError as exc:  # the provider broke the stream: what was sent, with the error
            recorded = True
            await self.write(cell, generation=_partial(cell, sent, start), error=f"{exc}", cache=False)
            raise
        finally:
            if not (finished or recorded):  # the reader left (no await here: we may be being cancelled)
                self._record_abandoned(cell, task, sink, sent, start, scorers)
        # judged and written in a task of its own, so a reader leaving now cannot cancel the record halfway
        await asyncio.shield(self._spawn(self.judge_and_write(cell, generation, scorers, cached=False, called=True)))

    def _record_abandoned(
        self, cell: Cell, task: asyncio.Future[Any], sink: ChunkSink, sent: list[str], start: float, scorers: Any
    ) -> None:
        """One record for a stream whose reader left: before the model finished, the pieces it was sent (the model
        is stopped); after, the whole answer, judged and written by a task that outlives the request."""
        if task.done() and not task.cancelled() and task.exception() is None:
            note = {"disconnected": True, "note": f"client disconnected after {len(sent)} pieces"}
            self._spawn(self.judge_and_write(cell, task.result(), scorers, cached=False, called=True, extra=note))
            return
        sink.close()
        task.cancel()
        error = f"client disconnected after {len(sent)} pieces"
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = f"{task.exception()} (the client had disconnected after {len(sent)} pieces)"
        item = self.path.build(
            cell, generation=_partial(cell, sent, start), error=error, cache=False, extra={"disconnected": True}
        )
        self.path.write([item])

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        """A task that finishes even if the request that started it is cancelled; :meth:`aclose` waits for it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    # -- writing ------------------------------------------------------------------------------------
    async def write(self, cell: Cell, **outcome: Any) -> ResultRecord:
        """Store one result through the run's record path. Answers from a concurrent endpoint go to the run's
        writer thread, beside the event loop, so the calls in flight keep moving while it commits (what has queued
        up meanwhile is committed together); in-process models (nothing else is in flight) and cached answers are
        written at once."""
        assert self.path is not None, "a worker's executor records nothing: the driver does"
        item = self.path.build(cell, **outcome)
        if outcome.get("cached") or cell.model.capabilities.in_process:
            return self.path.write([item])[0]
        # shielded: a run cancelled while this write waits its turn still stores the answer it paid for
        return await asyncio.shield(asyncio.wrap_future(self.path.submit(item)))

    def close(self) -> None:
        """Wait until every result has reached the store."""
        if self.path is not None:
            self.path.close()

    async def aclose(self) -> None:
        """Let the records still being written (streams whose readers left) finish, then :meth:`close`."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        self.close()


_END = object()


def _partial(cell: Cell, pieces: list[str], start: float) -> Generation:
    latency = round((time.perf_counter() - start) * 1000, 3)
    return Generation(text="".join(pieces), model=cell.model.spec, latency_ms=latency, finish_reason="interrupted")
