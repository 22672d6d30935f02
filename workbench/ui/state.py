"""What the panels share: the prompt library, the run store, the bad-case tracker and the latest run."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.badcases import BadCaseTracker
from workbench.paths import project_root
from workbench.prompts import PromptLibrary
from workbench.store import Store


@dataclass
class WorkbenchState:
    library: PromptLibrary = field(default_factory=PromptLibrary)
    store: Store = field(default_factory=Store)
    datasets_dir: Path = field(default_factory=lambda: project_root() / "datasets")
    last_run_id: str | None = None
    listeners: dict[str, list[Callable[..., None]]] = field(default_factory=dict)

    @property
    def tracker(self) -> BadCaseTracker:
        return BadCaseTracker(self.store)

    def dataset_files(self) -> list[str]:
        found = sorted(p for p in self.datasets_dir.glob("*") if p.suffix in (".csv", ".jsonl"))
        return [str(p) for p in found]

    def on(self, event: str, callback: Callable[..., None]) -> None:
        self.listeners.setdefault(event, []).append(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in self.listeners.get(event, []):
            callback(*args)


def error_html(exc: BaseException | str) -> str:
    """An error as a readable message in the panel (not a traceback)."""
    return (f"<div style='color:#b00020;white-space:pre-wrap;font-family:monospace' class='wb-error'>"
            f"⚠ {html.escape(str(exc))}</div>")  # fmt: skip


def info_html(text: str) -> str:
    return f"<div style='color:#1b5e20' class='wb-info'>{html.escape(text)}</div>"


def pre(text: str) -> str:
    return f"<pre style='white-space:pre-wrap;max-height:24em;overflow:auto'>{html.escape(text)}</pre>"
