"""The template file format as a reference, read from the code that checks it: every front-matter key from the
pydantic models of :mod:`workbench.prompts.frontmatter`, every output parser and scorer from their registries with
the options each takes (type, default, meaning) — so the documentation (``docs/reference/templates.md``, filled in
at build time by ``docs/hooks.py``) cannot drift from what a template file may say.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from workbench.optiondoc import REQUIRED, Option, options_of

# The sections of a template's front matter, in the order a file usually has them: (heading, where, model).
SECTIONS = [
    ("Top-level keys", "", "FrontMatter"),
    ("`model:`", "model.", "ModelSection"),
    ("`model.parameters:`", "model.parameters.", "Parameters"),
    ("`inputs.NAME:`", "inputs.NAME.", "InputSection"),
    ("`output:`", "output.", "OutputSection"),
    ("`assertions:` (each item)", "assertions[].", "Assertion"),
    ("`retrieval.NAME:`", "retrieval.NAME.", "RetrievalSection"),
]


def front_matter_options() -> list[tuple[str, str, list[Option]]]:
    """(heading, docstring, options) per section of the front matter."""
    from workbench.prompts import frontmatter

    found = []
    for heading, prefix, model_name in SECTIONS:
        model: type[BaseModel] = getattr(frontmatter, model_name)
        options = [
            Option(
                prefix + name,
                type_name(field.annotation, field.metadata),
                _default(field.default),
                field.description or "",
            )
            for name, field in model.model_fields.items()
        ]
        found.append((heading, _doc(model), options))
    return found


def parser_options() -> list[tuple[str, str, list[Option]]]:
    """(name, docstring, options) per registered output parser (a plugin without documented options: none)."""
    from workbench.parsers import PARSERS, parser_class

    found = []
    for name in PARSERS.names():
        cls = parser_class(name)
        found.append((name, _doc(cls) if cls else _doc(PARSERS.get(name)), options_of(cls) if cls else []))
    return found


def scorer_options() -> list[tuple[str, str, list[Option], tuple[str, ...]]]:
    """(name, docstring, options, dataset columns it reads by default) per registered scorer."""
    from workbench.scoring import SCORERS

    found = []
    for name in SCORERS.names():
        cls = SCORERS.get(name)
        options = sorted(options_of(cls), key=lambda o: o.name == "name")  # `name` (common to all) last
        try:
            columns = tuple(cls().required_columns())
        except Exception:  # a plugin scorer that needs options to exist
            columns = ()
        found.append((name, _doc(cls), options, columns))
    return found


def reference_markdown() -> str:
    """The whole reference as Markdown (tables), for the documentation site."""
    out = ["## Front matter", ""]
    for heading, doc, options in front_matter_options():
        out += [f"### {heading}", "", doc, "", *_table(options), ""]
    out += [
        "## Output parsers",
        "",
        "`output: {parser: NAME, ...}`. Every parser also takes `method` and `constrain` (see `output:` above).",
        "",
    ]
    for name, doc, options in parser_options():
        out += [f"### `{name}`", "", doc, ""]
        out += [*_table(options), ""] if options else ["No options.", ""]
    out += [
        "## Scorers",
        "",
        "`assertions: [{type: NAME, ...}]` — each item names a scorer and gives its options beside `type`.",
        "",
    ]
    for name, doc, options, columns in scorer_options():
        out += [f"### `{name}`", "", doc, ""]
        if columns:
            out += [
                f"Reads the dataset column{'s' if len(columns) > 1 else ''} {', '.join(f'`{c}`' for c in columns)}"
                " unless `value:` is given.",
                "",
            ]
        out += [*_table(options), ""]
    return "\n".join(out)


def _table(options: list[Option]) -> list[str]:
    rows = ["| key | type | default | what it does |", "|---|---|---|---|"]
    for o in options:
        rows.append(f"| `{o.name}` | {_cell(o.type)} | {_cell(_shown(o.default))} | {_cell(o.doc)} |")
    return rows


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _shown(default: Any) -> str:
    if default == REQUIRED:
        return "*required*"
    if default is None:
        return "—"
    if isinstance(default, BaseModel):
        return "see below"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, str):
        return f"`{default}`" if default else '`""`'
    return f"`{default}`"


def _default(value: Any) -> Any:
    return REQUIRED if value is PydanticUndefined else value


def _doc(obj: Any) -> str:
    """The first paragraph of a docstring, on one line."""
    text = inspect.getdoc(obj) or ""
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(text.split("\n\n")[0].split()))  # reST literals → Markdown


def type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A type as a reader of a YAML file thinks of it: ``int ≥ 1``, ``list of str``, ``completion | chat``."""
    bounds = _bounds(metadata or [])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0], [*args[1:], *(metadata or [])])
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args if a is not type(None)) + (" | null" if type(None) in args else "")
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {type_name(args[1])}" if len(args) == 2 else "map"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    name = {int: "int", float: "number", str: "str", bool: "bool"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )
    return name + bounds


def _bounds(metadata: list[Any]) -> str:
    parts = _bound_parts(metadata)
    return (" " + ", ".join(parts)) if parts else ""


def _bound_parts(metadata: list[Any]) -> list[str]:
    parts = []
    for item in metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:g}" if isinstance(value, float) else f"{sign} {value}")
        parts += _bound_parts(list(getattr(item, "metadata", None) or []))  # a Field(...) inside Annotated
    return parts
