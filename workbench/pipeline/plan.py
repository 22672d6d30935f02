"""Planning a run: load and validate every input and render every cell before any model is called.

A cell is one prompt version × one model × one dataset row × one repeat. Planning is where bad input is
caught (a missing column names the file and the columns present; a render error names the row), so a run
never spends a model call before it knows it can finish.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from workbench.datasets import Dataset, load_dataset, public_fields
from workbench.errors import TemplateError, WorkbenchError
from workbench.identity import CellKey, Column
from workbench.models import GenerationParams, Model, get_model
from workbench.models.adapters import adapter_for
from workbench.models.types import PromptInput, Request
from workbench.parsers import ChoiceParser, LabelParser
from workbench.pipeline.options import RunOptions
from workbench.prompts import PromptTemplate, load_prompt
from workbench.scoring import Scorer, make_scorer


def stable_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def sample_seed(base: int | None, row_id: str, repeat: int) -> int:
    """The seed of one (row, repeat) sample: stable across processes, different for every repeat."""
    return zlib.crc32(f"{base or 0}|{row_id}|{repeat}".encode()) & 0x7FFFFFFF


def _prompt_payload(prompt: PromptInput) -> Any:
    return prompt if isinstance(prompt, str) else [m.to_dict() for m in prompt]


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
    model_identity: dict[str, Any] = field(default_factory=dict, compare=False)  # the weights / endpoint
    toolset: Any = field(default=None, compare=False)  # the template's tools, resolved (workbench.tools.ToolSet)

    @property
    def column(self) -> Column:
        return Column(self.template.name, self.template.version, self.model.spec)

    @property
    def key(self) -> CellKey:
        return CellKey(self.column, self.row_id, self.repeat)

    @property
    def prefix(self) -> str | None:
        """The template's fixed leading text, when this cell's prompt really starts with it."""
        prefix = self.template.static_prefix
        return prefix if prefix and isinstance(self.prompt, str) and self.prompt.startswith(prefix) else None

    @property
    def uses_logprob_labels(self) -> bool:
        """The template asks for label scoring by log-probability and the model can do it."""
        return (
            self.template.output.get("method") == "logprob"
            and self.model.capabilities.logprob_labels
            and isinstance(self.template.parser, LabelParser)
            and isinstance(self.prompt, str)
        )

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The schema to constrain decoding to: the template's JSON schema with ``constrain: true``, if the model
        can (llama.cpp turns it into a grammar, so the output is valid JSON of that shape)."""
        output = self.template.output
        if output.get("parser") == "json" and output.get("constrain") and output.get("schema"):
            return dict(output["schema"]) if self.model.capabilities.structured_output else None
        return None

    @property
    def labels(self) -> dict[str, tuple[str, ...]]:
        """What log-probability scoring compares: the label words, or a choice question's options for this row."""
        parser = self.template.parser
        if isinstance(parser, ChoiceParser):
            return parser.candidates(self.inputs)
        return dict(parser.labels) if isinstance(parser, LabelParser) else {}

    @property
    def cacheable(self) -> bool:
        """Whether this cell's answer may come from (and go to) the cache. A sampled cell's key holds its repeat
        (and seed), so a re-run of a sampled run gets the same samples; ``--no-cache`` draws new ones."""
        return self.model.capabilities.cacheable

    def request(self) -> Request:
        """The model call this cell makes: generation, or label scoring by log-probability."""
        labels = self.labels if self.uses_logprob_labels else None
        return Request(
            self.prompt,
            self.params,
            prefix=self.prefix,
            inputs=self.inputs,
            json_schema=self.json_schema,
            labels=labels,
        )

    @property
    def scorer_inputs(self) -> dict[str, Any]:
        return {**self.inputs, **self.retrieved_values}

    @cached_property
    def cache_key(self) -> str:
        payload: dict[str, Any] = {
            "model": self.model_identity or self.model.identity(),
            "params": self.params.model_dump(mode="json"),
            "prompt": _prompt_payload(self.prompt),
            "mode": self.model.evaluation_mode(self.prefix),
        }
        if self.uses_logprob_labels:
            payload["labels"] = self.labels
        if self.params.temperature > 0:
            payload["repeat"] = self.repeat  # each sample is its own entry (its seed differs too)
        if self.model.capabilities.takes_inputs:
            payload["inputs"] = self.inputs
        if self.json_schema:
            payload["schema"] = self.json_schema
        if self.toolset:  # the tools, their code, the results the row supplies, how a call is chosen
            output = self.template.output
            payload["tools"] = {
                **self.toolset.identity(),
                "tool_results": self.inputs.get("tool_results"),
                "turns": self.inputs.get("__tool_turns"),  # a served conversation's calls and results so far
                "choice": [output.get("method"), output.get("constrain")],
            }
        return stable_hash(payload)


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
        return stable_hash(self.config)


def as_list(value: Any) -> list[Any]:
    """One prompt/model, or an iterable of them, as a list (a string or a model object is one)."""
    if value is None:
        return []
    if isinstance(value, str | PromptTemplate | Model) or adapter_for(value) is not None:  # a LangChain object
        return [value]
    if not isinstance(value, Iterable):
        return [value]
    return list(value)


def resolve_models(models: Any, default: str | None, options: Mapping[str, Any] | None = None) -> list[Model]:
    specs = as_list(models) or [default or "local"]
    return [get_model(m, **dict(options or {})) if isinstance(m, str) else get_model(m) for m in specs]


def plan_run(prompts: Any, dataset: Any, models: Any = None, options: RunOptions | None = None) -> RunPlan:
    """Validate inputs and render every cell. Raises before any model call on any bad input."""
    options = options or RunOptions()
    templates = list({t.ref: t for t in (load_prompt(p) for p in as_list(prompts))}.values())  # each version once
    if not templates:
        raise WorkbenchError("No prompt given. Pass a library name (e.g. 'sentiment_cloze_en') or a path.")
    options.check()
    data = load_dataset(dataset).with_id_column(options.id_column)
    if options.limit:
        data = data.head(options.limit)
    data.check_unique_ids()
    resolved = list(
        {m.spec: m for m in resolve_models(models, templates[0].model.spec, options.model_options)}.values()
    )
    scorer_map = _scorers(templates, data, options.scorers)
    toolsets = _toolsets(templates, resolved, data, options)
    identities = {m.spec: m.identity() for m in resolved}
    rows = [public_fields(row) for row in data.rows]
    cells: list[Cell] = []
    for template in templates:
        run_params = GenerationParams().merged(**template.model.parameters).merged(**dict(options.params or {}))
        rendered = _render_rows(template, rows, data)
        for model in resolved:
            cells += _cells(
                template,
                model,
                identities[model.spec],
                rendered,
                data,
                run_params,
                options.repeats,
                toolsets[template.ref],
            )
    config = {
        "prompts": [{"ref": t.ref, "hash": t.content_hash} for t in templates],
        "models": [m.spec for m in resolved],
        "identities": [identities[m.spec] for m in resolved],
        "dataset": data.content_hash,
        "id_column": data.id_column,
        "params": dict(options.params or {}),
        "repeats": options.repeats,
        "scorers": [repr(s) for s in (options.scorers or [])],
    }
    if options.limit:  # `dataset` is the hash of the rows used (the first `limit`): a resume takes the same rows
        config["limit"] = options.limit
    if options.annotations:  # only when given: the config (and so the hash) of every other run is unchanged
        config["annotations"] = dict(options.annotations)
    return RunPlan(templates, resolved, data, cells, scorer_map, config)


def _scorers(templates: list[PromptTemplate], data: Dataset, extra: Sequence[Any] | None) -> dict[str, list[Scorer]]:
    """Each template's scorers (its assertions, then the run's), with the columns they read checked."""
    for template in templates:
        data.check_columns(
            template.required_variables, template_name=f"prompt {template.ref} ({template.path or 'in memory'})"
        )
    extra_scorers = [make_scorer(s) for s in (extra or [])]
    scorer_map = {t.ref: [make_scorer(a) for a in t.assertions] + extra_scorers for t in templates}
    for template in templates:
        for scorer in scorer_map[template.ref]:
            data.check_columns(
                scorer.required_columns(), template_name=f"the {scorer.name!r} assertion of {template.ref}"
            )
            scorer.check_rows(data, template)
    return scorer_map


def _toolsets(
    templates: list[PromptTemplate], models: list[Model], data: Dataset, options: RunOptions
) -> dict[str, Any]:
    """Each template's tools, resolved and checked against the models, the run's options and the rows."""
    found = {}
    for template in templates:
        toolset = template.toolset if template.tools else None
        found[template.ref] = toolset
        if toolset:
            from workbench.tools.checks import check_run

            check_run(template, toolset, models, data, options)
    return found


def _cells(
    template: PromptTemplate,
    model: Model,
    identity: dict[str, Any],
    rendered: list[tuple[dict[str, Any], PromptInput, list[dict[str, Any]], dict[str, str]]],
    data: Dataset,
    run_params: GenerationParams,
    repeats: int,
    toolset: Any = None,
) -> list[Cell]:
    cells = []
    for i, (inputs, prompt, trace, values) in enumerate(rendered):
        row_id = data.row_id(i)
        for repeat in range(repeats):
            params = run_params
            if run_params.temperature > 0 and model.capabilities.seeded_sampling:
                params = run_params.merged(seed=sample_seed(run_params.seed, row_id, repeat))
            cell = Cell(
                template, model, i, row_id, repeat, inputs, prompt, params, tuple(trace), values, identity, toolset
            )
            cells.append(cell)
    return cells


def _render_rows(
    template: PromptTemplate, rows: list[dict[str, Any]], data: Dataset
) -> list[tuple[dict[str, Any], PromptInput, list[dict[str, Any]], dict[str, str]]]:
    retrieved = _retrieve(template, rows)
    rendered = []
    for i, inputs in enumerate(rows):
        values, trace = retrieved[i]
        try:
            rendered.append((inputs, template.render({**inputs, **values}), trace, values))
        except TemplateError as exc:
            raise TemplateError(f"{exc} (while rendering {data.describe_row(i)})") from exc
    return rendered


def _retrieve(template: PromptTemplate, rows: list[dict[str, Any]]) -> list[tuple[dict[str, str], list[dict]]]:
    """Retrieval variables for every row (the [rag] extra is imported only for templates that retrieve)."""
    if not template.retrieval:
        return [({}, []) for _ in rows]
    from workbench.rag.retrieval import retrieve_for_rows

    return retrieve_for_rows(template, rows)


def plan_request(
    template: PromptTemplate,
    model: Model,
    variables: Mapping[str, Any],
    *,
    params: GenerationParams,
    row_id: str,
) -> Cell:
    """One cell for a request that did not come from a dataset (a served request): the same stages apply."""
    inputs = dict(variables)
    retrieved = _retrieve(template, [inputs])[0]
    prompt = template.render({**inputs, **retrieved[0]})
    trace, values = tuple(retrieved[1]), retrieved[0]
    toolset = template.toolset if template.tools else None
    return Cell(template, model, 0, row_id, 0, inputs, prompt, params, trace, values, model.identity(), toolset)
