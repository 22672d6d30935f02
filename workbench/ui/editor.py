"""Template editor: the file as written, in a real code editor, with a live preview, error markers and versions.

- The editor shows the ``.prompty`` file byte for byte (CodeMirror: line numbers, YAML + Jinja highlighting, find,
  Tab indents). Saving (the button or Ctrl/Cmd+S) writes exactly what was typed; only its ``version:`` line
  changes to the next version number. Opening a template and saving it unchanged writes nothing.
- The preview follows typing (the editor sends its text 300 ms after the last key) against the examples or a row
  of any dataset (the template's own by default), and names the row it shows; an error puts a marker on the line
  it names. A save that is refused says "Not saved" and why; the message goes once the text is fixed.
- Two editors on one file (two notebooks, two ``Workbench()``): when the file changes on disk after it was opened
  here, the editor says so and offers to reload it or to show the difference; a save never silently overwrites the
  other change (it is refused until you reload, or choose to save yours as the next version on top of it).
- A new template must have a name the library does not have yet (else it would silently become that template's
  next version). Switching templates with unsaved edits asks first. Every action replaces the messages of the one
  before.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.datasets import load_dataset, public_fields
from workbench.errors import ConflictError, TemplateError, WorkbenchError
from workbench.models.base import prompt_as_text
from workbench.prompts import PromptTemplate
from workbench.ui.code_editor import CodeEditor
from workbench.ui.diff import version_diff_html
from workbench.ui.disk_warning import DiskWarning
from workbench.ui.state import WIDE, Messages, WorkbenchState, button, error_html, pre
from workbench.ui.styles import as_panel, style_widget

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
        self.disk_warning = DiskWarning()
        self.disk_text, self.disk_diff = self.disk_warning.text, self.disk_warning.diff
        self.reload_button, self.overwrite_button = self.disk_warning.reload_button, self.disk_warning.overwrite_button
        self.disk_diff_button = self.disk_warning.diff_button
        self.diff_a = w.Dropdown(description="Diff", layout=w.Layout(width="140px"))
        self.diff_b = w.Dropdown(description="against", layout=w.Layout(width="160px"), style=WIDE)
        self.diff_rendered = w.Checkbox(description="rendered with the examples", value=False, style=WIDE)
        self.diff_output = w.HTML()
        self.current: str | None = None  # the template open in the editor
        self.loaded_text = ""  # the file text as last opened or saved: what "unsaved" is measured against
        self.loaded_version: int | None = None  # its version: a save must start from the version on disk
        self._pending: str | None = None  # the template the user asked to switch to while having unsaved edits
        self._picking = False
        self._save_refused = False  # the messages show why the last save was refused
        self._wire()
        super().__init__(
            [
                style_widget(),
                w.HBox([self.template_picker, self.save_button], layout=w.Layout(flex_flow="row wrap")),
                self.confirm,
                self.disk_warning,
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
        as_panel(self, "wb-editor")
        names = self.state.library.names()
        self.open_template(names[0] if names else None)

    def _wire(self) -> None:
        self.template_picker.observe(self._on_pick, "value")
        self.code.observe(self._on_text, "value")
        for widget in (self.dataset, self.row):
            widget.observe(self._refresh_preview, "value")
        for widget in (self.diff_a, self.diff_b, self.diff_rendered):
            widget.observe(self._refresh_diff, "value")
        self.save_button.on_click(self.save)
        self.code.on_save(lambda editor: self.save())
        self.discard_button.on_click(lambda b: self._switch(self._pending))
        self.keep_button.on_click(self._keep_editing)
        self.reload_button.on_click(lambda b: self.reload())
        self.disk_diff_button.on_click(lambda b: self.show_disk_diff())
        self.overwrite_button.on_click(lambda b: self.save_over_disk())

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
        self.loaded_text = self._read_disk() if name else BLANK
        self.loaded_version = self._version_of(self.loaded_text)
        self._set_picker(name or NEW)
        self.confirm.layout.display = "none"
        self._pending = None
        self._save_refused = False
        self._hide_disk_warning()
        self.messages.clear()
        self.code.markers = []
        self.code.value = self.loaded_text
        own = self.state.dataset_of(self._parse_quietly())
        self.dataset.value = own or EXAMPLES
        self.row.value = 0
        self._refresh_versions()
        self._refresh_preview()

    def refresh(self) -> None:
        """Re-read the library's list of templates (the one open stays open) and look whether its file changed."""
        self._set_picker(self.current or NEW, options=[NEW, *self.state.library.names()])
        shown = self.dataset.value
        options = [(EXAMPLES, EXAMPLES), *self.state.dataset_options()]
        with self.hold_trait_notifications():  # new options reset a Dropdown: keep the dataset previewed
            self.dataset.options = options
            self.dataset.value = shown if shown in [value for _, value in options] else EXAMPLES
        self._refresh_versions()
        self.check_disk()

    def _set_picker(self, value: str, options: list[str] | None = None) -> None:
        self._picking = True
        try:
            if options is not None:
                self.template_picker.options = options
            self.template_picker.value = value
        finally:
            self._picking = False

    def _on_pick(self, change: Any) -> None:
        if self._picking:
            return
        target = None if change["new"] == NEW else change["new"]
        if target == self.current:
            return
        if self.dirty:
            self._pending = target
            self._set_picker(self.current or NEW)  # stay until the user decides
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

    # -- the file on disk --------------------------------------------------------------------------
    def _read_disk(self) -> str:
        path = self.state.library.path_of(self.current) if self.current else None
        return path.read_text(encoding="utf-8") if path is not None and path.exists() else ""

    def _version_of(self, text: str) -> int | None:
        try:
            return PromptTemplate.from_string(text).version if text else None
        except WorkbenchError:
            return None

    @property
    def changed_on_disk(self) -> bool:
        """The file is no longer what this editor opened or saved (another editor, notebook or process saved it)."""
        return self.current is not None and self._read_disk() != self.loaded_text

    def check_disk(self) -> bool:
        """Show (or hide) the "changed on disk" warning; ``True`` when the file changed."""
        if not self.changed_on_disk:
            self._hide_disk_warning()
            return False
        self.disk_warning.show(self.state.library.path_of(self.current), self.loaded_version, self._disk_version())
        return True

    def _disk_version(self) -> int | None:
        return self._version_of(self._read_disk())

    def _hide_disk_warning(self) -> None:
        self.disk_warning.hide()

    def reload(self) -> None:
        """Open the file as it is on disk now (the warning's "Reload")."""
        self.open_template(self.current)
        self.messages.info(f"Reloaded {self.current} from disk (v{self.loaded_version}).")

    def show_disk_diff(self) -> None:
        """The file on disk against the text in the editor."""
        self.disk_warning.show_diff(self._read_disk(), self.code.value, self._disk_version())

    def save_over_disk(self) -> PromptTemplate | None:
        """Save the editor's text as the next version after the one on disk (that one stays in the history)."""
        self.loaded_text = self._read_disk()
        self.loaded_version = self._version_of(self.loaded_text)
        return self.save()

    # -- parsing, preview, markers --------------------------------------------------------------
    def parse(self) -> PromptTemplate:
        path = self.state.library.path_of(self.current) if self.current else None
        return PromptTemplate.from_string(self.code.value, path=path)

    def _parse_quietly(self) -> PromptTemplate | None:
        try:
            return self.parse()
        except WorkbenchError:
            return None

    def _show_error(self, exc: WorkbenchError, target: w.HTML, *, prefix: str = "") -> None:
        target.value = error_html(f"{prefix}{exc}")
        line = getattr(exc, "line", None)
        self.code.markers = [{"line": int(line), "message": str(exc), "severity": "error"}] if line else []

    def _on_text(self, change: Any = None) -> None:
        self._refresh_preview()
        self.check_disk()  # one small read per synced edit: the warning comes while you type, not at Save

    def _refresh_preview(self, change: Any = None) -> None:
        try:
            template = self.parse()
        except WorkbenchError as exc:
            self.variables.value = ""
            self._show_error(exc, self.preview)
            return
        self.code.markers = []
        if self._save_refused:  # the text that was refused parses now: its "Not saved" message is history
            self._save_refused = False
            self.messages.clear()
        names = ", ".join(f"<code>{v}</code>" for v in template.variables) or "(none)"
        self.variables.value = f"<b>Variables:</b> {names} &nbsp; <b>kind:</b> {template.api}"
        try:
            values, heading = self._preview_values(template)
            self.preview.value = f"<b>Preview</b> — {heading}" + pre(prompt_as_text(template.render(values)))
        except TemplateError as exc:
            self._show_error(exc, self.preview)
        except WorkbenchError as exc:
            self.preview.value = error_html(exc)

    def _preview_values(self, template: PromptTemplate) -> tuple[dict[str, Any], str]:
        """The values to render with, and a heading that says where they come from (row, id, expected)."""
        values = dict(template.examples)
        heading = "with the template's examples"
        if self.dataset.value != EXAMPLES:
            data = load_dataset(self.dataset.value)
            self.row.max = max(0, len(data) - 1)
            index = min(self.row.value, len(data) - 1)
            row = data.rows[index]
            values.update(public_fields(row))
            heading = self._row_heading(data, index, row)
        values.update(template.retrieval_placeholders())
        return values, heading

    def _row_heading(self, data: Any, index: int, row: dict[str, Any]) -> str:
        name = html.escape(str(self.dataset.label))
        row_id = row.get(data.id_column, row.get("id"))
        facts = [f"row {index} of {len(data)} in {name}"]
        if row_id not in (None, ""):
            facts.append(f"id <code>{html.escape(str(row_id))}</code>")
        if row.get("expected") not in (None, ""):
            facts.append(f"expected <b>{html.escape(str(row['expected']))}</b>")
        return " · ".join(facts)

    def _refresh_versions(self) -> None:
        versions = self.state.library.versions(self.current) if self.current else []
        options = [(f"v{v}", v) for v in versions]
        self.diff_a.options, self.diff_b.options = options, options
        if len(versions) >= 2:
            self.diff_a.value, self.diff_b.value = versions[-2], versions[-1]
        self._refresh_diff()

    def _refresh_diff(self, change: Any = None) -> None:
        name = self.current
        if not name or self.diff_a.value is None or self.diff_b.value is None or self.diff_a.value == self.diff_b.value:
            self.diff_output.value = "<i>Only one version so far: save an edit to compare versions.</i>" if name else ""
            return
        a, b = self.state.library.get(name, self.diff_a.value), self.state.library.get(name, self.diff_b.value)
        self.diff_output.value = version_diff_html(a, b, rendered=self.diff_rendered.value)

    # -- saving ---------------------------------------------------------------------------------
    def save(self, button: Any = None) -> PromptTemplate | None:
        """Save the text as the next version (never overwriting one a run may have used, nor another editor's
        save)."""
        self.messages.clear()
        try:
            template = self.parse()
            self._check_name(template)
            if self.changed_on_disk:
                self.check_disk()
                raise ConflictError(
                    f"{self.state.library.path_of(self.current).name} changed on disk since you opened it. Reload "
                    "it, look at the difference, or save yours as the next version (the buttons above)."
                )
            before = self.state.library.versions(template.name) if self.current == template.name else []
            saved = self.state.library.save(template, expected_version=self._expected_version(template))
        except ConflictError as exc:
            self.check_disk()
            self._refuse(exc)
            return None
        except WorkbenchError as exc:
            self._refuse(exc)
            return None
        self._saved(saved, before)
        return saved

    def _expected_version(self, template: PromptTemplate) -> int | None:
        """The version this edit started from, when it edits the template that was opened."""
        return self.loaded_version if self.current == template.name else None

    def _check_name(self, template: PromptTemplate) -> None:
        """A template saved under another template's name would silently become that template's next version."""
        if template.name == self.current or not self.state.library.path_of(template.name).exists():
            return
        existing = self.state.library.get(template.name)
        line = next((i for i, text in enumerate(self.code.value.splitlines(), 1) if text.startswith("name:")), None)
        raise TemplateError(
            f"The library already has a template named {template.name!r} (v{existing.version}). Give this one "
            f"another name on its `name:` line, or open {template.name} from the Template list to edit it.",
            line=line,
        )

    def _refuse(self, exc: WorkbenchError) -> None:
        self._save_refused = True
        self._show_error(exc, self.messages, prefix="Not saved: ")

    def _saved(self, saved: PromptTemplate, before: list[int]) -> None:
        self.code.markers = []
        self._save_refused = False
        if before and saved.version in before:
            self.messages.info(f"No changes: {saved.ref} is already saved as it is.")
        else:
            self.messages.info(f"Saved {saved.ref} to {saved.path}")
        self.loaded_text = saved.to_text()
        self.loaded_version = saved.version
        self.code.value = self.loaded_text  # the same text, with its version line updated
        self.current = saved.name
        self._hide_disk_warning()
        self._set_picker(saved.name, options=[NEW, *self.state.library.names()])
        self._refresh_versions()
        self.state.emit("template_saved", saved)
