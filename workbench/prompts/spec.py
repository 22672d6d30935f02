"""What a template file declares, as records: its inputs, its model defaults, its chat turns.

Built from the parsed front matter by :func:`template_fields`, which raises a :class:`TemplateError` naming the
file and line for anything malformed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import workbench.prompts.frontmatter as frontmatter
from workbench.errors import TemplateError
from workbench.models.types import ChatMessage

ROLE_LINE = re.compile(r"^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class InputSpec:
    """A declared input variable: what it means and an example value for previews."""

    name: str
    description: str = ""
    example: Any = None
    default: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        if self.example is not None:
            data["example"] = self.example
        if self.default is not None:
            data["default"] = self.default
        return data


@dataclass(frozen=True)
class ModelDefaults:
    """The model and sampling parameters a template was written for (overridable per run)."""

    spec: str | None = None
    api: str = "auto"  # auto | completion | chat
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.spec:
            data["spec"] = self.spec
        if self.api != "auto":
            data["api"] = self.api
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        return data


def template_fields(meta: dict[str, Any], *, name: str | None, path: Path | None, front: str = "") -> dict[str, Any]:
    """The :class:`PromptTemplate` fields a file's front matter declares, validated by the typed model in
    :mod:`workbench.prompts.frontmatter`; any problem is a :class:`TemplateError` naming the file, the line of the
    offending key and the fix (all problems in one message)."""
    where = str(path) if path else None
    try:
        typed = frontmatter.validate(meta)
    except ValidationError as exc:
        raise _error(frontmatter.problems(exc), front, where) from None
    _check_sections(typed, front, where)
    model = typed.model
    config = model.configuration or {}
    parameters = model.parameters.model_dump(exclude_none=True)
    if "stop" in parameters:
        parameters["stop"] = list(parameters["stop"])
    samples = typed.sample
    inputs = {
        key: InputSpec(
            name=key,
            description=spec.description,
            example=spec.example
            if spec.example is not None
            else (spec.sample if spec.sample is not None else samples.get(key)),
            default=spec.default,
        )
        for key, spec in typed.inputs.items()
    }
    return {
        "name": typed.name or name or "untitled",
        "version": typed.version,
        "description": typed.description,
        "tags": tuple(typed.tags),
        "model": ModelDefaults(spec=model.spec or config.get("spec"), api=model.api, parameters=parameters),
        "inputs": inputs,
        "output": {k: v for k, v in dict(meta.get("output") or {}).items()},
        "assertions": tuple(dict(a) for a in meta.get("assertions") or ()),
        "retrieval": dict(meta.get("retrieval") or {}),
        "tools": tuple(meta.get("tools") or ()),
        "agent": dict(meta.get("agent") or {}),
        "dataset": typed.dataset,
        "metadata": dict(typed.metadata),
    }


def _check_sections(typed: Any, front: str, where: str | None) -> None:
    """What the typed model leaves to the parts it configures: the parser's options, the scorers' options."""
    from workbench.errors import ConfigError
    from workbench.parsers import PARSERS, make_parser, parser_options
    from workbench.scoring import make_scorer

    found: list[tuple[tuple[Any, ...], str]] = []
    output = typed.output.model_dump(by_alias=True)
    options = parser_options(typed.output.parser)  # the built-ins say which keys they read; a plugin does not
    if options is not None:
        for key in typed.output.model_extra or {}:
            if key not in options:
                known = ", ".join(sorted({"parser", "method", "constrain", *options}))
                found.append(
                    (("output", key), f"`{key}` is not an option of the {typed.output.parser} parser ({known})")
                )
    if typed.output.parser in PARSERS:
        try:
            make_parser({**output, **(typed.output.model_extra or {})})
        except ConfigError as exc:
            found.append((("output",), str(exc)))
    else:
        found.append(
            (("output", "parser"), f"no parser named {typed.output.parser!r}; known: {', '.join(PARSERS.names())}")
        )
    for index, assertion in enumerate(typed.assertions):
        try:
            make_scorer({"type": assertion.type, **(assertion.model_extra or {})})
        except ConfigError as exc:
            found.append((("assertions", index), str(exc)))
    found += _tool_problems(typed)
    if found:
        raise _error(found, front, where)


def _tool_problems(typed: Any) -> list[tuple[tuple[Any, ...], str]]:
    """What a template's ``tools:`` and the tool parameters declare wrongly: a definition that is not an OpenAI-style
    function with a JSON-Schema object as parameters, a name declared twice, a ``tool_choice`` naming no declared
    tool, tool parameters or ``agent:`` without any tools. (Registered names are looked up when a run plans.)"""
    from workbench.tools.declarations import definition_problem, duplicate_names, entry_name, tool_choice_problem

    found: list[tuple[tuple[Any, ...], str]] = []
    for index, entry in enumerate(typed.tools):
        problem = definition_problem(entry)
        if problem:
            found.append((("tools", index), problem))
    for index, name in duplicate_names(typed.tools):
        found.append((("tools", index), f"two tools are named {name!r}; each tool needs its own name"))
    parameters = typed.model.parameters
    names = [n for n in (entry_name(e) for e in typed.tools) if n]
    for key in ("tool_choice", "parallel_tool_calls"):
        if getattr(parameters, key) is not None and not typed.tools:
            found.append((("model", "parameters", key), f"`{key}` needs tools: declare them under `tools:`"))
    if parameters.tool_choice is not None and typed.tools:
        problem = tool_choice_problem(parameters.tool_choice, names)
        if problem:
            found.append((("model", "parameters", "tool_choice"), problem))
    if typed.agent is not None and not typed.tools:
        found.append((("agent",), "`agent:` needs tools: declare them under `tools:`, or remove `agent:`"))
    return found


def _error(found: list[tuple[tuple[Any, ...], str]], front: str, where: str | None) -> TemplateError:
    located = [(frontmatter.key_line(front, loc) or 1, message.rstrip(".")) for loc, message in found]
    first_line, first = located[0]
    more = "".join(f"; line {line}: {message}" for line, message in located[1:])
    return TemplateError(f"{first}{more}.", path=where, line=first_line)


def split_messages(text: str, *, where: str | None = None) -> list[ChatMessage]:
    """Split rendered chat text on ``role:`` lines into messages."""
    matches = list(ROLE_LINE.finditer(text))
    if not matches:
        return [ChatMessage("user", text.strip())]
    leading = text[: matches[0].start()].strip()
    if leading:
        raise TemplateError(
            "Chat body has text before its first `system:`/`user:` line. Put a role line first.",
            path=where,
        )
    messages = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        content = text[match.end() : end].strip("\n").strip()
        messages.append(ChatMessage(match.group(1).lower(), content))  # type: ignore[arg-type]
    return messages
