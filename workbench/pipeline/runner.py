"""The batch engine: prompt versions × models × dataset rows (× repeats), composed from the pipeline's stages.

plan (every cell validated and rendered, before any model call) → begin the run under a lease (resume the
unfinished one nobody executes, or follow a live one with ``wait``) → answer every cached cell in bulk →
preflight the endpoints still needed → each remaining cell through the :class:`CellExecutor` (concurrently, or
on a Dask cluster, or as provider batch jobs) → a final sweep retries cells that failed with a retryable error
→ finish.

An interrupted run (Ctrl-C, kernel interrupt, a killed process) keeps every finished cell; the same call again
resumes that run and calls models only for the missing cells. A finished run re-run is a new run answered from
the response cache.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import workbench.events as events
import workbench.provenance as provenance
from workbench.pipeline.cached import answer_from_cache
from workbench.pipeline.executor import CellExecutor
from workbench.pipeline.options import RunOptions
from workbench.pipeline.plan import Cell, RunPlan, plan_run
from workbench.pipeline.progress import RunState, followed_result, lease_lost
from workbench.pipeline.recorder import Recorder, RunSession
from workbench.pipeline.writer import RecordPath
from workbench.results import RunResult


class _Cancel:
    """Stop (the user's event) or a lost lease: either one ends the run."""

    def __init__(self, *events_: threading.Event | None):
        self._events = [e for e in events_ if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


async def arun(prompts: Any, dataset: Any, models: Any = None, options: RunOptions | None = None, **overrides: Any):
    """Async :func:`run` (same arguments, ``cluster=`` and ``WORKBENCH_CLUSTER`` included)."""
    options = RunOptions.of(options, **overrides)
    if options.cluster is not None or _cluster_from_environment(options):
        from workbench.cluster.driver import run_on_cluster

        return await asyncio.to_thread(run_on_cluster, prompts, dataset, models, options)
    plan = plan_run(prompts, dataset, models, options)
    recorder = Recorder(options.store)
    if options.batch:
        from workbench.batch.runner import check_batchable

        check_batchable(plan.models)
    hits = recorder.cached_many(plan.cells) if options.cache else {}
    needed = {c.model.spec: c.model for c in plan.cells if not (c.cacheable and c.cache_key in hits)}
    if options.preflight:  # every endpoint still needed answers, at once, before a run is even started
        await asyncio.gather(*(m.preflight() for m in needed.values()))
    if options.batch and needed:  # an endpoint without a Batch API is refused before anything is uploaded
        from workbench.batch.runner import probe_batch_apis

        await probe_batch_apis(list(needed.values()))
    loads = await load_models(needed, plan.cells)
    origin = options.origin or provenance.origin()
    session = recorder.begin(
        plan,
        name=options.name,
        provenance=provenance.collect(plan.models, origin=origin),
        origin=origin,
        wait=options.wait,
        on_wait=_say_following(),
    )
    if session.followed:  # another process executed it; we waited and read what it stored
        return followed_result(recorder, session)
    return await _execute_run(plan, recorder, session, options, hits, loads)


def _say_following() -> Callable[[str, int], None]:
    """Tell the user, once, that this run follows one another process executes (``wait``), instead of waiting in
    silence."""
    said: list[str] = []

    def say(run_id: str, stored: int) -> None:
        if not said:
            said.append(run_id)
            print(
                f"Run {run_id} is being executed by another process; following it (--wait): {stored} cells stored "
                "so far. This process calls no model.",
                file=sys.stderr,
                flush=True,
            )

    return say


async def load_models(models: dict[str, Any], cells: Sequence[Cell]) -> dict[str, float]:
    """Make every model a run will call ready before the first cell is timed — weights loaded, the templates' fixed
    prefixes evaluated once: spec → seconds, for the models that had set-up to do (reported apart from latency: a
    cell's latency is the model's answer time)."""
    prefixes: dict[str, set[str]] = {spec: set() for spec in models}
    for cell in cells:
        if cell.model.spec in prefixes and cell.prefix and cell.model.capabilities.prefix_cache:
            prefixes[cell.model.spec].add(cell.prefix)
    seconds = await asyncio.gather(*(model.load(sorted(prefixes[spec])) for spec, model in models.items()))
    return {spec: s for spec, s in zip(models, seconds, strict=True) if s}


async def _execute_run(
    plan: RunPlan,
    recorder: Recorder,
    session: RunSession,
    options: RunOptions,
    hits: dict[str, Any],
    loads: dict[str, float] | None = None,
) -> RunResult:
    state = RunState(plan, session, options.progress, options.on_result)
    state.stats["model_load_s"] = dict(loads or {})
    lost = session.lease.lost if session.lease is not None else None
    path = RecordPath(recorder, session.run_id, cache=options.cache, lease=session.lease)
    executor = CellExecutor(
        path,
        timeout=options.timeout,
        retries=options.retries,
        retry_budget=options.retry_budget,
        concurrency=options.concurrency,
        rate_limit=options.rate_limit,
        cancel_event=_Cancel(options.cancel_event, lost),  # type: ignore[arg-type]
    )
    status = "completed"
    try:
        pending = await answer_from_cache(executor, state, state.pending(), hits)
        if pending:
            await _call_models(executor, state, pending, options)
    except BaseException as exc:  # Ctrl-C, kernel interrupt, Stop, or a bug: keep what finished, resumable later
        status = "interrupted"
        if session.lease is not None and session.lease.lost.is_set():
            raise lease_lost(session, state) from exc
        raise
    finally:
        executor.close()  # every result reaches the store before the run is marked finished
        recorder.finish(session, status)
        state.close()
        for model in plan.models:
            await model.aclose()
    result = RunResult(session.run_id, None, recorder.store, state.stats, dict(state.workers))
    events.emit(events.RUN_FINISHED, result)
    return result


async def _call_models(executor: CellExecutor, state: RunState, cells: list[Cell], options: RunOptions) -> None:
    if options.batch:  # a cell that failed in a batch is sent again by the next run, not retried here
        from workbench.batch.runner import run_batches

        await run_batches(executor, state, cells, options)
        return
    await _run_cells(executor, state, cells)
    await _final_sweep(executor, state)


async def _run_cells(executor: CellExecutor, state: RunState, cells: Sequence[Cell], *, sweep: bool = False) -> None:
    async def one(cell: Cell) -> None:
        outcome = await executor.answer(cell, state.plan.scorers[cell.template.ref], look_up=False)
        state.stats["called"] += int(outcome.called)
        state.done(cell, outcome.record, retryable=outcome.retryable, sweep=sweep)

    tasks = [asyncio.ensure_future(one(c)) for c in cells]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _final_sweep(executor: CellExecutor, state: RunState) -> None:
    """Cells that ended with a retryable error get one more try, before the run ends."""
    again = [c for c in state.plan.cells if str(c.key) in state.retryable]
    if again:
        state.stats["retried"] = len(again)
        await _run_cells(executor, state, again, sweep=True)


def run(prompts: Any, dataset: Any, models: Any = None, options: RunOptions | None = None, **overrides: Any):
    """Run prompt versions × models × dataset rows and return the scored, stored results (a :class:`RunResult`).

    ``prompts``: library names (``name`` / ``name@vN``), ``.prompty`` paths or templates; ``dataset``: a file,
    a DataFrame or a list of dicts (default columns: the templates' variables); ``models``: specs (``local``,
    ``openai:MODEL[@URL]``), Model objects, LangChain models or Runnables (default: the first template's model).
    Options (store, params, repeats, concurrency, cache, ...) are keyword arguments or a :class:`RunOptions` —
    its docstring lists them all.

    Works in a plain script and inside Jupyter (where an event loop is already running, the run goes to a
    worker thread). Interrupting keeps what finished; calling again resumes.

    >>> result = run("sentiment_cloze_en", "datasets/sentiment_en.csv", ["local"])  # doctest: +SKIP
    >>> result.summary()                                                             # doctest: +SKIP
    """
    options = RunOptions.of(options, **overrides)
    if options.cluster is not None or _cluster_from_environment(options):
        from workbench.cluster.driver import run_on_cluster

        return run_on_cluster(prompts, dataset, models, options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(prompts, dataset, models, options))
    return _run_in_thread(lambda: arun(prompts, dataset, models, options), options.cancel_event)


def _cluster_from_environment(options: RunOptions) -> bool:
    import os

    return bool(os.environ.get("WORKBENCH_CLUSTER")) and not options.batch


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


__all__ = ["arun", "run"]
