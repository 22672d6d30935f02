"""A table widget that keeps its state in Python: sorting by a header click, pages, and the selected row.

Why not itables/DataTables: the matrix is re-drawn whenever a filter or the search changes, and a DataTable re-drawn
from Python forgets its sort order and selection; it brings its own search box (a second one, with a counter that
disagrees with ours); it sorts only from a small arrow icon, and its selected row turns blue with white text over the
pastel ✓/✗ cells. Here the browser only reports clicks (``sort``, ``page``, ``selected``); Python sorts, pages and
sends the rows of the page. So the state survives every re-draw, and tests drive it without a browser.

The front-end is ``static/data_table.js`` (plain DOM, no dependencies, written by hand — nothing to build) and
``static/data_table.css``. Its words (the pager, "click to sort", the scroll hint) come from Python (``labels``,
from the catalogue: :func:`table_labels`).

Narrow windows: a column has a ``kind``. ``verdict`` columns keep their width (the ✓/✗ are what the table is for);
``text`` columns are cut to a line or two with the whole text on hover; ``key`` columns (ids, who) never wrap. When
the columns are wider than the box, the table scrolls sideways and a hint above it says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from workbench.i18n import DEFAULT, Messages

_STATIC = Path(__file__).parent / "static"
PAGE_SIZES = (10, 25, 50, 100)
LABELS = ("prev", "next", "per_page", "rows_per_page", "range", "click_to_sort", "scroll_hint")
KINDS = ("", "text", "verdict", "key")


def table_labels(say: Messages | None = None) -> dict[str, str]:
    """The table's own words in ``say``'s language (the browser fills in ``{first}``, ``{last}``, ``{total}``,
    ``{n}``)."""
    say = say or Messages(DEFAULT)
    return {name: say(f"table.{name}", first="{first}", last="{last}", total="{total}", n="{n}") for name in LABELS}


@dataclass(frozen=True)
class Column:
    """A table column: ``key`` names it, ``label`` is the header, ``title`` its tooltip (e.g. the full name when
    the label is shortened), ``min_width`` a CSS length that keeps text from being squeezed to a few characters,
    ``kind`` how it behaves on a narrow screen (see the module's docstring)."""

    key: str
    label: str
    title: str = ""
    min_width: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Column kind {self.kind!r}: use one of {KINDS}.")

    def to_dict(self) -> dict[str, str]:
        title = self.title or self.label
        return {"key": self.key, "label": self.label, "title": title, "min_width": self.min_width, "kind": self.kind}


@dataclass(frozen=True)
class Row:
    """One table row: its id, each column's cell as HTML, and each column's value to sort by."""

    id: str
    cells: dict[str, str]
    sort_keys: dict[str, Any] = field(default_factory=dict)


def sort_value(value: Any) -> tuple[int, Any]:
    """A key that orders numbers, then text (case-insensitively), then empty cells, without comparing types."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (3, "")
    if isinstance(value, bool | int | float):
        return (0, float(value))
    if isinstance(value, tuple):
        return (1, tuple(sort_value(v) for v in value))
    return (2, str(value).casefold())


class DataTable(anywidget.AnyWidget):
    """A paged, sortable table. Give it rows with :meth:`set_rows`; read :attr:`row_ids` (every row, in order).

    Synced traits: ``columns``, ``rows`` (the page shown), ``sort`` (``{"key": ..., "descending": bool}``, set
    by a header click), ``page`` and ``page_size`` (set by the pager), ``selected`` (the row id clicked),
    ``total`` (rows over all pages), ``empty_text``, ``reveal`` (a CSS selector: after a click the browser
    scrolls the element it names into view when it is off-screen, e.g. the row detail below the table) and
    ``labels`` (the table's words, :func:`table_labels`).
    """

    _esm = _STATIC / "data_table.js"
    _css = _STATIC / "data_table.css"

    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    sort = traitlets.Dict().tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(10).tag(sync=True)
    page_sizes = traitlets.List(traitlets.Int(), default_value=list(PAGE_SIZES)).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    empty_text = traitlets.Unicode("No rows.").tag(sync=True)
    reveal = traitlets.Unicode("").tag(sync=True)
    labels = traitlets.Dict(default_value=table_labels()).tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._all: list[Row] = []
        self._ordered: list[Row] = []
        self._paging = False  # set while Python moves the page itself (not a click on the pager)
        self.observe(self._on_sort, "sort")
        self.observe(self._on_page, ["page", "page_size"])

    # -- what Python gives and reads --------------------------------------------------------------
    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = [c.to_dict() for c in columns]
        if self.sort.get("key") not in {c.key for c in columns}:
            self.sort = {}

    def set_rows(self, rows: Sequence[Row]) -> None:
        """New rows (a filter or the search changed): the sort order stays; the page shows the selected row when
        it is still there, else the first page."""
        self._all = list(rows)
        self._order()
        index = self.row_ids.index(self.selected) if self.selected in self.row_ids else 0
        self._show_page(index // max(1, self.page_size))

    @property
    def row_ids(self) -> list[str]:
        """Every row id in the order shown (all pages)."""
        return [row.id for row in self._ordered]

    @property
    def page_ids(self) -> list[str]:
        return [row["id"] for row in self.rows]

    def select(self, row_id: str | None) -> None:
        """Select a row (as a click does) and show the page it is on."""
        if row_id is not None and row_id in self.row_ids:
            self._show_page(self.row_ids.index(row_id) // max(1, self.page_size))
        self.selected = row_id

    def sort_by(self, key: str | None, *, descending: bool = False) -> None:
        """What a click on a header does (``None``: the rows' own order)."""
        self.sort = {} if key is None else {"key": key, "descending": descending}

    # -- reactions ----------------------------------------------------------------------------------
    def _on_sort(self, change: Any = None) -> None:
        self._order()
        self._show_page(0)

    def _on_page(self, change: Any = None) -> None:
        if not self._paging:
            self._show_page(self.page)

    def _order(self) -> None:
        key = self.sort.get("key")
        if not key:
            self._ordered = list(self._all)
            return
        self._ordered = sorted(
            self._all, key=lambda row: sort_value(row.sort_keys.get(key)), reverse=bool(self.sort.get("descending"))
        )

    def _show_page(self, page: int) -> None:
        size = max(1, self.page_size)
        last = max(0, math.ceil(len(self._ordered) / size) - 1)
        page = min(max(0, page), last)
        shown = self._ordered[page * size : (page + 1) * size]
        keys = [c["key"] for c in self.columns]
        self._paging = True
        try:
            with self.hold_sync():
                self.total = len(self._ordered)
                self.page = page
                self.rows = [{"id": row.id, "cells": [row.cells.get(k, "") for k in keys]} for row in shown]
        finally:
            self._paging = False
