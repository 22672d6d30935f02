"""The Template tab's version diff: pick two versions of the open template and see what changed (the file, or the
two renders with the examples). The two newest are chosen whenever the template or its versions change."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.ui.diff import version_diff_html
from workbench.ui.state import WIDE, WorkbenchState


class VersionDiff(w.VBox):
    def __init__(self, state: WorkbenchState):
        self.state = state
        say = state.t
        self.name: str | None = None
        self.a = w.Dropdown(description=say("editor.diff"), layout=w.Layout(width="140px"))
        self.b = w.Dropdown(description=say("editor.against"), layout=w.Layout(width="160px"), style=WIDE)
        self.rendered = w.Checkbox(description=say("editor.diff_rendered"), value=False, style=WIDE)
        self.output = w.HTML()
        for widget in (self.a, self.b, self.rendered):
            widget.observe(self.refresh_diff, "value")
        super().__init__([w.HBox([self.a, self.b, self.rendered], layout=w.Layout(flex_flow="row wrap")), self.output])

    def show(self, name: str | None) -> None:
        """The versions of ``name`` (None: a new template), the two newest chosen."""
        self.name = name
        versions = self.state.library.versions(name) if name else []
        options = [(f"v{v}", v) for v in versions]
        self.a.options, self.b.options = options, options
        if len(versions) >= 2:
            self.a.value, self.b.value = versions[-2], versions[-1]
        self.refresh_diff()

    def refresh_diff(self, change: Any = None) -> None:
        name = self.name
        if not name or self.a.value is None or self.b.value is None or self.a.value == self.b.value:
            self.output.value = f"<i>{html.escape(self.state.t('editor.one_version'))}</i>" if name else ""
            return
        a, b = self.state.library.get(name, self.a.value), self.state.library.get(name, self.b.value)
        self.output.value = version_diff_html(a, b, rendered=self.rendered.value, say=self.state.t)
