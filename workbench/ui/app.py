"""The whole workbench in one widget: a header (the store, Refresh) and the editor, run panel, results, runs,
bad-case review and the optimiser as tabs.

It follows what happens outside it: a run finished by notebook code in this kernel shows up in Results at once (the
core's in-process events) — a recheck joins the run list without replacing the run under review — and **Refresh**
picks up templates, runs and bad cases made by the CLI, another notebook or another process, leaving every choice
made in the tabs as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

import workbench.events as events
from workbench.prompts import PromptLibrary
from workbench.store import Store, open_store
from workbench.ui.editor import TemplateEditor
from workbench.ui.optimize_panel import OptimizePanel
from workbench.ui.results import ResultsView
from workbench.ui.review import BadCaseReview
from workbench.ui.run_panel import RunPanel
from workbench.ui.runs_view import RunsView
from workbench.ui.state import WorkbenchState, button
from workbench.ui.store_picker import StorePicker

TITLES = ["Template", "Run", "Results", "Runs", "Bad cases", "Optimize"]
RESULTS_TAB = TITLES.index("Results")


class Workbench(w.VBox):
    """``Workbench()`` in a notebook cell. Options: ``library=`` folder, ``store=`` a SQLite path, a
    ``postgresql://`` URL or a Store (default: ``WORKBENCH_STORE``), ``datasets=`` folder."""

    def __init__(
        self,
        *,
        library: str | Path | None = None,
        store: str | Path | Store | None = None,
        datasets: str | Path | None = None,
        **kwargs: Any,
    ):
        state = WorkbenchState(
            library=PromptLibrary(library) if library else PromptLibrary(),
            store=open_store(store),
        )
        if datasets:
            state.datasets_dir = Path(datasets)
        self.state = state
        self.editor = TemplateEditor(state)
        self.run_panel = RunPanel(state)
        self.results = ResultsView(state)
        self.runs = RunsView(state)
        self.review = BadCaseReview(state)
        self.optimizer = OptimizePanel(state)
        children = [self.editor, self.run_panel, self.results, self.runs, self.review, self.optimizer]
        self.tabs = w.Tab(children=children, titles=TITLES)
        self.store_picker = StorePicker(state)
        self.refresh_button = button(
            "Refresh", icon="refresh", tooltip="re-read the library, runs and bad cases (your choices stay)"
        )
        self.refresh_button.add_class("wb-refresh")
        self.refresh_button.on_click(lambda b: self.refresh())
        state.on("run_finished", lambda result: setattr(self.tabs, "selected_index", RESULTS_TAB))
        state.on("open_run", self._open_run)
        events.on(events.RUN_FINISHED, self._on_run_elsewhere)
        events.on(events.BAD_CASES_CHANGED, self._on_bad_cases)
        header = w.HBox(
            [
                w.HTML("<h2 style='margin:4px 12px 4px 0'>Prompt Workbench</h2>"),
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
        self.optimizer.refresh()

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
