"""A shard: some cells of a run, in a form that travels to a Dask worker and back.

Cells hold live objects (models, templates, scorers); a shard holds what rebuilds them: each template's file
text, each model's spec and options, the rendered prompts and retrieved context (retrieval ran on the driver, so
workers need no knowledge base), the scorers, and the run's controls. What comes back per cell is plain data — the
generation, the verdict or the error, and the worker's name — which the driver, the run's one writer, records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.models import Generation, GenerationParams
from workbench.models.types import ChatMessage
from workbench.pipeline.executor import Computed
from workbench.pipeline.plan import Cell
from workbench.pipeline.stages import Verdict
from workbench.scoring import Score


@dataclass(frozen=True)
class CellSpec:
    key: str
    template: str  # the template's ref, name@vN
    model: str  # the model's spec
    row_index: int
    row_id: str
    repeat: int
    inputs: dict[str, Any]
    prompt: Any  # text, or a list of {role, content}
    params: dict[str, Any]
    retrieved: tuple[dict[str, Any], ...] = ()
    retrieved_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shard:
    run_id: str
    index: int
    templates: dict[str, str]  # ref → the template's file text
    scorers: dict[str, list[Any]]  # ref → its scorers (assertion configs and the run's own scorer objects)
    model_options: dict[str, Any]
    controls: dict[str, Any]  # concurrency (this worker's share), timeout, retries, retry_budget, rate_limit
    cells: list[CellSpec]


def spec_of(cell: Cell) -> CellSpec:
    prompt = cell.prompt if isinstance(cell.prompt, str) else [m.to_dict() for m in cell.prompt]
    return CellSpec(
        key=str(cell.key),
        template=cell.template.ref,
        model=cell.model.spec,
        row_index=cell.row_index,
        row_id=cell.row_id,
        repeat=cell.repeat,
        inputs=dict(cell.inputs),
        prompt=prompt,
        params=cell.params.model_dump(mode="json", exclude_unset=True),
        retrieved=tuple(cell.retrieved),
        retrieved_values=dict(cell.retrieved_values),
    )


def worker_share(options: Any, workers: int) -> int | None:
    """Each worker's share of the run's concurrency (``None``: each model's own default, per worker)."""
    concurrency = options.concurrency
    return None if concurrency is None else max(1, -(-concurrency // max(1, workers)))


def shard_size(cells: list[Cell], options: Any, workers: int) -> int:
    """As many cells as one worker has in flight at once: its share of the run's concurrency, or its models' own
    concurrency. A shard's answers return together when it ends, so this bounds what a dying driver loses."""
    share = worker_share(options, workers)
    return max(1, share or max((c.model.max_concurrency for c in cells), default=1))


def shards_of(
    cells: list[Cell], plan: Any, run_id: str, options: Any, workers: int, scorers: dict[str, list[Any]]
) -> list[Shard]:
    """The pending cells in shards of :func:`shard_size`; ``scorers``: each template's scorers as they travel."""
    size = shard_size(cells, options, workers)
    templates = {t.ref: t.to_text() for t in plan.templates}
    share = worker_share(options, workers)
    controls = {
        "concurrency": share,
        "timeout": options.timeout,
        "retries": options.retries,
        "retry_budget": options.retry_budget,
        "rate_limit": None if options.rate_limit is None else options.rate_limit / max(1, workers),
    }
    return [
        Shard(run_id, i, templates, scorers, dict(options.model_options or {}), controls, [spec_of(c) for c in chunk])
        for i, chunk in enumerate(cells[start : start + size] for start in range(0, len(cells), size))
    ]


def rebuild(spec: CellSpec, template: Any, model: Any) -> Cell:
    """The cell a spec describes, on the worker (the same cache key and request as on the driver)."""
    prompt = spec.prompt
    if not isinstance(prompt, str):
        prompt = [ChatMessage(m["role"], m["content"]) for m in prompt]
    params = GenerationParams().merged(**spec.params)
    return Cell(
        template,
        model,
        spec.row_index,
        spec.row_id,
        spec.repeat,
        dict(spec.inputs),
        prompt,
        params,
        tuple(spec.retrieved),
        dict(spec.retrieved_values),
        model.identity(),
        template.toolset if template.tools else None,  # Python tools must be registered on the worker too
    )


def to_payload(key: str, computed: Computed, worker: str) -> dict[str, Any]:
    """A computed cell as plain data (what travels back to the driver)."""
    verdict = computed.verdict
    return {
        "key": key,
        "worker": worker,
        "error": computed.error,
        "retryable": computed.retryable,
        "generation": None if computed.generation is None else _generation_data(computed.generation),
        "verdict": None if verdict is None else {**asdict(verdict), "scores": [s.to_dict() for s in verdict.scores]},
    }


def _generation_data(generation: Generation) -> dict[str, Any]:
    data = asdict(generation)
    data.pop("raw", None)
    return data


def from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The recorder's arguments for a cell that came back from a worker."""
    generation = payload["generation"]
    verdict = payload["verdict"]
    if generation is not None:
        generation = Generation(**{**generation, "retrieved": tuple(generation.get("retrieved") or ())})
    if verdict is not None:
        scores = tuple(Score(**s) for s in verdict["scores"])
        verdict = Verdict(verdict["parsed"], verdict["parse_error"], verdict["passed"], verdict["score"], scores)
    return {"generation": generation, "verdict": verdict, "error": payload["error"], "worker": payload["worker"]}
