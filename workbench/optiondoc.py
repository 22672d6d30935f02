"""Options that document themselves: a scorer's or parser's settings carry their type, default and meaning in the
code, so the template reference (``docs/reference/templates.md``, generated at build time) is read from the same
place the code reads — it cannot drift.

A scorer is a dataclass whose fields are its options: declare each with :func:`option`. A parser lists its options
as :class:`Option` records (its config keys are not all fields). :func:`options_of` reads either.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

REQUIRED = "(required)"


@dataclass(frozen=True)
class Option:
    """One setting of a parser or scorer, as the reference shows it."""

    name: str
    type: str
    default: Any = REQUIRED
    doc: str = ""


def option(default: Any = dataclasses.MISSING, doc: str = "", *, default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its documentation (``metadata["doc"]``)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"doc": doc})


def options_of(cls: Any) -> list[Option]:
    """The documented options of a scorer class (its init fields, private ones left out) or a parser (``OPTIONS``)."""
    declared = getattr(cls, "OPTIONS", None)
    if declared is not None:
        return list(declared)
    if not dataclasses.is_dataclass(cls):
        return []
    found = []
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_"):
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = REQUIRED
        found.append(Option(f.name, _type_name(f.type), default, f.metadata.get("doc", "")))
    return found


#: Python's names for types, in the words of a YAML file.
_READABLE = [
    ("typing.", ""),
    ("collections.abc.", ""),
    ("Callable[..., Any]", "function"),
    ("dict[str, Any]", "mapping"),
    ("Embedder", "embedder"),
    ("None", "null"),
    ("Any", "any"),
    ("float", "number"),
]


def _type_name(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    for python, readable in _READABLE:
        text = text.replace(python, readable)
    return text
