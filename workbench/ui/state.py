"""What the panels share: the prompt library, the run store, the bad-case tracker, and messages that clear."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench import i18n
from workbench.badcases import BadCaseTracker
from workbench.errors import WorkbenchError
from workbench.paths import project_root
from workbench.prompts import PromptLibrary, PromptTemplate
from workbench.store import Store

DATASET_SUFFIXES = (".csv", ".tsv", ".jsonl", ".xlsx", ".parquet")
TEMPLATE_SAVED = "ui.template_saved"  # on workbench.events: (state, template), for every Workbench in the kernel


@dataclass
class WorkbenchState:
    """The library, the store, the language and where files go, plus the panels' own events (``template_saved``,
    ``template_opened``, ``run_finished``, ``run_stopped``, ``bad_case_marked``, ``store_changed``, ``open_run``).

    ``lang`` is ``"en"`` or ``"zh"`` (default: :func:`workbench.i18n.resolve_language`); every panel's words come
    from ``state.t("part.key", **fields)``. ``running`` is true while the Run tab executes a run (the store picker
    does not switch stores under it).

    ``exports_dir`` is ``exports/`` in the notebook's folder: visible in JupyterLab's file browser and served by
    the Jupyter server (a hidden folder such as ``.workbench/`` is neither).
    """

    library: PromptLibrary = field(default_factory=PromptLibrary)
    store: Store = field(default_factory=Store)
    datasets_dir: Path = field(default_factory=lambda: project_root() / "datasets")
    exports_dir: Path = field(default_factory=lambda: Path.cwd() / "exports")
    last_run_id: str | None = None
    lang: str = field(default_factory=lambda: i18n.resolve_language(None))
    running: bool = False
    listeners: dict[str, list[Callable[..., None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lang = i18n.resolve_language(self.lang)

    @property
    def t(self) -> i18n.Messages:
        """This workbench's messages: ``state.t("results.filter.all")``."""
        return i18n.Messages(self.lang)

    @property
    def tracker(self) -> BadCaseTracker:
        return BadCaseTracker(self.store)

    def dataset_files(self) -> list[str]:
        found = sorted(p for p in self.datasets_dir.glob("*") if p.suffix in DATASET_SUFFIXES)
        return [str(p) for p in found]

    def dataset_options(self) -> list[tuple[str, str]]:
        """(file name, path) pairs for dropdowns: short labels, full paths as values."""
        return [(Path(f).name, f) for f in self.dataset_files()]

    def dataset_of(self, template: PromptTemplate | None) -> str | None:
        """The template's own dataset (its ``dataset:`` line), as one of :meth:`dataset_files`."""
        if template is None or not template.dataset:
            return None
        name = Path(template.dataset).name
        return next((f for f in self.dataset_files() if Path(f).name == name), None)

    def newest_ref(self, name: str) -> str | None:
        try:
            return f"{name}@v{max(self.library.versions(name))}"
        except Exception:
            return None

    def set_store(self, store: Store) -> None:
        """Work on another store from now on; every panel re-reads its runs and cases."""
        self.store = store
        self.last_run_id = None
        self.emit("store_changed", store)

    def on(self, event: str, callback: Callable[..., None]) -> None:
        self.listeners.setdefault(event, []).append(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in self.listeners.get(event, []):
            callback(*args)


class UIError(WorkbenchError):
    """An error the UI words itself, already in the user's language (no English-details hint above it)."""


class Messages(w.HTML):
    """A panel's message line: every action replaces (or clears) what the previous one said. ``say`` is the
    panel's language: an error the core raised in English gets a one-line hint in it above the details."""

    def __init__(self, say: i18n.Messages | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.say = say or i18n.Messages(i18n.DEFAULT)

    def error(self, exc: BaseException | str, *, lead: str = "") -> None:
        """An error; ``lead`` is a sentence of the UI's own that goes first (what was being done)."""
        self.value = error_html(exc, self.say, lead=lead)

    def info(self, text: str) -> None:
        self.value = info_html(text)

    def info_html(self, markup: str) -> None:
        """An info line that carries markup (a link); the caller escapes what it interpolates."""
        self.value = f"<div style='color:#1b5e20' class='wb-info'>{markup}</div>"

    def warn(self, text: str) -> None:
        self.value = (
            f"<div class='wb-warning' style='color:#8a6100;background:#fff8c5;padding:2px 6px'>"
            f"{html.escape(text)}</div>"
        )

    def clear(self) -> None:
        self.value = ""


def error_html(exc: BaseException | str, say: i18n.Messages | None = None, *, lead: str = "") -> str:
    """An error as a readable message in the panel (not a traceback). The core's errors are English: in another
    language a one-line hint in it comes first (what kind of error, "the details are in English")."""
    hint = error_hint(exc, say) if say is not None else ""
    above = "".join(
        f"<div class='wb-error-hint' style='color:#b00020'>{html.escape(text)}</div>" for text in (lead, hint) if text
    )
    return (
        f"{above}<div style='color:#b00020;white-space:pre-wrap;font-family:monospace' class='wb-error'>"
        f"⚠ {html.escape(str(exc))}</div>"
    )


def error_hint(exc: BaseException | str, say: i18n.Messages) -> str:
    """The hint for an English error in ``say``'s language ("" in English, and for the UI's own messages)."""
    if say.lang == "en" or isinstance(exc, str | UIError):
        return ""
    for cls in type(exc).__mro__:
        if say.has(f"common.error_hint.{cls.__name__}"):
            return say(f"common.error_hint.{cls.__name__}")
    return say("common.error_hint")


def info_html(text: str) -> str:
    return f"<div style='color:#1b5e20' class='wb-info'>{html.escape(text)}</div>"


def pre(text: str, *, max_height: str = "24em") -> str:
    return (
        f"<pre style='white-space:pre-wrap;max-height:{max_height};overflow:auto;margin:2px 0;line-height:1.35'>"
        f"{html.escape(text)}</pre>"
    )


def button(description: str, **kwargs: Any) -> w.Button:
    """A button sized to its label, so nothing is cut off ("Save as new v…")."""
    return w.Button(description=description, layout=w.Layout(width="auto", min_width="fit-content"), **kwargs)


WIDE = {"description_width": "initial"}  # labels are never truncated ("Temperat…")
