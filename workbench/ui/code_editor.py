"""A real code editor for template files: CodeMirror 6 in the notebook, through anywidget.

Why not an ``ipywidgets.Textarea``: a prompt file is code. People need the file exactly as written (YAML front
matter and Jinja2 body highlighted, nothing reflowed), line numbers that match the ones in parse errors and
markers, find & replace (Ctrl/Cmd+F), Tab that indents instead of leaving the field, undo/redo, and Ctrl/Cmd+S
that saves instead of triggering the browser's or Jupyter's save.

The front-end (``static/code_editor.js``) is one ES module built from ``ui/js/src/code_editor.js`` with esbuild
(``cd workbench/ui/js && npm ci && node build.mjs``) and shipped inside the Python package, so the widget works
offline: nothing is loaded from a CDN at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

_STATIC = Path(__file__).parent / "static"


class CodeEditor(anywidget.AnyWidget):
    """CodeMirror editor for ``.prompty`` text.

    Traits (synced with the browser):

    - ``value``: the document. The browser sends it 300 ms after typing stops, on blur and before a save; setting
      it from Python replaces the editor's text (the cursor stays where it was when possible).
    - ``markers``: ``[{"line": 1-based int, "message": str, "severity": "error" | "warning"}]``, shown as
      diagnostics (gutter icon, underline, tooltip); ``[]`` clears them. Out-of-range lines are clamped.
    - ``save_requests``: incremented by the browser on Ctrl/Cmd+S, after ``value`` is synced. Use
      :meth:`on_save` rather than observing it.
    - ``read_only``, ``height`` (CSS length, e.g. ``"420px"``).
    """

    _esm = _STATIC / "code_editor.js"

    value = traitlets.Unicode("").tag(sync=True)
    markers = traitlets.List(traitlets.Dict()).tag(sync=True)
    save_requests = traitlets.Int(0).tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)
    height = traitlets.Unicode("420px").tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._save_callbacks: list[Callable[[CodeEditor], Any]] = []
        self.observe(self._on_save_requests, "save_requests")

    def on_save(self, callback: Callable[[CodeEditor], Any], remove: bool = False) -> None:
        """Call ``callback(editor)`` each time the user presses Ctrl/Cmd+S (``save_requests`` increases)."""
        if remove:
            if callback in self._save_callbacks:
                self._save_callbacks.remove(callback)
        else:
            self._save_callbacks.append(callback)

    def _on_save_requests(self, change: dict[str, Any]) -> None:
        if change["new"] > change["old"]:
            for callback in list(self._save_callbacks):
                callback(self)
