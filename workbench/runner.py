"""The batch engine: prompt versions × models × dataset rows (× repeats), scored and stored.

Stages, each testable alone: load → validate & render every cell (all errors before any model
call) → answer from the resumed run or the cache → call models (async, a concurrency limit and
optional requests/minute per model, retries in the model layer, a timeout per call) → parse →
score → write each result to SQLite the moment it completes.

An interrupted run (Ctrl-C, kernel interrupt, a killed process) keeps every finished cell; the
same call again resumes that run and calls models only for the missing cells. A finished run
re-run is a new run answered from the response cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.datasets import Dataset, load_dataset, public_fields
from workbench.errors import ModelError, TemplateError, WorkbenchError
from workbench.models import GenerationParams, Model, get_model
from workbench.models.base import Generation, PromptInput, elapsed_ms, prompt_as_text
from workbench.parsers import LabelParser
from workbench.prompts import PromptTemplate, load_prompt
from workbench.scoring import Score, ScoreContext, Scorer, make_scorer, score_row
from workbench.store import ResultRecord, Store

ProgressCallback = Callable[[ResultRecord, int, int], None]


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Cell:
    """One unit of work: a rendered prompt for one model and one dataset row (and repeat)."""

    template: PromptTemplate
    model: Model
    row_index: int
    row_id: str
    repeat: int
    inputs: dict[str, Any]
    prompt: PromptInput
    params: GenerationParams
    retrieved: tuple[dict[str, Any], ...] = ()  # chunk ids/sources/distances, stored with the result
    retrieved_values: dict[str, str] = field(default_factory=dict, compare=False)  # e.g. the `context` text

    @property
    def key(self) -> str:
        return f"{self.template.ref}|{self.model.spec}|{self.row_id}|{self.repeat}"

    @property
    def cache_key(self) -> str:
        payload = {
            "model": self.model.spec,
            "params": self.params.model_dump(mode="json"),
            "prompt": _prompt_payload(self.prompt),
        }
        if wants_logprob_labels(self.template, self.model):
            payload["labels"] = self.template.output.get("labels")
        if self.params.temperature > 0:
            payload["repeat"] = self.repeat  # different samples are different cache entries
        return _hash(payload)


def _prompt_payload(prompt: PromptInput) -> Any:
    return prompt if isinstance(prompt, str) else [m.to_dict() for m in prompt]


@dataclass
class RunResult:
    """What a run produced. ``records`` are immutable; DataFrames are views of them."""

    run_id: str
    records: list[ResultRecord]
    store: Store
    stats: dict[str, int] = field(default_factory=dict)

    def to_dataframe(self) -> Any:
        from workbench.reports import results_dataframe

        return results_dataframe(self.records)

    def summary(self) -> Any:
        from workbench.reports import summarize

        return summarize(self.records)

    @property
    def pass_rate(self) -> float | None:
        judged = [r for r in self.records if r.passed is not None]
        return sum(r.passed for r in judged) / len(judged) if judged else None

    @property
    def errors(self) -> list[ResultRecord]:
        return [r for r in self.records if r.error]

    def compare(self, other: RunResult | str) -> Any:
        from workbench.reports import compare_records

        other_records = other.records if isinstance(other, RunResult) else self.store.results(other)
        return compare_records(other_records, self.records)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        rate = self.pass_rate
        rate_text = f"{rate:.0%}" if rate is not None else "n/a"
        return (
            f"<RunResult {self.run_id}: {len(self.records)} cells, pass rate {rate_text}, "
            f"{len(self.errors)} errors, {self.stats}>"
        )


@dataclass
class RunPlan:
    """Everything decided before any model is called."""

    templates: list[PromptTemplate]
    models: list[Model]
    dataset: Dataset
    cells: list[Cell]
    scorers: dict[str, list[Scorer]]
    config: dict[str, Any]

    @property
    def config_hash(self) -> str:
        return _hash(self.config)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    single = isinstance(value, str | PromptTemplate | Model) or hasattr(value, "invoke")  # a LangChain model
    if single or not isinstance(value, Iterable):
        return [value]
    return list(value)


def plan_run(
    prompts: Any,
    dataset: Any,
    models: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    repeats: int = 1,
    scorers: Sequence[Any] | None = None,
    limit: int | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Validate inputs and render every cell. Raises before any model call on any bad input."""
    templates = [load_prompt(p) for p in _as_list(prompts)]
    if not templates:
        raise WorkbenchError("No prompt given. Pass a library name (e.g. 'sentiment_cloze_en') or a path.")
    data = load_dataset(dataset)
    if limit:
        data = data.head(limit)
    specs = _as_list(models) or [templates[0].model.spec or "local"]
    resolved = [get_model(m, **dict(model_options or {})) if isinstance(m, str) else get_model(m) for m in specs]
    if repeats < 1:
        raise WorkbenchError("repeats must be at least 1.")

    for template in templates:
        data.check_columns(
            template.required_variables, template_name=f"prompt {template.ref} ({template.path or 'in memory'})"
        )

    extra_scorers = [make_scorer(s) for s in (scorers or [])]
    scorer_map = {t.ref: [make_scorer(a) for a in t.assertions] + extra_scorers for t in templates}

    cells: list[Cell] = []
    for template in templates:
        base_params = GenerationParams().merged(**template.model.parameters)
        run_params = base_params.merged(**dict(params or {}))
        rows = [public_fields(row) for row in data.rows]
        retrieved = _retrieve(template, rows)
        rendered_rows: list[tuple[int, dict[str, Any], PromptInput, list[dict[str, Any]], dict[str, str]]] = []
        for i, inputs in enumerate(rows):
            values, trace = retrieved[i]
            try:
                rendered_rows.append((i, inputs, template.render({**inputs, **values}), trace, values))
            except TemplateError as exc:
                raise TemplateError(f"{exc} (while rendering {data.describe_row(i)})") from exc
        for model in resolved:
            for i, inputs, prompt, trace, values in rendered_rows:
                for repeat in range(repeats):
                    cell = Cell(template, model, i, data.row_id(i), repeat, inputs, prompt, run_params, tuple(trace),
                                values)  # fmt: skip
                    cells.append(cell)

    config = {
        "prompts": [{"ref": t.ref, "hash": t.content_hash} for t in templates],
        "models": [m.spec for m in resolved],
        "dataset": data.content_hash,
        "params": dict(params or {}),
        "repeats": repeats,
        "scorers": [repr(s) for s in (scorers or [])],
    }
    return RunPlan(templates, resolved, data, cells, scorer_map, config)


def _retrieve(template: PromptTemplate, rows: list[dict[str, Any]]) -> list[tuple[dict[str, str], list[dict]]]:
    """Retrieval variables for every row (the [rag] extra is imported only for templates that retrieve)."""
    if not template.retrieval:
        return [({}, []) for _ in rows]
    from workbench.rag.retrieval import retrieve_for_rows

    return retrieve_for_rows(template, rows)


class _ModelGate:
    """Per-model concurrency limit and optional requests/minute, shared by that model's cells."""

    def __init__(self, model: Model, concurrency: int | None, rate_limit: float | None):
        self.semaphore = asyncio.Semaphore(max(1, concurrency or model.max_concurrency))
        self.limiter = None
        if rate_limit:
            from aiolimiter import AsyncLimiter

            self.limiter = AsyncLimiter(rate_limit, 60.0)

    async def __aenter__(self) -> None:
        await self.semaphore.acquire()
        if self.limiter is not None:
            await self.limiter.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.semaphore.release()


async def _score(
    scorers: list[Scorer], template: PromptTemplate, text: str, inputs: dict[str, Any]
) -> tuple[Any, bool | None, float | None, list[Score]]:
    parsed, parse_error = template.parse_output(text)
    if not scorers:
        return parsed, None, None, []
    scores = await score_row(scorers, ScoreContext(text, parsed, parse_error, inputs, template))
    passed = all(s.passed for s in scores)
    mean = sum(s.score for s in scores) / len(scores)
    return parsed, passed, round(mean, 6), scores


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
    scorers: Sequence[Any] | None = None,
    cache: bool | str = True,
    limit: int | None = None,
    name: str | None = None,
    progress: bool = True,
    on_result: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    capture_bad_cases: bool = False,
    model_options: Mapping[str, Any] | None = None,
) -> RunResult:
    """Async :func:`run`. ``cache``: True (use it, except sampled repeats), "always", or False."""
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
    store = store if isinstance(store, Store) else Store(store)
    for template in plan.templates:
        store.record_prompt_version(
            template.name,
            template.version,
            template.content_hash,
            template.to_text(),
            where=str(template.path) if template.path else None,
        )

    run_id = store.resumable_run(plan.config_hash)
    resumed = run_id is not None
    if run_id is None:
        run_id = store.create_run(
            config=plan.config,
            config_hash=plan.config_hash,
            prompts=[t.ref for t in plan.templates],
            models=[m.spec for m in plan.models],
            dataset=plan.dataset.source or plan.dataset.name,
            dataset_hash=plan.dataset.content_hash,
            n_cells=len(plan.cells),
            name=name,
        )
    else:
        store.set_run_status(run_id, "running")
    done = store.completed_cells(run_id) if resumed else {}
    stats = {"cells": len(plan.cells), "resumed": 0, "cached": 0, "called": 0, "errors": 0}
    records: dict[str, ResultRecord] = {}
    for cell in plan.cells:
        if cell.key in done:
            records[cell.key] = done[cell.key]
            stats["resumed"] += 1

    bar = _progress_bar(len(plan.cells), len(records), run_id) if progress else None
    gates = {m.spec: _ModelGate(m, concurrency, rate_limit) for m in plan.models}

    def finish(record: ResultRecord, cache_entry: dict[str, Any] | None = None) -> None:
        stored = store.write_result(record, cache_entry=cache_entry)
        records[record.cell_key] = stored
        if record.error:
            stats["errors"] += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(errors=stats["errors"], cached=stats["cached"], refresh=False)
        if on_result is not None:
            on_result(stored, len(records), len(plan.cells))

    def use_cache(cell: Cell) -> bool:
        if cache == "always":
            return True
        return bool(cache) and not (cell.params.temperature > 0 and repeats > 1)

    async def process(cell: Cell) -> None:
        if cancel_event is not None and cancel_event.is_set():
            raise asyncio.CancelledError
        generation: Generation | None = None
        error: str | None = None
        cached = False
        cache_entry: dict[str, Any] | None = None
        if use_cache(cell):
            hit = store.cache_get(cell.cache_key)
            if hit is not None:
                generation = Generation(**hit)
                cached = True
        if generation is None:
            async with gates[cell.model.spec]:
                if cancel_event is not None and cancel_event.is_set():
                    raise asyncio.CancelledError
                try:
                    generation = await asyncio.wait_for(_call(cell), timeout)
                    stats["called"] += 1
                except TimeoutError:
                    error = f"[{cell.model.spec}] timed out after {timeout:g}s"
                except ModelError as exc:
                    error = str(exc)
                except Exception as exc:  # a provider bug must not lose the other cells
                    error = f"[{cell.model.spec}] {type(exc).__name__}: {exc}"
            if generation is not None and cache:  # written with the result, in one transaction
                cache_entry = {
                    "key": cell.cache_key,
                    "model": cell.model.spec,
                    "params": cell.params.model_dump(mode="json"),
                    "prompt": prompt_as_text(cell.prompt),
                    "response": _cacheable(generation),
                }
        else:
            stats["cached"] += 1
        record = ResultRecord(
            run_id=run_id,
            cell_key=cell.key,
            prompt=cell.template.name,
            version=cell.template.version,
            model=cell.model.spec,
            row_index=cell.row_index,
            row_id=cell.row_id,
            repeat=cell.repeat,
            inputs=cell.inputs,
            rendered=prompt_as_text(cell.prompt),
            error=error,
            cached=cached,
            retrieved=cell.retrieved,
        )
        if generation is not None:
            parsed, passed, score, scores = await _score(
                plan.scorers[cell.template.ref],
                cell.template,
                generation.text,
                {**cell.inputs, **cell.retrieved_values},
            )
            record = _with_generation(record, generation, parsed, passed, score, scores)
        finish(record, cache_entry)

    pending = [c for c in plan.cells if c.key not in records]
    tasks = [asyncio.ensure_future(process(c)) for c in pending]
    status = "completed"
    try:
        if tasks:
            await asyncio.gather(*tasks)
    except BaseException:  # Ctrl-C, kernel interrupt, Stop, or a bug: keep what finished, resumable later
        status = "interrupted"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        store.set_run_status(run_id, status)
        if bar is not None:
            bar.close()
        for model in plan.models:
            await model.aclose()
    ordered = [records[c.key] for c in plan.cells]
    result = RunResult(run_id, ordered, store, stats)
    if capture_bad_cases:
        from workbench.badcases import BadCaseTracker

        BadCaseTracker(store).capture_failures(result.records)
    return result


def wants_logprob_labels(template: PromptTemplate, model: Model) -> bool:
    """True when the template asks for label scoring by log-probability and the model can do it."""
    return (
        template.output.get("method") == "logprob"
        and hasattr(model, "classify")
        and isinstance(template.parser, LabelParser)
    )


async def _call(cell: Cell) -> Generation:
    """One model call for a cell: free generation, or label scoring by log-probabilities."""
    if wants_logprob_labels(cell.template, cell.model) and isinstance(cell.prompt, str):
        labels = cell.template.parser.labels  # type: ignore[attr-defined]
        start = time.perf_counter()
        word, scores = await asyncio.to_thread(cell.model.classify, cell.prompt, labels)  # type: ignore[attr-defined]
        return Generation(
            text=word,
            model=cell.model.spec,
            completion_tokens=0,
            latency_ms=elapsed_ms(start),
            finish_reason="logprob",
            raw={"label_logprobs": scores},
        )
    return await cell.model.agenerate(cell.prompt, cell.params)


def _cacheable(generation: Generation) -> dict[str, Any]:
    return {
        "text": generation.text,
        "model": generation.model,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "latency_ms": generation.latency_ms,
        "finish_reason": generation.finish_reason,
    }


def _with_generation(
    record: ResultRecord,
    generation: Generation,
    parsed: Any,
    passed: bool | None,
    score: float | None,
    scores: list[Score],
) -> ResultRecord:
    from dataclasses import replace

    return replace(
        record,
        output=generation.text,
        parsed=parsed,
        passed=passed,
        score=score,
        scores=tuple(s.to_dict() for s in scores),
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        latency_ms=generation.latency_ms,
        attempts=generation.attempts,
    )


def _progress_bar(total: int, initial: int, run_id: str) -> Any:
    from tqdm.auto import tqdm

    interactive = sys.stderr.isatty() or "ipykernel" in sys.modules  # CI logs get an update every 5 s, not 10/s
    return tqdm(total=total, initial=initial, desc=f"run {run_id}", unit="cell", dynamic_ncols=True,
                mininterval=0.1 if interactive else 5.0)  # fmt: skip


def run(prompts: Any, dataset: Any, models: Any = None, **options: Any) -> RunResult:
    """Run prompt versions × models × dataset rows and return the scored, stored results.

    Works in a plain script and inside Jupyter (where an event loop is already running, the
    run goes to a worker thread). Interrupting keeps what finished; calling again resumes.

    >>> result = run("sentiment_cloze_en", "datasets/sentiment_en.csv", ["local"])  # doctest: +SKIP
    >>> result.summary()                                                             # doctest: +SKIP
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(prompts, dataset, models, **options))
    return _run_in_thread(lambda: arun(prompts, dataset, models, **options), options.get("cancel_event"))


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
