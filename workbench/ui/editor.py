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
  next version). Unsaved edits are marked beside the template's name as soon as you type; switching templates with
  unsaved edits asks first (choosing the open template again cancels the question). Every action replaces the
  messages of the one before, and a refused save's "Not saved" goes as soon as the text changes.
- A save is announced to every ``Workbench()`` in the kernel (``TEMPLATE_SAVED`` on :mod:`workbench.events`), so a
  second workbench on the same library shows the new version without Refresh.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

import workbench.events as events
from workbench.datasets import load_dataset, public_fields
from workbench.errors import ConflictError, TemplateError, WorkbenchError
from workbench.models.base import prompt_as_text
from workbench.prompts import PromptTemplate
from workbench.ui.code_editor import CodeEditor
from workbench.ui.disk_warning import DiskWarning
from workbench.ui.state import TEMPLATE_SAVED, WIDE, Messages, UIError, WorkbenchState, button, error_html, pre
from workbench.ui.styles import as_panel, style_widget
from workbench.ui.version_diff import VersionDiff

NEW = "(new template)"  # the picker's value for a new template (its label comes from the catalogue)
EXAMPLES = "(examples)"  # the preview's value for the template's own examples (label: the catalogue's)
BLANK = "---\nname: my_prompt\nversion: 1\ninputs:\n  text: {example: Hello}\n---\n{{ text }}\n"


class _Refused(ConflictError, UIError):
    """A save refused by the editor itself (worded in the UI's language)."""


class _NameTaken(TemplateError, UIError):
    """A new template under a name the library has (worded in the UI's language; the marker goes on its line)."""


class TemplateEditor(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        say = self.state.t
        self.template_picker = w.Dropdown(description=say("editor.template"), options=self._names(), style=WIDE)
        self.template_picker.add_class("wb-template-picker")
        self.unsaved = w.HTML()
        self.unsaved.add_class("wb-unsaved")
        self.code = CodeEditor(height="420px")
        self.code.add_class("wb-template-text")
        self.variables = w.HTML()
        self.dataset = w.Dropdown(
            description=say("editor.preview_with"),
            style=WIDE,
            layout=w.Layout(width="auto"),
            options=self._dataset_options(),
        )
        self.row = w.BoundedIntText(
            description=say("editor.row"), min=0, max=10_000, value=0, style=WIDE, layout=w.Layout(width="120px")
        )
        self.preview = w.HTML()
        self.preview.add_class("wb-preview")
        self.save_button = button(
            say("editor.save"), icon="save", button_style="primary", tooltip=say("editor.save_tooltip")
        )
        self.save_button.add_class("wb-save")
        self.messages = Messages(say)
        self.messages.add_class("wb-editor-messages")
        self.confirm_text = w.HTML()
        self.confirm_text.add_class("wb-confirm-text")
        self.discard_button = button(say("editor.discard"), button_style="warning")
        self.keep_button = button(say("editor.keep"))
        self.confirm = w.HBox([self.confirm_text, self.discard_button, self.keep_button])
        self.confirm.layout.display = "none"
        self.confirm.add_class("wb-confirm")
        self.disk_warning = DiskWarning(say)
        self.disk_text, self.disk_diff = self.disk_warning.text, self.disk_warning.diff
        self.reload_button, self.overwrite_button = self.disk_warning.reload_button, self.disk_warning.overwrite_button
        self.disk_diff_button = self.disk_warning.diff_button
        self.versions = VersionDiff(self.state)
        self.diff_a, self.diff_b, self.diff_rendered = self.versions.a, self.versions.b, self.versions.rendered
        self.diff_output = self.versions.output
        self.current: str | None = None  # the template open in the editor
        self.loaded_text = ""  # the file text as last opened or saved: what "unsaved" is measured against
        self.loaded_version: int | None = None  # its version: a save must start from the version on disk
        self._pending: str | None = None  # the template the user asked to switch to while having unsaved edits
        self._picking = False
        self._refused_text: str | None = None  # the text whose save was refused (its message goes when it changes)
        self._wire()
        super().__init__(
            [
                style_widget(),
                w.HBox(
                    [self.template_picker, self.save_button, self.unsaved],
                    layout=w.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.confirm,
                self.disk_warning,
                self.messages,
                self.code,
                self.variables,
                w.HBox([self.dataset, self.row], layout=w.Layout(flex_flow="row wrap")),
                self.preview,
                self.versions,
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
        self.save_button.on_click(self.save)
        self.code.on_save(lambda editor: self.save())
        self.discard_button.on_click(lambda b: self._switch(self._pending))
        self.keep_button.on_click(self._keep_editing)
        self.reload_button.on_click(lambda b: self.reload())
        self.disk_diff_button.on_click(lambda b: self.show_disk_diff())
        self.overwrite_button.on_click(lambda b: self.save_over_disk())

    def _names(self) -> list[tuple[str, str]]:
        return [(self.state.t("editor.new_template"), NEW), *((n, n) for n in self.state.library.names())]

    def _dataset_options(self) -> list[tuple[str, str]]:
        return [(self.state.t("editor.examples"), EXAMPLES), *self.state.dataset_options()]

    # -- opening and switching -------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.code.value != self.loaded_text

    def open_template(self, name: str | None) -> None:
        """Show a template's file exactly as it is on disk (or a blank template), with its versions and preview."""
        self.current = name
        self.loaded_text = self._read_disk() if name else BLANK
        self.loaded_version = self._version_of(self.loaded_text)
        self._set_picker(name or NEW)
        self.confirm.layout.display = "none"
        self._pending = None
        self._refused_text = None
        self.disk_warning.hide()
        self.messages.clear()
        self.code.markers = []
        self.code.value = self.loaded_text
        own = self.state.dataset_of(self._parse_quietly())
        self.dataset.value = own or EXAMPLES
        self.row.value = 0
        self._refresh_versions()
        self._refresh_preview()
        self._show_unsaved()

    def refresh(self) -> None:
        """Re-read the library's list of templates (the one open stays open) and look whether its file changed."""
        self._set_picker(self.current or NEW, options=self._names())
        shown = self.dataset.value
        options = self._dataset_options()
        with self.hold_trait_notifications():  # new options reset a Dropdown: keep the dataset previewed
            self.dataset.options = options
            self.dataset.value = shown if shown in [value for _, value in options] else EXAMPLES
        self._refresh_versions()
        self.check_disk()

    def _set_picker(self, value: str, options: list[tuple[str, str]] | None = None) -> None:
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
            self._keep_editing()  # the open template chosen again: the question is answered
            return
        if self.dirty:
            say = self.state.t
            self._pending = target  # the picker shows it until the user decides (choosing the open one: stay)
            name = self.current or say("editor.the_new_template")
            self.confirm_text.value = (
                f"<b>{html.escape(say('editor.unsaved', name=name))}</b> "
                f"{html.escape(say('editor.open_anyway', target=target or say('editor.a_new_template')))}"
            )
            self.confirm.layout.display = "flex"
            return
        self._switch(target)

    def _switch(self, target: str | None) -> None:
        """The user opens ``target``: the Run tab follows (``template_opened``)."""
        self.open_template(target)
        self.state.emit("template_opened", target)

    def _keep_editing(self, button: Any = None) -> None:
        self._pending = None
        self.confirm.layout.display = "none"
        self._set_picker(self.current or NEW)

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
            self.disk_warning.hide()
            return False
        self.disk_warning.show(self.state.library.path_of(self.current), self.loaded_version, self._disk_version())
        return True

    def _disk_version(self) -> int | None:
        return self._version_of(self._read_disk())

    def reload(self) -> None:
        """Open the file as it is on disk now (the warning's "Reload")."""
        self.open_template(self.current)
        self.messages.info(self.state.t("editor.reloaded", name=self.current, version=self.loaded_version))

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

    def _show_error(self, exc: WorkbenchError, target: w.HTML, *, lead: str = "") -> None:
        target.value = error_html(exc, self.state.t, lead=lead)
        line = getattr(exc, "line", None)
        self.code.markers = [{"line": int(line), "message": str(exc), "severity": "error"}] if line else []

    def _on_text(self, change: Any = None) -> None:
        if self._refused_text is not None and self.code.value != self._refused_text:
            self._refused_text = None  # the refused text is gone: so is the message about it
            self.messages.clear()
        self._refresh_preview()
        self._show_unsaved()
        self.check_disk()  # one small read per synced edit: the warning comes while you type, not at Save

    def _show_unsaved(self) -> None:
        """A marker beside the template's name while the editor holds edits that are not saved."""
        marker = html.escape(self.state.t("editor.unsaved_marker"))
        self.unsaved.value = (
            f"<span class='wb-unsaved-marker' style='color:#8a6100'>{marker}</span>" if self.dirty else ""
        )

    def _refresh_preview(self, change: Any = None) -> None:
        try:
            template = self.parse()
        except WorkbenchError as exc:
            self.variables.value = ""
            self._show_error(exc, self.preview)
            return
        say = self.state.t
        self.code.markers = []
        names = ", ".join(f"<code>{html.escape(v)}</code>" for v in template.variables)
        self.variables.value = (
            f"<b>{say('editor.variables')}</b> {names or html.escape(say('editor.no_variables'))} &nbsp; "
            f"<b>{say('editor.kind')}</b> {html.escape(template.api)}"
        )
        try:
            values, heading = self._preview_values(template)
            self.preview.value = f"<b>{say('editor.preview')}</b> — {heading}" + pre(
                prompt_as_text(template.render(values))
            )
        except TemplateError as exc:
            self._show_error(exc, self.preview)
        except WorkbenchError as exc:
            self.preview.value = error_html(exc, self.state.t)

    def _preview_values(self, template: PromptTemplate) -> tuple[dict[str, Any], str]:
        """The values to render with, and a heading that says where they come from (row, id, expected)."""
        values = dict(template.examples)
        heading = html.escape(self.state.t("editor.with_examples"))
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
        say = self.state.t
        row_id = row.get(data.id_column, row.get("id"))
        facts = [html.escape(say("editor.row_of", index=index, total=len(data), name=self.dataset.label))]
        if row_id not in (None, ""):
            facts.append(say("editor.row_id", id=f"<code>{html.escape(str(row_id))}</code>"))
        if row.get("expected") not in (None, ""):
            facts.append(say("editor.row_expected", expected=f"<b>{html.escape(str(row['expected']))}</b>"))
        return " · ".join(facts)

    def _refresh_versions(self) -> None:
        self.versions.show(self.current)

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
                raise _Refused(
                    self.state.t("editor.changed_refused", file=self.state.library.path_of(self.current).name)
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
        raise _NameTaken(self.state.t("editor.name_taken", name=template.name, version=existing.version), line=line)

    def _refuse(self, exc: WorkbenchError) -> None:
        self._refused_text = self.code.value
        self._show_error(exc, self.messages, lead=self.state.t("editor.not_saved"))

    def _saved(self, saved: PromptTemplate, before: list[int]) -> None:
        self.code.markers = []
        self._refused_text = None
        if before and saved.version in before:
            self.messages.info(self.state.t("editor.no_changes", ref=saved.ref))
        else:
            self.messages.info(self.state.t("editor.saved", ref=saved.ref, path=saved.path))
        self.loaded_text = saved.to_text()
        self.loaded_version = saved.version
        self.code.value = self.loaded_text  # the same text, with its version line updated
        self.current = saved.name
        self.disk_warning.hide()
        self._set_picker(saved.name, options=self._names())
        self._refresh_versions()
        self._show_unsaved()
        self.state.emit("template_saved", saved)
        events.emit(TEMPLATE_SAVED, (self.state, saved))  # every other Workbench in this kernel
