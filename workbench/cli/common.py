"""Options and helpers the CLI's command groups share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.errors import WorkbenchError

StoreOpt = Annotated[Path | None, typer.Option("--store", help="SQLite run store (default .workbench/workbench.db).")]
LibraryOpt = Annotated[Path | None, typer.Option("--library", help="Prompt library folder (default ./prompt_library).")]


def open_store(path: Path | None) -> Any:
    from workbench.store import Store

    return Store(path)


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
