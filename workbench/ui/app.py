"""The whole workbench in one widget: editor, run panel, results and bad-case review as tabs.

It follows what happens outside it: a run finished by notebook code (or a recheck) in this kernel shows up in
Results at once (the core's in-process events), and **Refresh** picks up runs and bad cases made by the CLI or
another process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

import workbench.events as events
from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.ui.editor import TemplateEditor
from workbench.ui.results import ResultsView
from workbench.ui.review import BadCaseReview
from workbench.ui.run_panel import RunPanel
from workbench.ui.state import WorkbenchState, button

TITLES = ["Template", "Run", "Results", "Bad cases"]


class Workbench(w.VBox):
    """``Workbench()`` in a notebook cell. Options: ``library=`` folder, ``store=`` SQLite path, ``datasets=``."""

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
            store=store if isinstance(store, Store) else Store(store),
        )
        if datasets:
            state.datasets_dir = Path(datasets)
        self.state = state
        self.editor = TemplateEditor(state)
        self.run_panel = RunPanel(state)
        self.results = ResultsView(state)
        self.review = BadCaseReview(state)
        self.tabs = w.Tab(children=[self.editor, self.run_panel, self.results, self.review], titles=TITLES)
        self.refresh_button = button("Refresh", icon="refresh", tooltip="re-read the library, runs and bad cases")
        self.refresh_button.on_click(lambda b: self.refresh())
        state.on("run_finished", lambda result: setattr(self.tabs, "selected_index", 2))
        events.on(events.RUN_FINISHED, self._on_run_elsewhere)
        events.on(events.BAD_CASES_CHANGED, self._on_bad_cases)
        header = w.HBox(
            [w.HTML("<h2 style='margin:4px 12px 4px 0'>Prompt Workbench</h2>"), self.refresh_button],
            layout=w.Layout(align_items="center"),
        )
        super().__init__([header, self.tabs], layout=w.Layout(width="100%", max_width="100%"), **kwargs)
        self.add_class("wb-app")

    def refresh(self) -> None:
        """Pick up templates, runs and bad cases made in code, by the CLI or by another process."""
        self.run_panel.refresh()
        self.results.refresh_runs()
        self.review.refresh()

    def _on_run_elsewhere(self, result: Any) -> None:
        if result.store.same_store(self.state.store):
            self.results.refresh_runs(select=result.run_id)

    def _on_bad_cases(self, payload: Any) -> None:
        self.review.refresh()
