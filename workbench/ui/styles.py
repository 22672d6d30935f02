"""Page styles the panels share, as a hidden ``<style>`` widget each panel carries (so a panel works on its own).

Why: ipywidgets gives every HTML widget a 28 px line height (it is meant for one-line labels), which spaces a
multi-line diff or a row detail like double-spaced text; and Chromium greys out the chosen options of a
multi-select list that does not have the focus, so chosen versions look disabled.
"""

from __future__ import annotations

import ipywidgets as w

CSS = """
.wb-panel .widget-html-content { line-height: 1.4; }
.wb-panel .wb-block { margin: 6px 0; }
.wb-panel .wb-hint { color: var(--jp-ui-font-color2, #57606a); font-size: 12px; }
.wb-panel .wb-run-versions select option:checked {
  background: #1a73e8 linear-gradient(0deg, #1a73e8 0%, #1a73e8 100%); color: #fff;
}
.wb-panel .wb-run-versions select:focus option:checked {
  background: #1558b0 linear-gradient(0deg, #1558b0 0%, #1558b0 100%);
}
.wb-panel table.wb-plain { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
.wb-panel table.wb-plain th, .wb-panel table.wb-plain td {
  border: 1px solid var(--jp-border-color2, #d0d7de); padding: 2px 8px; text-align: left; vertical-align: top;
}
.wb-panel table.wb-plain th { background: var(--jp-layout-color2, #f6f8fa); }
.wb-panel table.wb-plain td.wb-number, .wb-panel table.wb-plain th.wb-number { text-align: right; }
.wb-panel .wb-detail-column {
  border-left: 3px solid var(--jp-border-color2, #d0d7de); padding: 2px 8px; margin: 8px 0;
}
.wb-panel details > summary { cursor: pointer; color: var(--jp-brand-color1, #1a73e8); }
"""


def style_widget() -> w.HTML:
    """The shared styles; invisible itself (a ``<style>`` applies wherever it sits in the page)."""
    return w.HTML(f"<style>{CSS}</style>", layout=w.Layout(display="none"))


def as_panel(widget: w.Box, name: str) -> None:
    """Mark a panel so the shared styles reach it (``wb-panel``) and tests and the browser can find it."""
    widget.add_class("wb-panel")
    widget.add_class(name)
