"""Options and helpers the CLI's command groups share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.errors import WorkbenchError

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The run store: a SQLite file path, sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
        "(default: $WORKBENCH_STORE, else .workbench/workbench.db).",
    ),
]
FORMATS = ("table", "json")
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column at full width (tables otherwise fit the terminal).")
]
LibraryOpt = Annotated[Path | None, typer.Option("--library", help="Prompt library folder (default ./prompt_library).")]


def open_store(location: str | None) -> Any:
    from workbench.store import open_store as opener

    return opener(location)


def library(path: Path | None) -> Any:
    from workbench.prompts import PromptLibrary

    return PromptLibrary(path) if path else PromptLibrary()


def run_id_of(store: Any, run_id: str) -> str:
    """A full run id from an id, a unique prefix, or 'latest'."""
    if run_id == "latest":
        latest = store.latest_run_id()
        if latest is None:
            raise WorkbenchError("No runs yet in this store.")
        return latest
    return store.run(run_id)["id"]


def check_format(value: str) -> None:
    if value not in FORMATS:
        raise WorkbenchError(f"--format {value!r}: use one of {', '.join(FORMATS)}.")
