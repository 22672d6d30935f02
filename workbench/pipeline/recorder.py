"""The recorder: the library's one way of writing runs — create, resume or follow a run (under a lease), answer
from the cache, write each result the moment it is known, finish. The runner, the server and the bad-case recheck
all log through it (as llm's ``Response.log_to_db``), so notebooks, the CLI, the UI and the API leave the same
trail in the store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import WorkbenchError
from workbench.models import Generation, Model
from workbench.models.types import prompt_as_text
from workbench.pipeline.lease import Lease
from workbench.pipeline.plan import Cell, RunPlan
from workbench.pipeline.stages import Verdict
from workbench.prompts import PromptTemplate
from workbench.secrets import redact, secret_values
from workbench.store import CacheEntry, ResultRecord, Store, now, open_store
from workbench.store.runs import FINISHED, lease_is_free, new_lease_owner

FOLLOW_POLL_SECONDS = 1.0


@dataclass
class RunSession:
    """A run being recorded: its id, whether it resumed, the cells finished before, and the lease held on it.
    ``followed``: another process executed the run and this one only waited for it."""

    run_id: str
    resumed: bool = False
    done: set[str] = field(default_factory=set)  # keys of the cells stored without error before this session
    lease: Lease | None = None
    followed: bool = False

    def finished(self, cell: Cell, secrets: list[str] | None = None) -> bool:
        """The cell was stored without error before (stored keys are redacted: compare redacted)."""
        return bool(self.done) and (redact(str(cell.key), secrets) or "") in self.done


def call_cost(model: Model, generation: Generation) -> float | None:
    """US dollars for one call at the model's declared price (``None`` when the price is unknown)."""
    price = model.capabilities.price
    if price is None:
        return None
    tokens_in, tokens_out = generation.prompt_tokens or 0, generation.completion_tokens or 0
    return round((tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, 8)


def _cacheable(generation: Generation) -> dict[str, Any]:
    return {
        "text": generation.text,
        "model": generation.model,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "latency_ms": generation.latency_ms,
        "finish_reason": generation.finish_reason,
        "label_scores": generation.label_scores,
        "retrieved": list(generation.retrieved),
        "tool_calls": list(generation.tool_calls),
        "trajectory": list(generation.trajectory),
    }


def _from_cache(hit: dict[str, Any]) -> Generation:
    hit = dict(hit)
    sequences = {key: tuple(hit.pop(key, None) or ()) for key in ("retrieved", "tool_calls", "trajectory")}
    return Generation(**hit, **sequences)


class Recorder:
    """Writes runs and results to a :class:`Store`."""

    def __init__(self, store: Store | str | None = None):
        self.store = open_store(store)

    def record_versions(self, templates: Iterable[PromptTemplate]) -> None:
        """Remember the exact text of every version a run uses. For a library prompt whose file was bumped by
        hand (``version: 2`` typed over v1), the versions it replaced are archived from the store's record, so
        every version a run used stays listable, diffable and runnable."""
        from workbench.prompts import PromptLibrary

        for template in templates:
            where = str(template.path or template.name)
            self.store.record_prompt_version(
                template.name, template.version, template.content_hash, template.to_text(), where=where
            )
            library = PromptLibrary.containing(template)
            if library is not None and _is_the_file_on_disk(template):
                for row in self.store.prompt_version_rows(template.name):
                    if row["version"] < template.version:
                        library.archive_source(template.name, row["version"], row["source"])

    # -- starting ----------------------------------------------------------------------------------
    def begin(
        self,
        plan: RunPlan,
        *,
        name: str | None = None,
        provenance: dict[str, Any] | None = None,
        origin: str | None = None,
        wait: bool = False,
        on_wait: Callable[[str, int], None] | None = None,
    ) -> RunSession:
        """Resume the unfinished run with this configuration that nobody is executing, follow a live one
        (``wait``), or create a new run. Every session that executes cells holds the run's lease."""
        self.record_versions(plan.templates)
        owner = new_lease_owner()
        live = []
        for row in self.store.resumable_runs(plan.config_hash):
            if not lease_is_free(row, me=owner):
                live.append(row["id"])
            elif self.store.take_lease(row["id"], owner, row):
                lease = Lease(self.store, row["id"], owner).start()
                return RunSession(row["id"], True, self.store.completed_keys(row["id"]), lease)
        if wait and live:
            return self.follow(live[0], owner, on_wait)
        run_id = self.store.create_run(
            config=plan.config,
            config_hash=plan.config_hash,
            prompts=[t.ref for t in plan.templates],
            models=[m.spec for m in plan.models],
            dataset=plan.dataset.source or plan.dataset.name,
            dataset_hash=plan.dataset.content_hash,
            n_cells=len(plan.cells),
            name=name,
            provenance=provenance,
            origin=origin,
            lease_owner=owner,
        )
        return RunSession(run_id, lease=Lease(self.store, run_id, owner).start())

    def follow(self, run_id: str, owner: str, on_wait: Callable[[str, int], None] | None = None) -> RunSession:
        """Wait for the process executing ``run_id``; take the run over if that process dies meanwhile."""
        while True:
            state = self.store.run_lease(run_id)
            if state["status"] in FINISHED:
                return RunSession(run_id, followed=True, done=self.store.completed_keys(run_id))
            if lease_is_free(state, me=owner) and self.store.take_lease(run_id, owner, state):
                return RunSession(
                    run_id, True, self.store.completed_keys(run_id), Lease(self.store, run_id, owner).start()
                )
            if on_wait is not None:
                on_wait(run_id, self.store.result_count(run_id))
            time.sleep(FOLLOW_POLL_SECONDS)

    def begin_serving(self, templates: list[PromptTemplate], model: Model, *, provenance: dict[str, Any]) -> str:
        """A run that logs served requests (status ``serving`` until the server stops)."""
        self.record_versions(templates)
        return self.store.create_run(
            config={"serve": [t.ref for t in templates], "model": model.spec},
            config_hash=f"serve-{uuid.uuid4().hex}",
            prompts=[t.ref for t in templates],
            models=[model.spec],
            dataset="http",
            dataset_hash="",
            n_cells=0,
            name=f"serve {', '.join(t.ref for t in templates)}"[:200],
            provenance=provenance,
            status="serving",
            origin="serve",
        )

    # -- the cache ---------------------------------------------------------------------------------
    def cached(self, cell: Cell) -> Generation | None:
        """The cached answer for this cell's exact request, if it may be answered from the cache."""
        return self.cached_many([cell]).get(cell.cache_key) if cell.cacheable else None

    def cached_many(self, cells: Sequence[Cell]) -> dict[str, Generation]:
        """Cached answers by cache key, for the cells that may be answered from the cache (one query per few
        hundred cells, so a cached re-run does not pay a round trip per cell)."""
        keys = [c.cache_key for c in cells if c.cacheable]
        return {key: _from_cache(hit) for key, hit in self.store.cache_get_many(keys).items()}

    # -- results -----------------------------------------------------------------------------------
    def result(
        self,
        run_id: str,
        cell: Cell,
        *,
        generation: Generation | None = None,
        verdict: Verdict | None = None,
        error: str | None = None,
        cached: bool = False,
        cache: bool = True,
        extra: dict[str, Any] | None = None,
        worker: str | None = None,
    ) -> tuple[ResultRecord, CacheEntry | None]:
        """One cell's result record (and its cache entry, when it should be cached) — not yet written. Writers do
        not call this themselves: they go through their run's :class:`~workbench.pipeline.writer.RecordPath`, which
        decides the cache policy and writes under the run's lease."""
        fields: dict[str, Any] = {
            "run_id": run_id,
            "cell_key": str(cell.key),
            "prompt": cell.template.name,
            "version": cell.template.version,
            "model": cell.model.spec,
            "row_index": cell.row_index,
            "row_id": cell.row_id,
            "repeat": cell.repeat,
            "inputs": cell.inputs,
            "rendered": prompt_as_text(cell.prompt),
            "error": error,
            "cached": cached,
            "retrieved": cell.retrieved,
            "created_at": now(),
            "worker": worker,
        }
        entry = None
        if generation is not None:
            fields.update(_generation_fields(cell, generation, verdict, cached, extra))
            if cache and not cached and error is None and cell.cacheable:
                params = cell.params.model_dump(mode="json")
                response = _cacheable(generation)
                entry = CacheEntry(cell.cache_key, cell.model.spec, params, fields["rendered"], response)
        return ResultRecord(**fields), entry

    def finish(self, session: RunSession | str, status: str) -> None:
        if isinstance(session, RunSession) and session.lease is not None:
            session.lease.release(status)
        else:
            self.store.set_run_status(session if isinstance(session, str) else session.run_id, status)


def _generation_fields(
    cell: Cell, generation: Generation, verdict: Verdict | None, cached: bool, extra: dict[str, Any] | None
) -> dict[str, Any]:
    details: dict[str, Any] = {"mode": cell.model.evaluation_mode(cell.prefix), **(extra or {})}
    if generation.finish_reason:
        details["finish_reason"] = generation.finish_reason
    if generation.label_scores:
        details["label_scores"] = {k: round(v, 4) for k, v in generation.label_scores.items()}
    if generation.trajectory:  # a template with tools: its calls in order, and every step of its loop
        details["tool_calls"] = list(generation.tool_calls)
        details["trajectory"] = list(generation.trajectory)
    cost = 0.0 if cached else call_cost(cell.model, generation)
    if cost and details.get("batch_id"):
        from workbench.models.openai_batch import PRICE_FACTOR

        cost = round(cost * PRICE_FACTOR, 8)  # a batch job is billed at the batch price
    details["cost_usd"] = cost
    fields: dict[str, Any] = {
        "output": generation.text,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "latency_ms": generation.latency_ms,
        "attempts": generation.attempts,
        "retrieved": cell.retrieved or generation.retrieved,
        "details": details,
    }
    if verdict is not None:
        fields.update(
            parsed=verdict.parsed,
            passed=verdict.passed,
            score=verdict.score,
            scores=tuple(s.to_dict() for s in verdict.scores),
        )
    return fields


__all__ = ["Recorder", "RunSession", "call_cost", "secret_values"]


def _is_the_file_on_disk(template: PromptTemplate) -> bool:
    """True when the template is what its file says now. An in-memory variant (``with_changes``) of a library
    prompt is not a hand bump of the file, so running it archives nothing into the library's history."""
    try:
        on_disk = PromptTemplate.load(template.path)
    except (OSError, WorkbenchError):
        return False
    return on_disk.content_hash == template.content_hash and on_disk.version == template.version
