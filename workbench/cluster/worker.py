"""What runs on a Dask worker: one shard of a run, through the same stages as a local run (execute → evaluate),
writing nothing — the results go back to the driver, the run's one writer.

A worker process keeps what is expensive across shards: its models (a llama.cpp or ``hf:`` model stays loaded, an
endpoint's connection pool stays open — :func:`workbench.models.get_model` shares instances and the bridge loop
keeps running), and, per run, one executor, so a model's concurrency gate and 429 budget hold across shards.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from workbench.cluster.shard import Shard, rebuild, to_payload
from workbench.models import bridge, get_model
from workbench.pipeline.executor import CellExecutor
from workbench.prompts import PromptTemplate
from workbench.scoring import make_scorer

_executors: dict[str, CellExecutor] = {}
_templates: dict[str, PromptTemplate] = {}
_lock = threading.Lock()


def run_shard(shard: Shard) -> list[dict[str, Any]]:
    """Answer every cell of ``shard``; a payload per cell (see :func:`workbench.cluster.shard.to_payload`)."""
    return bridge.run(_run(shard, worker_name()))


def worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


async def _run(shard: Shard, worker: str) -> list[dict[str, Any]]:
    executor = _executor(shard)
    scorers = {ref: [make_scorer(s) for s in configs] for ref, configs in shard.scorers.items()}
    options = shard.model_options

    async def one(spec: Any) -> dict[str, Any]:
        template = _template(spec.template, shard.templates[spec.template])
        cell = rebuild(spec, template, get_model(spec.model, **options))
        return to_payload(spec.key, await executor.compute(cell, scorers[spec.template]), worker)

    return list(await asyncio.gather(*(one(spec) for spec in shard.cells)))


def _executor(shard: Shard) -> CellExecutor:
    with _lock:
        executor = _executors.get(shard.run_id)
        if executor is None:
            executor = _executors[shard.run_id] = CellExecutor(None, **shard.controls)
        return executor


def _template(ref: str, source: str) -> PromptTemplate:
    with _lock:
        template = _templates.get(ref)
        if template is None or template.to_text() != source:
            template = _templates[ref] = PromptTemplate.from_string(source, name=ref.rpartition("@")[0])
        return template
