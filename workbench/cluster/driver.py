"""A run on a Dask cluster: the driver plans as a local run does (every input checked, every cell rendered,
before any model call), answers what the store already has, and sends the rest to the workers in shards.

- One writer: workers return results; the driver records each cell exactly once (a shard that ran twice — its
  worker died after finishing part of it — is recorded the first time), with the worker's name.
- Faults: a worker killed mid-run → the scheduler runs its shards elsewhere; the driver killed → the same command
  resumes the run from the store (its lease dies with it), executing only the cells not stored; a cell that
  failed with a retryable error gets one more try in a final shard.
- An unreachable scheduler is an error before any model call, naming the address and the fix.
"""

from __future__ import annotations

import os
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
from workbench.pipeline.progress import COUNTERS, RunState
from workbench.pipeline.recorder import Recorder, RunSession
from workbench.results import RunResult

CONNECT_TIMEOUT = 10


def in_flight_shards(workers: int) -> int:
    """How many shards the driver keeps submitted: two per worker (one running, one ready, so a worker never
    waits for the driver), few enough that a driver killed mid-run leaves little work half done (those cells are
    the only ones a resume may call again)."""
    return 2 * workers + 1


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
        origin = options.origin or "cluster"
        prov = {**provenance.collect(plan.models, origin=origin), "cluster": client.scheduler.address}
        session = recorder.begin(plan, name=options.name, provenance=prov, origin=origin, wait=options.wait)
        if session.followed:
            records = recorder.store.results(session.run_id)
            stats = {**dict.fromkeys(COUNTERS, 0), "cells": len(records), "resumed": len(records), "followed": 1}
            return RunResult(session.run_id, records, recorder.store, stats)
        return _drive(client, workers, plan, recorder, session, options, hits)
    finally:
        if not _given(options.cluster):
            client.close()


def _given(cluster: Any) -> bool:
    return cluster is not None and not isinstance(cluster, str)


def _drive(
    client: Any, workers: int, plan: Any, recorder: Recorder, session: RunSession, options: Any, hits: dict
) -> RunResult:
    state = RunState(plan, session, options.progress, options.on_result)
    local = CellExecutor(recorder, cache=options.cache)
    status = "completed"
    try:
        pending = bridge.run(answer_from_cache(local, state, state.pending(), hits))
        if pending:
            _submit_and_record(client, workers, plan, recorder, state, pending, options)
            again = [c for c in plan.cells if str(c.key) in state.retryable]
            if again:
                state.stats["retried"] = len(again)
                _submit_and_record(client, workers, plan, recorder, state, again, options, sweep=True)
    except BaseException:
        status = "interrupted"
        raise
    finally:
        local.close()
        recorder.finish(session, status)
        state.close()
    result = RunResult(session.run_id, state.ordered(), recorder.store, state.stats, dict(state.workers))
    events.emit(events.RUN_FINISHED, result)
    return result


def _submit_and_record(
    client: Any,
    workers: int,
    plan: Any,
    recorder: Recorder,
    state: RunState,
    cells: list[Cell],
    options: Any,
    *,
    sweep: bool = False,
) -> None:
    """Send ``cells`` in shards; record each cell the first time a shard brings it back."""
    from distributed import as_completed

    from workbench.cluster.worker import run_shard

    by_key = {str(c.key): c for c in cells}
    waiting: list[Shard] = shards_of(cells, plan, state.session.run_id, options, workers)
    waiting.reverse()
    window = in_flight_shards(workers)
    submitted = [client.submit(run_shard, waiting.pop(), pure=False) for _ in range(min(window, len(waiting)))]
    flowing = as_completed(list(submitted), loop=client.loop)
    recorded: set[str] = set()
    try:
        for future in flowing:
            _record_shard(future.result(), by_key, recorded, recorder, state, sweep)
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
    recorder: Recorder,
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
        items.append(recorder.result(state.session.run_id, cell, **from_payload(payload)))
        cells.append(cell)
        retryable.append(payload["retryable"])
    for cell, record, again in zip(cells, recorder.record_many(items), retryable, strict=True):
        state.stats["called"] += 1
        state.done(cell, record, retryable=again, sweep=sweep)
