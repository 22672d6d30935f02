"""Template editor: pick or start a template, edit it, see its variables and a live preview, save, diff."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench.datasets import load_dataset, public_fields
from workbench.errors import WorkbenchError
from workbench.models.base import prompt_as_text
from workbench.prompts import PromptTemplate, diff_templates
from workbench.ui.state import WorkbenchState, error_html, info_html, pre

NEW = "(new template)"
BLANK = "---\nname: my_prompt\nversion: 1\ninputs:\n  text: {example: Hello}\n---\n{{ text }}\n"


class TemplateEditor(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.template_picker = w.Dropdown(description="Template", options=[NEW, *self.state.library.names()])
        self.text = w.Textarea(layout=w.Layout(width="100%", height="320px"), continuous_update=False)
        self.text.add_class("wb-template-text")
        self.variables = w.HTML()
        self.dataset = w.Dropdown(description="Preview row", options=["(examples)", *self.state.dataset_files()])
        self.row = w.BoundedIntText(description="Row", min=0, max=10_000, value=0, layout=w.Layout(width="160px"))
        self.preview = w.HTML()
        self.preview.add_class("wb-preview")
        self.save_button = w.Button(description="Save as new version", icon="save", button_style="primary")
        self.save_button.add_class("wb-save")
        self.message = w.HTML()
        self.diff_a = w.Dropdown(description="Diff", layout=w.Layout(width="160px"))
        self.diff_b = w.Dropdown(description="against", layout=w.Layout(width="160px"))
        self.diff_rendered = w.Checkbox(description="rendered", value=False)
        self.diff_output = w.HTML()
        self.template_picker.observe(self._on_pick, "value")
        for widget in (self.text, self.dataset, self.row):
            widget.observe(self._refresh_preview, "value")
        for widget in (self.diff_a, self.diff_b, self.diff_rendered):
            widget.observe(self._refresh_diff, "value")
        self.save_button.on_click(self.save)
        super().__init__([
            w.HBox([self.template_picker, self.save_button]), self.text, self.variables,
            w.HBox([self.dataset, self.row]), self.preview, self.message,
            w.HBox([self.diff_a, self.diff_b, self.diff_rendered]), self.diff_output,
        ], **kwargs)  # fmt: skip
        names = self.state.library.names()
        self.template_picker.value = names[0] if names else NEW
        self._on_pick()

    # -- behaviour ------------------------------------------------------------------------
    @property
    def current_name(self) -> str | None:
        return None if self.template_picker.value == NEW else self.template_picker.value

    def parse(self) -> PromptTemplate:
        path = self.state.library.path_of(self.current_name) if self.current_name else None
        return PromptTemplate.from_string(self.text.value, path=path)

    def _on_pick(self, change: Any = None) -> None:
        name = self.current_name
        self.text.value = self.state.library.get(name).to_text() if name else BLANK
        self._refresh_versions()
        self._refresh_preview()

    def _refresh_versions(self) -> None:
        versions = self.state.library.versions(self.current_name) if self.current_name else []
        options = [(f"v{v}", v) for v in versions]
        self.diff_a.options, self.diff_b.options = options, options
        if len(versions) >= 2:
            self.diff_a.value, self.diff_b.value = versions[-2], versions[-1]
        self._refresh_diff()

    def _refresh_preview(self, change: Any = None) -> None:
        try:
            template = self.parse()
        except WorkbenchError as exc:
            self.variables.value = ""
            self.preview.value = error_html(exc)
            return
        names = ", ".join(f"<code>{v}</code>" for v in template.variables) or "(none)"
        self.variables.value = f"<b>Variables:</b> {names} &nbsp; <b>kind:</b> {template.api}"
        try:
            values = dict(template.examples)
            if self.dataset.value != "(examples)":
                data = load_dataset(self.dataset.value)
                self.row.max = max(0, len(data) - 1)
                values.update(public_fields(data.rows[min(self.row.value, len(data) - 1)]))
            values.update(template.retrieval_placeholders())
            self.preview.value = "<b>Preview</b>" + pre(prompt_as_text(template.render(values)))
        except WorkbenchError as exc:
            self.preview.value = error_html(exc)

    def _refresh_diff(self, change: Any = None) -> None:
        name = self.current_name
        if not name or self.diff_a.value is None or self.diff_b.value is None:
            self.diff_output.value = ""
            return
        a, b = self.state.library.get(name, self.diff_a.value), self.state.library.get(name, self.diff_b.value)
        self.diff_output.value = pre(diff_templates(a, b, rendered=self.diff_rendered.value))

    def save(self, button: Any = None) -> PromptTemplate | None:
        """Save the edit as the next version (never overwriting one a run may have used)."""
        try:
            template = self.parse()
            saved = self.state.library.save(template)
        except WorkbenchError as exc:
            self.message.value = error_html(exc)
            return None
        self.message.value = info_html(f"Saved {saved.ref} to {saved.path}")
        names = self.state.library.names()
        if saved.name not in self.template_picker.options:
            self.template_picker.options = [NEW, *names]
        self.template_picker.value = saved.name
        self.text.value = saved.to_text()  # now carries the new version number
        self._refresh_versions()
        self.state.emit("template_saved", saved)
        return saved
