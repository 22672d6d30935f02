"""The whole workbench in one widget: a header (the store, Refresh) and the editor, run panel, results, runs and
bad-case review as tabs, in English or 简体中文 (``lang=``, else ``WORKBENCH_LANG``, else the locale).

It follows what happens outside it: a run finished by notebook code in this kernel shows up in Results at once (the
core's in-process events) — a recheck joins the run list without replacing the run under review — and **Refresh**
picks up templates, runs and bad cases made by the CLI, another notebook or another process, leaving every choice
made in the tabs as it was. A template saved by another ``Workbench()`` in the same kernel shows up at once (the
widgets of one kernel share one notification of saves).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

import workbench.events as events
from workbench.i18n import resolve_language
from workbench.prompts import PromptLibrary
from workbench.store import Store, open_store, parse_location
from workbench.ui.editor import TemplateEditor
from workbench.ui.results import ResultsView
from workbench.ui.review import BadCaseReview
from workbench.ui.run_panel import RunPanel
from workbench.ui.runs_view import RunsView
from workbench.ui.state import TEMPLATE_SAVED, WorkbenchState, button
from workbench.ui.store_picker import StorePicker

TABS = ["template", "run", "results", "runs", "bad_cases"]
RESULTS_TAB = TABS.index("results")


class Workbench(w.VBox):
    """``Workbench()`` in a notebook cell. Options: ``library=`` folder, ``store=`` a SQLite path, a
    ``postgresql://`` URL or a Store (default: ``WORKBENCH_STORE``, else the project's ``.workbench/workbench.db``),
    ``datasets=`` folder, ``lang=`` ``"en"`` or ``"zh"``."""

    def __init__(
        self,
        *,
        library: str | Path | None = None,
        store: str | Path | Store | None = None,
        datasets: str | Path | None = None,
        lang: str | None = None,
        **kwargs: Any,
    ):
        lang = resolve_language(lang)  # a language we lack is an error before any store is opened or created
        created = _is_new(store)
        state = WorkbenchState(
            library=PromptLibrary(library) if library else PromptLibrary(),
            store=open_store(store),
            lang=lang,
        )
        if datasets:
            state.datasets_dir = Path(datasets)
        self.state = state
        self.editor = TemplateEditor(state)
        self.run_panel = RunPanel(state)
        self.results = ResultsView(state)
        self.runs = RunsView(state)
        self.review = BadCaseReview(state)
        self.tabs = w.Tab(
            children=[self.editor, self.run_panel, self.results, self.runs, self.review],
            titles=[state.t(f"app.tab.{tab}") for tab in TABS],
        )
        self.store_picker = StorePicker(state, created=created)
        self.refresh_button = button(state.t("common.refresh"), icon="refresh", tooltip=state.t("app.refresh_tooltip"))
        self.refresh_button.add_class("wb-refresh")
        self.refresh_button.on_click(lambda b: self.refresh())
        state.on("run_finished", lambda result: setattr(self.tabs, "selected_index", RESULTS_TAB))
        state.on("open_run", self._open_run)
        events.on(events.RUN_FINISHED, self._on_run_elsewhere)
        events.on(events.BAD_CASES_CHANGED, self._on_bad_cases)
        events.on(TEMPLATE_SAVED, self._on_template_saved)
        header = w.HBox(
            [
                w.HTML(f"<h2 style='margin:4px 12px 4px 0'>{state.t('common.title')}</h2>"),
                self.store_picker,
                self.refresh_button,
            ],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__([header, self.tabs], layout=w.Layout(width="100%", max_width="100%"), **kwargs)
        self.add_class("wb-app")

    def refresh(self) -> None:
        """Pick up templates, runs and bad cases made in code, by the CLI or by another process; the choices made in
        each tab (template, versions, dataset, the run shown, its filter and sort, the case shown) stay."""
        self.editor.refresh()
        self.run_panel.refresh()
        self.results.refresh_runs()
        self.runs.refresh()
        self.review.refresh()

    def _open_run(self, run_id: str) -> None:
        self.results.refresh_runs(select=run_id)
        self.tabs.selected_index = RESULTS_TAB

    def _on_run_elsewhere(self, result: Any) -> None:
        """A run finished in this kernel (notebook code, a recheck): list it; show it unless it is a recheck."""
        if not result.store.same_store(self.state.store):
            return
        origin = self.state.store.run(result.run_id).get("origin")
        self.results.refresh_runs(select=None if origin == "recheck" else result.run_id)
        self.runs.refresh()

    def _on_bad_cases(self, payload: Any) -> None:
        self.review.refresh()

    def _on_template_saved(self, payload: Any) -> None:
        """Another Workbench (or panel) in this kernel saved a template of this library: show the new version."""
        state, saved = payload
        if state is self.state or not _same_folder(saved.path.parent, self.state.library.root):
            return
        self.editor.refresh()
        self.state.emit("template_saved", saved)


def _is_new(store: str | Path | Store | None) -> bool:
    """Whether opening ``store`` creates a new SQLite file (the header then says the store is new and empty)."""
    if isinstance(store, Store):
        return False
    try:
        where = parse_location(store)
    except Exception:
        return False  # open_store says what is wrong
    return where.path is not None and not where.path.exists()


def _same_folder(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()
