"""The recorder: the library's one way of writing runs — create or resume, answer from the cache, write each
result the moment it is known, finish. The runner, the server and the bad-case recheck all log through it
(as llm's ``Response.log_to_db``), so notebooks, the CLI, the UI and the API leave the same trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workbench.models import Generation, Model
from workbench.models.base import prompt_as_text
from workbench.pipeline.plan import Cell, RunPlan
from workbench.pipeline.stages import Verdict
from workbench.prompts import PromptTemplate
from workbench.secrets import redact
from workbench.store import ResultRecord, Store, now


@dataclass
class RunSession:
    """A run being recorded: its id, whether it resumed, and the cells already finished before."""

    run_id: str
    resumed: bool = False
    done: dict[str, ResultRecord] = field(default_factory=dict)

    def finished(self, cell: Cell, secrets: list[str] | None = None) -> ResultRecord | None:
        """The stored result of a cell finished before (stored keys are redacted: compare redacted)."""
        if not self.done:
            return None
        return self.done.get(redact(str(cell.key), secrets) or "")


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
    }


class Recorder:
    """Writes runs and results to a :class:`Store`."""

    def __init__(self, store: Store | str | None = None):
        self.store = store if isinstance(store, Store) else Store(store)

    def record_versions(self, templates: Iterable[PromptTemplate]) -> None:
        for template in templates:
            self.store.record_prompt_version(
                template.name,
                template.version,
                template.content_hash,
                template.to_text(),
                where=str(template.path or template.name),
            )

    def begin(self, plan: RunPlan, *, name: str | None = None, provenance: dict[str, Any] | None = None) -> RunSession:
        """Resume the unfinished run with the same configuration, or create a new one."""
        self.record_versions(plan.templates)
        run_id = self.store.resumable_run(plan.config_hash)
        if run_id is not None:
            self.store.set_run_status(run_id, "running")
            return RunSession(run_id, True, self.store.completed_cells(run_id))
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
        )
        return RunSession(run_id)

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
        )

    def cached(self, cell: Cell) -> Generation | None:
        """The cached answer for this cell's exact request, if the model's answers may be cached."""
        if not cell.model.capabilities.cacheable:
            return None
        hit = self.store.cache_get(cell.cache_key)
        if hit is None:
            return None
        retrieved = tuple(hit.pop("retrieved", None) or ())
        return Generation(**hit, retrieved=retrieved)

    def record(
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
    ) -> ResultRecord:
        """Write one cell's result (and its cache entry, in the same transaction); return the stored record."""
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
        }
        cache_entry = None
        if generation is not None:
            details: dict[str, Any] = {"mode": cell.model.evaluation_mode(cell.prefix), **(extra or {})}
            if generation.finish_reason:
                details["finish_reason"] = generation.finish_reason
            if generation.label_scores:
                details["label_scores"] = {k: round(v, 4) for k, v in generation.label_scores.items()}
            details["cost_usd"] = 0.0 if cached else call_cost(cell.model, generation)
            fields.update(_generation_fields(generation, verdict, details, cell.retrieved))
            if cache and not cached and cell.model.capabilities.cacheable:
                cache_entry = {
                    "key": cell.cache_key,
                    "model": cell.model.spec,
                    "params": cell.params.model_dump(mode="json"),
                    "prompt": fields["rendered"],
                    "response": _cacheable(generation),
                }
        return self.store.write_result(ResultRecord(**fields), cache_entry=cache_entry)

    def finish(self, run_id: str, status: str) -> None:
        self.store.set_run_status(run_id, status)


def _generation_fields(
    generation: Generation, verdict: Verdict | None, details: dict[str, Any], retrieved: tuple[dict[str, Any], ...]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "output": generation.text,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "latency_ms": generation.latency_ms,
        "attempts": generation.attempts,
        "retrieved": retrieved or generation.retrieved,
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
