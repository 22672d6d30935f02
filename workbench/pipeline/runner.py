"""The batch engine: prompt versions × models × dataset rows (× repeats), composed from the pipeline's stages.

plan (every cell validated and rendered, before any model call) → preflight each endpoint → for each cell:
answer from the resumed run or the cache, else :func:`execute` it (retries with backoff; a per-model AIMD
concurrency gate) → :func:`evaluate` → record the result the moment it is known → a final sweep retries cells
that failed with a retryable error → finish.

An interrupted run (Ctrl-C, kernel interrupt, a killed process) keeps every finished cell; the same call again
resumes that run and calls models only for the missing cells. A finished run re-run is a new run answered from
the response cache.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbench import events, provenance
from workbench.errors import ModelError, RetryableModelError
from workbench.models import Generation, Model
from workbench.models.retry import Retrier, RetryBudget, RetryPolicy
from workbench.pipeline.limiter import AdaptiveLimiter
from workbench.pipeline.plan import Cell, RunPlan, plan_run
from workbench.pipeline.recorder import Recorder, RunSession
from workbench.pipeline.stages import evaluate, execute
from workbench.results import RunResult
from workbench.secrets import secret_values
from workbench.store import ResultRecord, Store

ProgressCallback = Callable[[ResultRecord, int, int], None]


class _RunState:
    """What one run tracks while it goes: records by cell key, counters, and the progress bar."""

    def __init__(self, plan: RunPlan, session: RunSession, progress: bool, on_result: ProgressCallback | None):
        self.plan = plan
        self.session = session
        self.records: dict[str, ResultRecord] = {}
        self.stats = {"cells": len(plan.cells), "resumed": 0, "cached": 0, "called": 0, "errors": 0, "retried": 0}
        self.retryable: set[str] = set()
        self.on_result = on_result
        secrets = secret_values()  # one scan of the environment for every cell's key
        for cell in plan.cells:
            done = session.finished(cell, secrets)
            if done is not None:
                self.records[str(cell.key)] = done
                self.stats["resumed"] += 1
        self.bar = _progress_bar(len(plan.cells), len(self.records), session.run_id) if progress else None

    def pending(self) -> list[Cell]:
        return [c for c in self.plan.cells if str(c.key) not in self.records]

    def done(self, cell: Cell, record: ResultRecord, *, replacing: bool = False) -> None:
        self.records[str(cell.key)] = record
        if record.error and not replacing:
            self.stats["errors"] += 1
        if self.bar is not None and not replacing:
            self.bar.update(1)
            self.bar.set_postfix(errors=self.stats["errors"], cached=self.stats["cached"], refresh=False)
        if self.on_result is not None:
            self.on_result(record, len(self.records), len(self.plan.cells))


async def _preflight(models: Sequence[Model]) -> None:
    """Each endpoint answers before any cell is spent (an endpoint that is down fails the run now, clearly)."""
    await asyncio.gather(*(m.preflight() for m in models))


class _Worker:
    """Answers one cell at a time for a run: resumed → cache → execute (retries, the model's gate) → evaluate →
    record. One per run, shared by all the run's tasks."""

    def __init__(
        self,
        plan: RunPlan,
        recorder: Recorder,
        state: _RunState,
        *,
        cache: bool,
        timeout: float | None,
        retries: int | None,
        retry_budget: float | None,
        concurrency: int | None,
        rate_limit: float | None,
        cancel_event: threading.Event | None,
    ):
        self.plan, self.recorder, self.state, self.cache = plan, recorder, state, cache
        self.timeout, self.cancel_event = timeout, cancel_event
        self.policy = {m.spec: _policy(m, retries, retry_budget) for m in plan.models}
        self.budget = {spec: RetryBudget(p.budget) for spec, p in self.policy.items()}
        self.gate = {
            m.spec: AdaptiveLimiter(concurrency or m.max_concurrency, rate_limit=rate_limit, cancel_event=cancel_event)
            for m in plan.models
        }
        self.writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="workbench-store")

    async def _generate(self, cell: Cell) -> tuple[Generation | None, str | None]:
        spec = cell.model.spec
        retrier = Retrier(self.policy[spec], self.budget[spec], gate=self.gate[spec], timeout=self.timeout, spec=spec)
        try:
            generation = await execute(cell, retrier=retrier)
        except ModelError as exc:
            if isinstance(exc, RetryableModelError):
                self.state.retryable.add(str(cell.key))
            return None, str(exc)
        except Exception as exc:  # a provider bug must not lose the other cells
            return None, f"[{spec}] {type(exc).__name__}: {exc}"
        self.state.stats["called"] += 1
        return generation, None

    async def _write(
        self, cell: Cell, generation: Generation | None, verdict: Any, error: str | None, cached: bool
    ) -> ResultRecord:
        """Write one result. Answers from a concurrent endpoint are written by the run's writer thread, beside the
        event loop, so the calls in flight keep moving while it commits; cached answers and in-process models
        (nothing else in flight) are written at once, without the thread hop."""
        write = functools.partial(
            self.recorder.record,
            self.state.session.run_id,
            cell,
            generation=generation,
            verdict=verdict,
            error=error,
            cached=cached,
            cache=self.cache,
        )
        if cached or cell.model.max_concurrency <= 1:
            return write()
        return await asyncio.get_running_loop().run_in_executor(self.writer, write)

    async def process(self, cell: Cell, *, sweep: bool = False) -> None:
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise asyncio.CancelledError
        generation = self.recorder.cached(cell) if self.cache else None
        cached, error = generation is not None, None
        if generation is None:
            generation, error = await self._generate(cell)
        else:
            self.state.stats["cached"] += 1
        verdict = None
        if generation is not None:
            self.state.retryable.discard(str(cell.key))
            verdict = await evaluate(cell, generation, self.plan.scorers[cell.template.ref])
        record = await self._write(cell, generation, verdict, error, cached)
        self.state.done(cell, record, replacing=sweep)
        if sweep and record.error is None:
            self.state.stats["errors"] -= 1


async def arun(
    prompts: Any,
    dataset: Any,
    models: Any = None,
    *,
    store: Store | str | None = None,
    params: Mapping[str, Any] | None = None,
    repeats: int = 1,
    concurrency: int | None = None,
    rate_limit: float | None = None,
    timeout: float | None = 120.0,
    retries: int | None = None,
    retry_budget: float | None = None,
    scorers: Sequence[Any] | None = None,
    cache: bool = True,
    limit: int | None = None,
    name: str | None = None,
    progress: bool = True,
    on_result: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    model_options: Mapping[str, Any] | None = None,
    preflight: bool = True,
) -> RunResult:
    """Async :func:`run` (same arguments)."""
    plan = plan_run(
        prompts,
        dataset,
        models,
        params=params,
        repeats=repeats,
        scorers=scorers,
        limit=limit,
        model_options=model_options,
    )
    if preflight:
        await _preflight(plan.models)
    recorder = Recorder(store)
    session = recorder.begin(plan, name=name, provenance=provenance.collect(plan.models))
    state = _RunState(plan, session, progress, on_result)
    worker = _Worker(
        plan,
        recorder,
        state,
        cache=cache,
        timeout=timeout,
        retries=retries,
        retry_budget=retry_budget,
        concurrency=concurrency,
        rate_limit=rate_limit,
        cancel_event=cancel_event,
    )
    status = "completed"
    tasks: list[asyncio.Future[Any]] = []
    try:
        tasks = [asyncio.ensure_future(worker.process(c)) for c in state.pending()]
        if tasks:
            await asyncio.gather(*tasks)
        await _final_sweep(state, worker.process)
    except BaseException:  # Ctrl-C, kernel interrupt, Stop, or a bug: keep what finished, resumable later
        status = "interrupted"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        worker.writer.shutdown(wait=True)  # every result reaches the store before the run is marked finished
        recorder.finish(session.run_id, status)
        if state.bar is not None:
            state.bar.close()
        for model in plan.models:
            await model.aclose()
    ordered = [state.records[str(c.key)] for c in plan.cells]
    result = RunResult(session.run_id, ordered, recorder.store, state.stats)
    events.emit(events.RUN_FINISHED, result)
    return result


async def _final_sweep(state: _RunState, process: Callable[..., Any]) -> None:
    """Cells that ended with a retryable error get one more try, before the run ends."""
    again = [c for c in state.plan.cells if str(c.key) in state.retryable]
    if not again:
        return
    state.stats["retried"] = len(again)
    await asyncio.gather(*(process(cell, sweep=True) for cell in again))


def _policy(model: Model, retries: int | None, budget: float | None) -> RetryPolicy:
    base = model.retry_policy
    return RetryPolicy(
        retries=base.retries if retries is None else retries,
        budget=base.budget if budget is None else budget,
        initial_wait=base.initial_wait,
        max_wait=base.max_wait,
    )


def _progress_bar(total: int, initial: int, run_id: str) -> Any:
    from tqdm.auto import tqdm

    interactive = sys.stderr.isatty() or "ipykernel" in sys.modules  # CI logs get an update every 5 s, not 10/s
    return tqdm(
        total=total,
        initial=initial,
        desc=f"run {run_id}",
        unit="cell",
        dynamic_ncols=True,
        mininterval=0.1 if interactive else 5.0,
    )


def run(
    prompts: Any,
    dataset: Any,
    models: Any = None,
    *,
    store: Store | str | None = None,
    params: Mapping[str, Any] | None = None,
    repeats: int = 1,
    concurrency: int | None = None,
    rate_limit: float | None = None,
    timeout: float | None = 120.0,
    retries: int | None = None,
    retry_budget: float | None = None,
    scorers: Sequence[Any] | None = None,
    cache: bool = True,
    limit: int | None = None,
    name: str | None = None,
    progress: bool = True,
    on_result: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    model_options: Mapping[str, Any] | None = None,
    preflight: bool = True,
) -> RunResult:
    """Run prompt versions × models × dataset rows and return the scored, stored results.

    - ``prompts``: library names (``name`` / ``name@vN``), ``.prompty`` paths or templates; ``models``: specs
      (``local``, ``openai:MODEL[@URL]``), Model objects, LangChain models or Runnables (default: the first
      template's model).
    - ``params``: generation parameters over the templates' (``temperature``, ``max_tokens``, ``stop``, ``seed``,
      ``top_p``); with ``temperature > 0`` each (row, repeat) gets its own seed, so samples reproduce.
    - ``repeats``: samples per cell; ``concurrency`` (per model, adaptive), ``rate_limit`` (requests/minute),
      ``timeout`` (seconds per attempt), ``retries`` (default 6, for 5xx/connection errors/timeouts),
      ``retry_budget`` (default 300 s of 429s without a success before giving up), ``preflight`` (check each
      endpoint first).
    - ``cache``: answer repeated requests from the store's cache; ``store``: the SQLite file.

    Works in a plain script and inside Jupyter (where an event loop is already running, the run goes to a
    worker thread). Interrupting keeps what finished; calling again resumes.

    >>> result = run("sentiment_cloze_en", "datasets/sentiment_en.csv", ["local"])  # doctest: +SKIP
    >>> result.summary()                                                             # doctest: +SKIP
    """
    options = dict(
        store=store,
        params=params,
        repeats=repeats,
        concurrency=concurrency,
        rate_limit=rate_limit,
        timeout=timeout,
        retries=retries,
        retry_budget=retry_budget,
        scorers=scorers,
        cache=cache,
        limit=limit,
        name=name,
        progress=progress,
        on_result=on_result,
        cancel_event=cancel_event,
        model_options=model_options,
        preflight=preflight,
    )
    try:
        asyncio.get_running_loop()
        in_a_loop = True  # Jupyter's kernel loop: run on a private loop in a worker thread
    except RuntimeError:
        in_a_loop = False
    if not in_a_loop:
        return asyncio.run(arun(prompts, dataset, models, **options))
    return _run_in_thread(lambda: arun(prompts, dataset, models, **options), cancel_event)


def _run_in_thread(make_coro: Callable[[], Any], cancel_event: threading.Event | None) -> RunResult:
    """Run a coroutine on a private loop in a worker thread; Ctrl-C / kernel interrupt cancels it."""
    outcome: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    task_holder: dict[str, asyncio.Task[Any]] = {}

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            task = loop.create_task(make_coro())
            task_holder["task"] = task
            outcome["value"] = loop.run_until_complete(task)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            loop.close()

    thread = threading.Thread(target=target, name="workbench-run", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        if cancel_event is not None:
            cancel_event.set()
        task = task_holder.get("task")
        if task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
