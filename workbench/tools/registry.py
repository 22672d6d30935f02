"""Python tools: ``@wb.tool`` on a typed function registers it under its name, with its JSON Schema taken from the
signature by pydantic, so a template can name it in ``tools:``.

    import workbench as wb

    @wb.tool
    def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
        '''Current weather for a city.'''
        return {"city": city, "temperature": 21, "unit": unit}

Packages can ship tools through the ``workbench.tools`` entry-point group (``name = "module:function"``), the same
registry pattern as providers and scorers. The registry is the process's own: a template file only names a tool,
so opening a shared file never runs code nobody registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from workbench.errors import ConfigError
from workbench.registry import Registry
from workbench.tools.declarations import NAME_RULE, TOOL_NAME, Tool, source_sha256

F = TypeVar("F", bound=Callable[..., Any])

TOOLS: Registry[Any] = Registry("tool", group="workbench.tools", examples="Register one with @wb.tool on a function.")


def tool_from_function(
    function: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> Tool:
    """A :class:`Tool` from a typed function: parameters from its signature (pydantic), the description from its
    docstring's first paragraph."""
    from pydantic import ConfigDict, create_model

    name = name or function.__name__
    if not TOOL_NAME.match(name):
        raise ConfigError(f"Tool name {name!r} must be {NAME_RULE}; pass name= to @wb.tool.")
    try:  # annotations written as strings (``from __future__ import annotations``) resolve in the function's module
        signature = inspect.signature(function, eval_str=True)
    except NameError as exc:
        raise ConfigError(
            f"Tool {name!r}: a type in its signature cannot be resolved ({exc}); define the types at module level."
        ) from exc
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"Tool {name!r}: *args and **kwargs cannot be described to a model; name each argument.")
        annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    schema = _without_titles(model.model_json_schema())
    schema.setdefault("properties", {})
    doc = inspect.getdoc(function) or ""
    text = description if description is not None else doc.split("\n\n")[0].replace("\n", " ").strip()
    return Tool(name, text, schema, function=function, arguments_model=model, source_sha256=source_sha256(function))


def _without_titles(schema: Any) -> Any:
    """pydantic's schema without its generated ``title`` keys (noise in a prompt, and not what a user wrote)."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        cleaned = {k: _without_titles(v) for k, v in schema.items() if k != "title"}
        if isinstance(properties, dict):  # a property may itself be named "title"
            cleaned["properties"] = {k: _without_titles(v) for k, v in properties.items()}
        return cleaned
    if isinstance(schema, list):
        return [_without_titles(v) for v in schema]
    return schema


@overload
def tool(function: F, /) -> F: ...


@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[F], F]: ...


def tool(function: Any = None, /, *, name: str | None = None, description: str | None = None) -> Any:
    """Register a typed Python function as a tool a template can name (``@wb.tool`` or ``@wb.tool(name=...)``).
    The function is returned unchanged (still callable); its :class:`Tool` is ``function.workbench_tool``."""

    def register(fn: F) -> F:
        declared = tool_from_function(fn, name=name, description=description)
        TOOLS.register(declared.name, declared)
        fn.workbench_tool = declared  # type: ignore[attr-defined]
        return fn

    return register(function) if function is not None else register


def register_tool(entry: Tool | Callable[..., Any], *, name: str | None = None) -> Tool:
    """Register a :class:`Tool` (a declared one, or one with a function) or a function, without the decorator."""
    declared = entry if isinstance(entry, Tool) else tool_from_function(entry, name=name)
    TOOLS.register(name or declared.name, declared)
    return declared


def registered_tool(name: str) -> Tool:
    """The tool registered under ``name`` (an entry point's function is described on first use)."""
    entry = TOOLS.get(name)
    if isinstance(entry, Tool):
        return entry
    found = getattr(entry, "workbench_tool", None)
    declared = found if isinstance(found, Tool) else tool_from_function(entry, name=name)
    TOOLS.register(name, declared)
    return declared


def registered_names() -> list[str]:
    return TOOLS.names()


def resolve_tools(
    entries: Any, agent: Any = None, *, where: str | None = None, line_of: Callable[[int], int | None] | None = None
) -> Any:
    """The :class:`~workbench.tools.declarations.ToolSet` a template's ``tools:`` and ``agent:`` declare: inline
    definitions as they are, names looked up in this registry. An unknown name is a :class:`TemplateError` naming the
    file (``where``) and the entry's line (``line_of(index)``)."""
    from workbench.errors import TemplateError
    from workbench.tools.declarations import AgentOptions, ToolSet, check_unique, tool_from_definition

    tools = []
    for index, entry in enumerate(entries or ()):
        if not isinstance(entry, str):
            tools.append(tool_from_definition(entry))
            continue
        if entry not in TOOLS:
            known = TOOLS.names()
            raise TemplateError(
                f"No tool registered as {entry!r} (registered: {', '.join(known) if known else 'none yet'}). "
                "Register it in Python with @wb.tool before the run, or declare it inline as "
                "{name, description, parameters}.",
                path=where,
                line=line_of(index) if line_of else None,
            )
        tools.append(registered_tool(entry))
    check_unique(tools)
    return ToolSet(tuple(tools), AgentOptions.of(agent))


def template_toolset(template: Any) -> Any:
    """A template's :class:`~workbench.tools.declarations.ToolSet`, an unknown name reported at its file line."""
    from workbench.tools.declarations import ToolSet

    if not template.tools:
        return ToolSet()
    where = str(template.path) if template.path else f"<prompt {template.name}>"

    def line_of(index: int) -> int | None:
        from workbench.prompts.fileformat import split_front_matter
        from workbench.prompts.frontmatter import key_line

        if template.source is None:
            return None
        return key_line(split_front_matter(template.source, where)[0], ("tools", index))

    return resolve_tools(template.tools, template.agent, where=where, line_of=line_of)
