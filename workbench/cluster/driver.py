"""A run on a Dask cluster: the driver plans as a local run does (every input checked, every cell rendered,
before any model call), answers what the store already has, checks the endpoints the workers will call, and sends
the rest to the workers in shards.

- One writer, one record path: workers return results; the driver records each cell exactly once through the run's
  :class:`~workbench.pipeline.writer.RecordPath` (the same cache policy, redaction and lease fencing as a local run:
  nothing reaches the cache under ``--no-cache``; a driver that lost its lease writes nothing more).
- A shard is as many cells as one worker keeps in flight (its share of the run's concurrency), and the driver keeps
  one shard running and one ready per worker. A driver killed mid-run therefore loses at most the cells that were in
  flight on the workers — each worker's concurrency — not whole queues of shards; the same command resumes the run
  from the store (its lease dies with it), executing only the cells not stored.
- Faults: a worker killed mid-run → the scheduler runs its shards elsewhere; a cell that failed with a retryable
  error gets one more try in a final round. Stop (the run's ``cancel_event``) and a lost lease end the run with
  what was stored.
- Scorers that need the store (an ``llm_judge`` with ``min_kappa`` reads the judge's calibration) are resolved on
  the driver, which has the store, and travel to the workers with their verdict.
- An unreachable scheduler, or one without workers, is an error before any model call, naming the address and the
  fix.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import workbench.events as events
import workbench.provenance as provenance
from workbench.cluster.shard import Shard, from_payload, shards_of
from workbench.errors import ConfigError
from workbench.models import bridge
from workbench.pipeline.cached import answer_from_cache
from workbench.pipeline.executor import CellExecutor
from workbench.pipeline.options import RunOptions
from workbench.pipeline.plan import Cell, plan_run
from workbench.pipeline.progress import RunState, followed_result, lease_lost
from workbench.pipeline.recorder import Recorder, RunSession
from workbench.pipeline.writer import RecordPath
from workbench.results import RunResult

CONNECT_TIMEOUT = 10
POLL_SECONDS = 0.2  # how often the driver looks at Stop and the lease while it waits for shards


def in_flight_shards(workers: int) -> int:
    """How many shards the driver keeps submitted: one running and one ready per worker, so a worker never waits
    for the driver and a driver that dies leaves at most one shard's cells per worker half done."""
    return 2 * workers


def connect(cluster: Any) -> Any:
    """A ``distributed.Client`` for a scheduler address (``WORKBENCH_CLUSTER`` when ``None``), or the Client given."""
    from workbench.registry import require

    require("distributed", "A run on a Dask cluster (--cluster)")
    from distributed import Client

    if isinstance(cluster, Client):
        return cluster
    address = cluster or os.environ.get("WORKBENCH_CLUSTER")
    if str(address).startswith("tls://"):
        _check_tls(address)
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"Cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc}). Start one with "
            "`dask scheduler --host HOST --port 8786 --dashboard-address HOST:8787` and workers with "
            "`dask worker tcp://HOST:8786 --host HOST`, or fix --cluster / WORKBENCH_CLUSTER "
            "(docs/scaling-out.md). Nothing was run."
        ) from None


def _check_tls(address: str) -> None:
    """A ``tls://`` scheduler needs this client's CA file, certificate and key (Dask's configuration), or
    distributed fails with a TypeError about an SSL context."""
    import dask

    ca_file = dask.config.get("distributed.comm.tls.ca-file", default=None)  # get() reads ca_file and ca-file alike
    cert = dask.config.get("distributed.comm.tls.client.cert", default=None)
    if not (ca_file and cert):
        raise ConfigError(
            f"--cluster {address}: a TLS scheduler needs this client's certificates. Set "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY (PEM files), or pass cluster=distributed.Client(address, "
            "security=Security(...)) in Python (docs/scaling-out.md). Nothing was run."
        )


def run_on_cluster(prompts: Any, dataset: Any, models: Any, options: RunOptions) -> RunResult:
    """:func:`workbench.run` with the cells executed by the workers of ``options.cluster``."""

    plan = plan_run(prompts, dataset, models, options)
    client = connect(options.cluster)
    try:
        workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        if workers == 0:
            raise ConfigError(f"The Dask scheduler at {client.scheduler.address} has no workers: start some.")
        recorder = Recorder(options.store)
        hits = recorder.cached_many(plan.cells) if options.cache else {}
        needed = {c.model.spec: c.model for c in plan.cells if not (c.cacheable and c.cache_key in hits)}
        if options.preflight:  # the endpoints the workers will call answer, before a run is even started
            bridge.run(_preflight(list(needed.values())))
        origin = options.origin or provenance.origin()
        prov = {**provenance.collect(plan.models, origin=origin), "cluster": client.scheduler.address}
        session = recorder.begin(plan, name=options.name, provenance=prov, origin=origin, wait=options.wait)
        if session.followed:
            return followed_result(recorder, session)
        return _drive(client, workers, plan, recorder, session, options, hits)
    finally:
        bridge.run(_close_models(plan.models))
        if not _given(options.cluster):
            client.close()


async def _preflight(models: list[Any]) -> None:
    await asyncio.gather(*(m.preflight() for m in models))


async def _close_models(models: list[Any]) -> None:
    await asyncio.gather(*(m.aclose() for m in models), return_exceptions=True)


def _given(cluster: Any) -> bool:
    return cluster is not None and not isinstance(cluster, str)


def _drive(
    client: Any, workers: int, plan: Any, recorder: Recorder, session: RunSession, options: Any, hits: dict
) -> RunResult:

    state = RunState(plan, session, options.progress, options.on_result)
    local = CellExecutor(RecordPath(recorder, session.run_id, cache=options.cache, lease=session.lease))
    stop = _Stop(options.cancel_event, session.lease)
    status = "completed"
    try:
        pending = bridge.run(answer_from_cache(local, state, state.pending(), hits))
        if pending:
            scorers = _scorers_for_workers(plan, options, recorder.store)
            _submit_and_record(client, workers, plan, local, state, pending, options, scorers, stop)
            again = [c for c in plan.cells if str(c.key) in state.retryable]
            if again:
                state.stats["retried"] = len(again)
                _submit_and_record(client, workers, plan, local, state, again, options, scorers, stop, sweep=True)
    except BaseException as exc:
        status = "interrupted"
        if session.lease is not None and session.lease.lost.is_set():
            raise lease_lost(session, state) from exc
        raise
    finally:
        local.close()
        recorder.finish(session, status)
        state.close()
    result = RunResult(session.run_id, None, recorder.store, state.stats, dict(state.workers))
    events.emit(events.RUN_FINISHED, result)
    return result


class _Stop:
    """Stop (the user's event) or a lost lease: either one ends the run."""

    def __init__(self, cancel_event: threading.Event | None, lease: Any):
        self.events = [e for e in (cancel_event, getattr(lease, "lost", None)) if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def _scorers_for_workers(plan: Any, options: Any, store: Any) -> dict[str, list[Any]]:
    """Each template's scorers as they travel to the workers. A scorer that needs the store (a judge that must be
    calibrated first) adds what it read there, on the driver that has the store (workers have none)."""
    from workbench.scoring import make_scorer

    scorers: dict[str, list[Any]] = {}
    for template in plan.templates:
        configs = [dict(a) for a in template.assertions] + list(options.scorers or [])
        for config in configs:
            if isinstance(config, dict):
                config.update(make_scorer(dict(config)).resolved_for_workers(store))
        scorers[template.ref] = configs
    return scorers


def _submit_and_record(
    client: Any,
    workers: int,
    plan: Any,
    executor: CellExecutor,
    state: RunState,
    cells: list[Cell],
    options: Any,
    scorers: dict[str, list[Any]],
    stop: _Stop,
    *,
    sweep: bool = False,
) -> None:
    """Send ``cells`` in shards; record each cell the first time a shard brings it back."""
    from distributed import as_completed

    from workbench.cluster.worker import run_shard

    by_key = {str(c.key): c for c in cells}
    waiting: list[Shard] = shards_of(cells, plan, state.session.run_id, options, workers, scorers)
    waiting.reverse()
    window = in_flight_shards(workers)
    submitted = [client.submit(run_shard, waiting.pop(), pure=False) for _ in range(min(window, len(waiting)))]
    flowing = as_completed(list(submitted), loop=client.loop)
    recorded: set[str] = set()
    try:
        while not flowing.is_empty():
            if stop.is_set():
                raise KeyboardInterrupt("the run was stopped")
            done = flowing.next_batch(block=False)
            if not done:
                time.sleep(POLL_SECONDS)
                continue
            for future in done:
                _record_shard(future.result(), by_key, recorded, executor, state, sweep)
                if waiting:  # keep a bounded number in flight: a driver that dies leaves little half done
                    submitted.append(client.submit(run_shard, waiting.pop(), pure=False))
                    flowing.add(submitted[-1])
    except BaseException:
        client.cancel(submitted)
        raise


def _record_shard(
    payloads: list[dict[str, Any]],
    by_key: dict[str, Cell],
    recorded: set[str],
    executor: CellExecutor,
    state: RunState,
    sweep: bool,
) -> None:
    items, cells, retryable = [], [], []
    for payload in payloads:
        key = payload["key"]
        if key in recorded or key not in by_key:
            continue  # exactly once per cell, whatever ran twice
        recorded.add(key)
        cell = by_key[key]
        items.append(executor.path.build(cell, **from_payload(payload)))
        cells.append(cell)
        retryable.append(payload["retryable"])
    for cell, record, again in zip(cells, executor.path.write(items), retryable, strict=True):
        state.stats["called"] += 1
        state.done(cell, record, retryable=again, sweep=sweep)
