"""A run's cells through a provider's batch API: submit, remember, poll, collect — across processes and hours.

1. Cells not yet stored and not in a batch already sent go into batch files (one per model and endpoint, within
   the provider's limits). Before anything is uploaded, the run records the *intent* — the cells a batch will
   answer, under an intent id — and tags the batch with the run and the intent (its metadata); once the provider
   has created it, the intent takes the batch's id. A process killed between "batch created" and "id stored"
   leaves an intent whose batch exists at the provider: the next run finds it there by its tag and adopts it,
   instead of paying for the same cells twice. An intent the provider never received is sent again.
2. Every ``batch_poll`` seconds the batches are looked at; a completed one is collected — its output lines matched
   to cells by ``custom_id`` (any order), evaluated like any answer, recorded at the batch price; lines that
   failed, and every cell of a batch that failed or expired, are recorded as retryable errors (the next run sends
   them again).
3. Interrupted (Ctrl-C, a killed process), the run keeps its batches: the same ``workbench run`` command, or
   ``workbench runs resume RUN``, picks them up and collects whatever finished meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

from workbench.errors import ConfigError
from workbench.models.openai_batch import (
    DONE,
    MAX_BYTES,
    MAX_REQUESTS,
    content,
    custom_id,
    parse_output,
    request_line,
    retrieve,
    submit,
)
from workbench.pipeline.plan import Cell

INTENT = "intent-"  # the id a batch is recorded under until the provider confirms it
SUBMITTING = "submitting"


def check_batchable(models: list[Any]) -> None:
    """Every model of a ``--batch`` run must take batch jobs; said before anything is sent."""
    refused = [m.spec for m in models if not m.capabilities.batch]
    if refused:
        raise ConfigError(
            f"--batch: {', '.join(refused)} cannot take batch jobs; the batch API is OpenAI's (and compatible "
            "servers': /v1/files + /v1/batches). Run those models without --batch."
        )


async def probe_batch_apis(models: list[Any]) -> None:
    """Every endpoint of a ``--batch`` run has a Batch API (said before anything is uploaded)."""
    from workbench.models.openai_batch import probe

    for model in {m.spec: m for m in models}.values():
        await probe(model)


async def run_batches(executor: Any, state: Any, cells: list[Cell], options: Any) -> None:
    """Adopt or resend what a killed process left half sent, send what is not sent, then poll and collect until
    every batch of the run is done."""
    store, run_id = executor.recorder.store, state.session.run_id
    by_key = {str(c.key): c for c in cells}
    models = {c.model.spec: c.model for c in cells}
    await _settle_intents(store, run_id, models, by_key)
    active = [b for b in store.batches(run_id) if b["collected_at"] is None]
    sent = {key for batch in active for key in batch["cell_keys"]}
    await _send(store, run_id, [c for c in cells if str(c.key) not in sent])
    pending = [b for b in store.batches(run_id) if b["collected_at"] is None]
    while pending:
        for batch in list(pending):
            if await _look(executor, state, batch, models, by_key):
                pending.remove(batch)
        if pending:
            _show(state, pending)
            await asyncio.sleep(options.batch_poll)


async def _send(store: Any, run_id: str, cells: list[Cell]) -> None:
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    models = {}
    for cell in cells:
        endpoint, line = request_line(cell.model, str(cell.key), cell.request())
        groups[(cell.model.spec, endpoint)].append((str(cell.key), line))
        models[cell.model.spec] = cell.model
    for (spec, endpoint), items in groups.items():
        for chunk in _within_limits(items):
            keys, lines = [k for k, _ in chunk], [line for _, line in chunk]
            intent = f"{INTENT}{uuid.uuid4().hex[:20]}"
            store.add_batch(run_id, intent, model=spec, input_file_id="", cell_keys=keys, status=SUBMITTING)
            await _submit(store, models[spec], endpoint, lines, run_id, intent)


async def _submit(store: Any, model: Any, endpoint: str, lines: list[str], run_id: str, intent: str) -> None:
    batch = await submit(model, endpoint, lines, {"workbench_run": run_id, "workbench_intent": intent})
    store.confirm_batch(intent, batch["id"], input_file_id=batch["input_file_id"], status=batch["status"])


async def _settle_intents(store: Any, run_id: str, models: dict[str, Any], by_key: dict[str, Cell]) -> None:
    """Intents a killed process left: adopt the provider's batch that carries the intent, or send it now."""
    from workbench.models.openai_batch import find_by_intent

    for row in store.batches(run_id):
        if row["status"] != SUBMITTING or row["model"] not in models:
            continue
        model = models[row["model"]]
        found = await find_by_intent(model, row["batch_id"])
        if found is not None:  # created before the kill: adopt it, pay nothing twice
            store.confirm_batch(
                row["batch_id"], found["id"], input_file_id=found["input_file_id"], status=found["status"]
            )
            continue
        cells = [by_key[k] for k in row["cell_keys"] if k in by_key]
        lines = [request_line(c.model, str(c.key), c.request()) for c in cells]
        if lines:
            await _submit(store, model, lines[0][0], [line for _, line in lines], run_id, row["batch_id"])


def _within_limits(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    chunks: list[list[tuple[str, str]]] = [[]]
    size = 0
    for item in items:
        line_bytes = len(item[1].encode("utf-8")) + 1
        if chunks[-1] and (len(chunks[-1]) >= MAX_REQUESTS or size + line_bytes > MAX_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += line_bytes
    return [c for c in chunks if c]


async def _look(executor: Any, state: Any, batch: dict[str, Any], models: dict[str, Any], by_key: dict) -> bool:
    """Refresh one batch; collect it when it is done. ``True`` once nothing more will come of it."""
    store = executor.recorder.store
    model = models.get(batch["model"])
    if model is None:  # a batch of a model this run no longer has: nothing to collect it for
        store.update_batch(batch["batch_id"], collected=True)
        return True
    info = await retrieve(model, batch["batch_id"])
    store.update_batch(
        batch["batch_id"],
        status=info["status"],
        counts=info.get("request_counts") or {},
        output_file_id=info.get("output_file_id"),
        error_file_id=info.get("error_file_id"),
    )
    batch["counts"] = info.get("request_counts") or {}
    batch["status"] = info["status"]
    if info["status"] not in DONE:
        return False
    await _collect(executor, state, batch, info, model, by_key)
    store.update_batch(batch["batch_id"], collected=True)
    return True


async def _collect(executor: Any, state: Any, batch: dict, info: dict, model: Any, by_key: dict) -> None:
    """Record every cell of a finished batch: its answer, or why there is none."""
    answers: dict[str, Any] = {}
    endpoint = info.get("endpoint") or "/v1/completions"
    for file_id in (info.get("output_file_id"), info.get("error_file_id")):
        if file_id:
            answers.update(parse_output(model, endpoint, await content(model, file_id)))
    items, cells = [], []
    for key in batch["cell_keys"]:
        cell = by_key.get(key)
        if cell is None or key in state.ok:
            continue  # not pending in this run any more (stored meanwhile)
        answer = answers.get(custom_id(key))
        extra = {"batch_id": batch["batch_id"]}
        if answer is None or isinstance(answer, str):
            why = answer or f"[{model.spec}] batch {batch['batch_id']} ended {info['status']} without this request"
            items.append((executor.path.build(cell, error=why, extra=extra), True))
        else:
            judged = await executor.judge(cell, answer, state.plan.scorers[cell.template.ref])
            retryable = judged.pop("retryable", False)
            items.append((executor.path.build(cell, extra=extra, **judged), retryable))
        cells.append(cell)
    stored = executor.path.write([item for item, _ in items])
    for cell, record, (_, retryable) in zip(cells, stored, items, strict=True):
        state.stats["called"] += 1
        state.done(cell, record, retryable=retryable)


def _show(state: Any, pending: list[dict[str, Any]]) -> None:
    if state.bar is None:
        return
    total = sum(b["counts"].get("total", 0) for b in pending)
    done = sum(b["counts"].get("completed", 0) + b["counts"].get("failed", 0) for b in pending)
    statuses = ", ".join(sorted({b["status"] for b in pending}))
    state.bar.set_postfix_str(f"{len(pending)} batch(es) {statuses}: {done}/{total} answered", refresh=True)
