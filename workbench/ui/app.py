"""The whole workbench in one widget: editor, run panel, results and bad-case review as tabs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.prompts import PromptLibrary
from workbench.store import Store
from workbench.ui.editor import TemplateEditor
from workbench.ui.results import ResultsView
from workbench.ui.review import BadCaseReview
from workbench.ui.run_panel import RunPanel
from workbench.ui.state import WorkbenchState


class Workbench(w.VBox):
    """``Workbench()`` in a notebook cell. Options: ``library=`` folder, ``store=`` SQLite path, ``datasets=``."""

    def __init__(self, *, library: str | Path | None = None, store: str | Path | Store | None = None,
                 datasets: str | Path | None = None, **kwargs: Any):  # fmt: skip
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
        self.tabs = w.Tab(children=[self.editor, self.run_panel, self.results, self.review])
        for i, title in enumerate(["Template", "Run", "Results", "Bad cases"]):
            self.tabs.set_title(i, title)
        state.on("run_finished", lambda result: setattr(self.tabs, "selected_index", 2))
        super().__init__([w.HTML("<h2>Prompt Workbench</h2>"), self.tabs], **kwargs)
