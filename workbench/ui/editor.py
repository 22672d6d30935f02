"""Template editor: the file as written, in a real code editor, with a live preview, error markers and versions.

- The editor shows the ``.prompty`` file byte for byte (CodeMirror: line numbers, YAML + Jinja highlighting, find,
  Tab indents). Saving (the button or Ctrl/Cmd+S) writes exactly what was typed; only its ``version:`` line
  changes to the next version number. Opening a template and saving it unchanged writes nothing.
- The preview follows typing (the editor sends its text 300 ms after the last key) against the examples or a row
  of any dataset (the template's own by default); an error puts a marker on the line it names.
- Switching templates with unsaved edits asks first. Every action replaces the messages of the one before.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from workbench.datasets import load_dataset, public_fields
from workbench.errors import TemplateError, WorkbenchError
from workbench.models.base import prompt_as_text
from workbench.prompts import PromptTemplate, diff_templates
from workbench.ui.code_editor import CodeEditor
from workbench.ui.diff import unified_diff_html
from workbench.ui.state import WIDE, Messages, WorkbenchState, button, error_html, pre

NEW = "(new template)"
EXAMPLES = "(the template's examples)"
BLANK = "---\nname: my_prompt\nversion: 1\ninputs:\n  text: {example: Hello}\n---\n{{ text }}\n"


class TemplateEditor(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.template_picker = w.Dropdown(
            description="Template", options=[NEW, *self.state.library.names()], style=WIDE
        )
        self.template_picker.add_class("wb-template-picker")
        self.code = CodeEditor(height="420px")
        self.code.add_class("wb-template-text")
        self.variables = w.HTML()
        self.dataset = w.Dropdown(
            description="Preview with",
            style=WIDE,
            layout=w.Layout(width="auto"),
            options=[(EXAMPLES, EXAMPLES), *self.state.dataset_options()],
        )
        self.row = w.BoundedIntText(
            description="row", min=0, max=10_000, value=0, style=WIDE, layout=w.Layout(width="120px")
        )
        self.preview = w.HTML()
        self.preview.add_class("wb-preview")
        self.save_button = button(
            "Save as new version", icon="save", button_style="primary", tooltip="Ctrl/Cmd+S in the editor does the same"
        )
        self.save_button.add_class("wb-save")
        self.messages = Messages()
        self.messages.add_class("wb-editor-messages")
        self.confirm_text = w.HTML()
        self.discard_button = button("Discard my edits", button_style="warning")
        self.keep_button = button("Keep editing")
        self.confirm = w.HBox([self.confirm_text, self.discard_button, self.keep_button])
        self.confirm.layout.display = "none"
        self.diff_a = w.Dropdown(description="Diff", layout=w.Layout(width="140px"))
        self.diff_b = w.Dropdown(description="against", layout=w.Layout(width="160px"), style=WIDE)
        self.diff_rendered = w.Checkbox(description="rendered with the examples", value=False, style=WIDE)
        self.diff_output = w.HTML()
        self.current: str | None = None  # the template open in the editor
        self.loaded_text = ""  # the file text as last opened or saved: what "unsaved" is measured against
        self._pending: str | None = None  # the template the user asked to switch to while having unsaved edits
        self._picking = False
        self.template_picker.observe(self._on_pick, "value")
        self.code.observe(self._refresh_preview, "value")
        for widget in (self.dataset, self.row):
            widget.observe(self._refresh_preview, "value")
        for widget in (self.diff_a, self.diff_b, self.diff_rendered):
            widget.observe(self._refresh_diff, "value")
        self.save_button.on_click(self.save)
        self.code.on_save(lambda editor: self.save())
        self.discard_button.on_click(lambda b: self._switch(self._pending))
        self.keep_button.on_click(self._keep_editing)
        super().__init__(
            [
                w.HBox([self.template_picker, self.save_button], layout=w.Layout(flex_flow="row wrap")),
                self.confirm,
                self.messages,
                self.code,
                self.variables,
                w.HBox([self.dataset, self.row], layout=w.Layout(flex_flow="row wrap")),
                self.preview,
                w.HBox([self.diff_a, self.diff_b, self.diff_rendered], layout=w.Layout(flex_flow="row wrap")),
                self.diff_output,
            ],
            **kwargs,
        )
        names = self.state.library.names()
        self.open_template(names[0] if names else None)

    # -- opening and switching -------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.code.value != self.loaded_text

    @property
    def current_name(self) -> str | None:
        return self.current

    def open_template(self, name: str | None) -> None:
        """Show a template's file exactly as it is on disk (or a blank template), with its versions and preview."""
        self.current = name
        self.loaded_text = self.state.library.path_of(name).read_text(encoding="utf-8") if name else BLANK
        self._picking = True
        try:
            self.template_picker.value = name or NEW
        finally:
            self._picking = False
        self.confirm.layout.display = "none"
        self._pending = None
        self.messages.clear()
        self.code.markers = []
        self.code.value = self.loaded_text
        own = self.state.dataset_of(self._parse_quietly())
        self.dataset.value = own or EXAMPLES
        self.row.value = 0
        self._refresh_versions()
        self._refresh_preview()

    def _on_pick(self, change: Any) -> None:
        if self._picking:
            return
        target = None if change["new"] == NEW else change["new"]
        if target == self.current:
            return
        if self.dirty:
            self._pending = target
            self._picking = True
            try:
                self.template_picker.value = self.current or NEW  # stay until the user decides
            finally:
                self._picking = False
            self.confirm_text.value = (
                f"<b>{self.current or 'The new template'} has unsaved edits.</b> "
                f"Open {target or 'a new template'} anyway?"
            )
            self.confirm.layout.display = "flex"
            return
        self.open_template(target)

    def _switch(self, target: str | None) -> None:
        self.open_template(target)

    def _keep_editing(self, button: Any = None) -> None:
        self._pending = None
        self.confirm.layout.display = "none"

    # -- parsing, preview, markers --------------------------------------------------------------
    def parse(self) -> PromptTemplate:
        path = self.state.library.path_of(self.current) if self.current else None
        return PromptTemplate.from_string(self.code.value, path=path)

    def _parse_quietly(self) -> PromptTemplate | None:
        try:
            return self.parse()
        except WorkbenchError:
            return None

    def _show_error(self, exc: WorkbenchError, target: w.HTML) -> None:
        target.value = error_html(exc)
        line = getattr(exc, "line", None)
        self.code.markers = [{"line": int(line), "message": str(exc), "severity": "error"}] if line else []

    def _refresh_preview(self, change: Any = None) -> None:
        try:
            template = self.parse()
        except WorkbenchError as exc:
            self.variables.value = ""
            self._show_error(exc, self.preview)
            return
        self.code.markers = []
        names = ", ".join(f"<code>{v}</code>" for v in template.variables) or "(none)"
        self.variables.value = f"<b>Variables:</b> {names} &nbsp; <b>kind:</b> {template.api}"
        try:
            values = dict(template.examples)
            if self.dataset.value != EXAMPLES:
                data = load_dataset(self.dataset.value)
                self.row.max = max(0, len(data) - 1)
                values.update(public_fields(data.rows[min(self.row.value, len(data) - 1)]))
            values.update(template.retrieval_placeholders())
            self.preview.value = "<b>Preview</b>" + pre(prompt_as_text(template.render(values)))
        except TemplateError as exc:
            self._show_error(exc, self.preview)
        except WorkbenchError as exc:
            self.preview.value = error_html(exc)

    def _refresh_versions(self) -> None:
        versions = self.state.library.versions(self.current) if self.current else []
        options = [(f"v{v}", v) for v in versions]
        self.diff_a.options, self.diff_b.options = options, options
        if len(versions) >= 2:
            self.diff_a.value, self.diff_b.value = versions[-2], versions[-1]
        self._refresh_diff()

    def _refresh_diff(self, change: Any = None) -> None:
        name = self.current
        if not name or self.diff_a.value is None or self.diff_b.value is None:
            self.diff_output.value = "<i>Only one version so far: save an edit to compare versions.</i>" if name else ""
            return
        a, b = self.state.library.get(name, self.diff_a.value), self.state.library.get(name, self.diff_b.value)
        self.diff_output.value = unified_diff_html(diff_templates(a, b, rendered=self.diff_rendered.value))

    # -- saving ---------------------------------------------------------------------------------
    def save(self, button: Any = None) -> PromptTemplate | None:
        """Save the text as the next version (never overwriting one a run may have used)."""
        self.messages.clear()
        try:
            template = self.parse()
            exists = self.state.library.path_of(template.name).exists()
            before = self.state.library.versions(template.name) if exists else []
            saved = self.state.library.save(template)
        except WorkbenchError as exc:
            self._show_error(exc, self.messages)
            return None
        self.code.markers = []
        if before and saved.version in before:
            self.messages.info(f"No changes: {saved.ref} is already saved as it is.")
        else:
            self.messages.info(f"Saved {saved.ref} to {saved.path}")
        self.loaded_text = saved.to_text()
        self.code.value = self.loaded_text  # the same text, with its version line updated
        self.current = saved.name
        if saved.name not in self.template_picker.options:
            self._picking = True
            try:
                self.template_picker.options = [NEW, *self.state.library.names()]
                self.template_picker.value = saved.name
            finally:
                self._picking = False
        self._refresh_versions()
        self.state.emit("template_saved", saved)
        return saved
