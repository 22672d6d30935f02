"""The editor's "changed on disk" warning: what happened, and the three ways on — reload the file, look at the
difference, or save yours as the next version on top of the other change.

Why it exists: two editors on one template (two notebooks, two ``Workbench()``, a text editor) used to overwrite
each other silently — the second save built a new version from stale text and the other change vanished from the
file. The warning appears as soon as the editor sees the file moved (while you type), and a save is refused until
you choose.
"""

from __future__ import annotations

import difflib
import html
from pathlib import Path

import ipywidgets as w

from workbench import i18n
from workbench.ui.diff import unified_diff_html
from workbench.ui.state import button


class DiskWarning(w.VBox):
    """Hidden until :meth:`show`; the editor wires ``reload_button`` and ``overwrite_button``."""

    def __init__(self, say: i18n.Messages | None = None) -> None:
        self.say = say = say or i18n.Messages(i18n.DEFAULT)
        self.text = w.HTML()
        self.reload_button = button(
            say("editor.disk.reload"), icon="refresh", tooltip=say("editor.disk.reload_tooltip")
        )
        self.reload_button.add_class("wb-reload")
        self.diff_button = button(say("editor.disk.show_diff"), icon="columns")
        self.diff_button.add_class("wb-disk-diff")
        self.overwrite_button = button(say("editor.disk.save_mine"), button_style="warning")
        self.overwrite_button.add_class("wb-save-mine")
        self.diff = w.HTML()
        self.diff.add_class("wb-disk-diff-output")
        actions = w.HBox(
            [self.reload_button, self.diff_button, self.overwrite_button], layout=w.Layout(flex_flow="row wrap")
        )
        super().__init__([self.text, actions, self.diff])
        self.add_class("wb-disk-warning")
        self.layout.display = "none"

    @property
    def shown(self) -> bool:
        return self.layout.display != "none"

    def show(self, path: Path, opened: int | None, now: int | None) -> None:
        say = self.say
        self.text.value = (
            "<div class='wb-warning' style='color:#8a6100;background:#fff8c5;padding:4px 6px'>"
            f"<b>{html.escape(say('editor.disk.changed', file=path.name))}</b> "
            f"{html.escape(say('editor.disk.explain', opened=opened, now=now))}</div>"
        )
        self.layout.display = "flex"

    def hide(self) -> None:
        self.layout.display = "none"
        self.diff.value = ""

    def show_diff(self, on_disk: str, mine: str, disk_version: int | None) -> None:
        """The file on disk against the text in the editor."""
        lines = difflib.unified_diff(
            on_disk.splitlines(keepends=True),
            mine.splitlines(keepends=True),
            fromfile=self.say("editor.disk.on_disk", version=disk_version),
            tofile=self.say("editor.disk.in_editor"),
        )
        self.diff.value = unified_diff_html("".join(lines) or self.say("editor.disk.no_diff") + "\n")
