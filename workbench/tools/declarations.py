"""What a template's ``tools:`` declares: tools (a name, a description, JSON-Schema parameters, and for a Python tool
the function) and the set of them a template uses.

A template file lists OpenAI-style function definitions and/or names of tools registered from Python (``@wb.tool``,
:mod:`workbench.tools.registry`). A file never points at code: a name is looked up in the registry of the process
that runs it, so a shared library file cannot make anyone run a function they did not register.

Why check the schemas with ``jsonschema``'s own meta-schema: a ``parameters`` block that is not a JSON Schema would
otherwise surface as a confusing grammar or API error at the first model call, not as a line in the file.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError

TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")  # OpenAI's rule for function names
NAME_RULE = "letters, digits, '_' or '-', starting with a letter or '_' (at most 64)"
DEFAULT_MAX_STEPS = 5
DEFAULT_TOOL_TIMEOUT = 10.0
TOOL_CHOICES = ("auto", "none", "required")


@dataclass(frozen=True)
class Tool:
    """One tool: what the model is told (name, description, parameters) and, for a Python tool, what runs.

    ``arguments_model`` (Python tools) validates and converts the arguments before the function is called, so a
    call with the wrong types becomes an error result the model sees, not an exception in the run.
    """

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    arguments_model: Any = field(default=None, compare=False, repr=False)
    source_sha256: str | None = None

    @property
    def is_python(self) -> bool:
        return self.function is not None

    def openai(self) -> dict[str, Any]:
        """The definition as OpenAI's ``tools=[...]`` takes it."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }

    def identity(self) -> dict[str, Any]:
        """What makes this tool this tool, for cache keys: a changed schema or function body is a new tool."""
        data = {"name": self.name, "description": self.description, "parameters": self.parameters}
        if self.source_sha256:
            data["source_sha256"] = self.source_sha256
        return data

    def argument_errors(self, arguments: Any) -> str | None:
        """Why ``arguments`` break this tool's schema (``None`` when they fit)."""
        if not isinstance(arguments, Mapping):
            return f"arguments of {self.name} are not a JSON object: {str(arguments)[:80]!r}"
        import jsonschema

        error = jsonschema.exceptions.best_match(_validator(self.parameters).iter_errors(dict(arguments)))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"arguments of {self.name} break its schema{f' at {where}' if where else ''}: {error.message}"

    def signature(self) -> str:
        """``name(city: string, days?: integer)`` — how a prompt's tool block shows the tool."""
        properties = dict(self.parameters.get("properties") or {})
        required = set(self.parameters.get("required") or ())
        args = []
        for key, spec in properties.items():
            kind = spec.get("type", "any") if isinstance(spec, Mapping) else "any"
            if isinstance(spec, Mapping) and "enum" in spec:
                kind = "|".join(json.dumps(v, ensure_ascii=False) for v in spec["enum"])
            args.append(f"{key}{'' if key in required else '?'}: {kind if isinstance(kind, str) else '|'.join(kind)}")
        return f"{self.name}({', '.join(args)})"


_VALIDATORS: dict[str, Any] = {}


def _validator(schema: Mapping[str, Any]) -> Any:
    """One validator per distinct schema (building one costs more than validating a call)."""
    key = json.dumps(schema, sort_keys=True, default=str)
    found = _VALIDATORS.get(key)
    if found is None:
        import jsonschema

        found = _VALIDATORS[key] = jsonschema.validators.validator_for(schema)(schema)
    return found


@dataclass(frozen=True)
class AgentOptions:
    """``agent:`` in a template: at most ``max_steps`` model calls per row; a Python tool gets ``tool_timeout``
    seconds before its call becomes an error result."""

    max_steps: int = DEFAULT_MAX_STEPS
    tool_timeout: float = DEFAULT_TOOL_TIMEOUT

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> AgentOptions:
        return cls(**dict(data or {}))


@dataclass(frozen=True)
class ToolSet:
    """The tools one template declares, in the order it declares them, and its agent options."""

    tools: tuple[Tool, ...] = ()
    agent: AgentOptions = AgentOptions()

    def __bool__(self) -> bool:
        return bool(self.tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools)

    def __len__(self) -> int:
        return len(self.tools)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tools)

    def get(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    @property
    def has_python(self) -> bool:
        return any(t.is_python for t in self.tools)

    def openai(self) -> tuple[dict[str, Any], ...]:
        return tuple(t.openai() for t in self.tools)

    def identity(self) -> dict[str, Any]:
        return {
            "tools": [t.identity() for t in self.tools],
            "agent": {"max_steps": self.agent.max_steps, "tool_timeout": self.agent.tool_timeout},
        }

    def block(self) -> str:
        """The standard block that tells a completion model which tools it has and how to call one (filled into
        ``{{ tools }}``, or put before the prompt by the agent loop for models without a tools API)."""
        lines = ["Tools:"]
        for tool in self.tools:
            lines.append(f"- {tool.signature()}" + (f" — {tool.description}" if tool.description else ""))
        lines.append(
            'To call a tool, write {"name": TOOL, "arguments": {...}}; to answer without a tool, write '
            '{"answer": TEXT}.'
        )
        return "\n".join(lines) + "\n"


def definition_problem(entry: Any) -> str | None:
    """Why one inline ``tools:`` entry is not an OpenAI-style function definition (``None`` when it is)."""
    if isinstance(entry, str):
        return None if TOOL_NAME.match(entry) else f"tool name {entry!r} must be {NAME_RULE}"
    if not isinstance(entry, Mapping):
        return "each tool must be a registered tool's name or a mapping {name, description, parameters}"
    body = _function_body(entry)
    if body is None:
        return "a tool of type 'function' needs a `function:` mapping {name, description, parameters}"
    unknown = sorted(set(body) - {"name", "description", "parameters", "strict"})
    if unknown:
        return f"unknown key `{unknown[0]}` in a tool; known: name, description, parameters, strict"
    name = body.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        return f"tool name {name!r} must be {NAME_RULE}"
    if not isinstance(body.get("description", ""), str):
        return f"the description of tool {name!r} must be text"
    return schema_problem(name, body.get("parameters", {"type": "object", "properties": {}}))


def schema_problem(name: str, parameters: Any) -> str | None:
    """Why a tool's ``parameters`` are not a JSON Schema of an object (``None`` when they are)."""
    if not isinstance(parameters, Mapping):
        return f"`parameters` of tool {name!r} must be a JSON Schema mapping, e.g. {{type: object, properties: {{}}}}"
    import jsonschema

    try:
        jsonschema.validators.validator_for(parameters).check_schema(parameters)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return (
            f"`parameters` of tool {name!r} is not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}"
        )
    if parameters.get("type") != "object":
        return f"`parameters` of tool {name!r} must describe an object (type: object), as OpenAI's API requires"
    return None


def _function_body(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if "function" in entry or entry.get("type") == "function":
        extra = set(entry) - {"type", "function"}
        body = entry.get("function")
        return body if isinstance(body, Mapping) and not extra else None
    return entry


def tool_from_definition(entry: Mapping[str, Any]) -> Tool:
    """A declared-only tool from an (already checked) OpenAI-style definition, flat or ``{type, function}``."""
    body = _function_body(entry) or {}
    parameters = body.get("parameters") or {"type": "object", "properties": {}}
    return Tool(str(body["name"]), str(body.get("description") or ""), dict(parameters))


def entry_name(entry: Any) -> str | None:
    """The tool name a ``tools:`` entry declares (a registered name, or the definition's name)."""
    if isinstance(entry, str):
        return entry
    body = _function_body(entry) if isinstance(entry, Mapping) else None
    name = body.get("name") if body else None
    return name if isinstance(name, str) else None


def duplicate_names(entries: Iterable[Any]) -> list[tuple[int, str]]:
    """(index, name) of every entry whose name an earlier entry already declared."""
    seen: set[str] = set()
    found = []
    for index, entry in enumerate(entries):
        name = entry_name(entry)
        if name is None:
            continue
        if name in seen:
            found.append((index, name))
        seen.add(name)
    return found


def tool_choice_problem(choice: Any, names: Iterable[str]) -> str | None:
    """Why a ``tool_choice`` is not one of OpenAI's forms naming a declared tool (``None`` when it is)."""
    known = list(names)
    if isinstance(choice, str):
        if choice in TOOL_CHOICES:
            return None
        return (
            f"tool_choice must be auto, none, required or {{type: function, function: {{name: TOOL}}}}, not {choice!r}"
        )
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if choice.get("type") == "function" and isinstance(name, str):
            if name in known:
                return None
            return (
                f"tool_choice names tool {name!r}, which the template does not declare (declared: {', '.join(known)})"
            )
    return "tool_choice must be auto, none, required or {type: function, function: {name: TOOL}}"


def chosen_tool(choice: Any) -> str | None:
    """The tool a ``tool_choice`` forces (``{type: function, function: {name}}``), else ``None``."""
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return function["name"]
    return None


def source_sha256(function: Callable[..., Any]) -> str:
    """sha256 of a function's source (its code object's bytes when the source is not available): a changed tool
    body changes the cache key, so a fixed tool is never answered from the old one's cache."""
    try:
        text = inspect.getsource(function)
    except (OSError, TypeError):
        code = getattr(function, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code is not None else repr(function)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_unique(tools: Iterable[Tool]) -> None:
    names = [t.name for t in tools]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(f"Two tools are named {doubled[0]!r}; each tool needs its own name.")
