"""The store picker in the workbench's header: which run store the panels read and write.

A store is a SQLite file (a path, or ``sqlite:///PATH``) or a PostgreSQL database a team shares
(``postgresql://USER@HOST:PORT/DB``); the default comes from ``WORKBENCH_STORE`` (else ``.workbench/workbench.db``).
Opening goes through :func:`workbench.store.open_store`, so the UI accepts exactly what the CLI's ``--store`` does.

Why the care: a mistyped SQLite path would silently create a new, empty store — and an empty Results tab looks like
lost work — so a file that does not exist yet is created only when asked. The field never keeps a password (widget
state can be saved into the notebook): after opening it shows the location with the password masked.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.errors import WorkbenchError
from workbench.store import Store, open_store, parse_location
from workbench.store.location import mask_password
from workbench.ui.state import Messages, WorkbenchState, button

PLACEHOLDER = "path/to/workbench.db  or  postgresql://user@host:5432/workbench"


class StorePicker(w.HBox):
    def __init__(self, state: WorkbenchState, **kwargs: Any):
        self.state = state
        self.location = w.Text(
            value=state.store.url,
            placeholder=PLACEHOLDER,
            description="Store",
            style={"description_width": "initial"},
            layout=w.Layout(width="min(520px, 100%)"),
        )
        self.location.add_class("wb-store-location")
        self.open_button = button("Open store", icon="database", tooltip="read and write runs in this store")
        self.open_button.add_class("wb-store-open")
        self.create_button = button("Create it", button_style="warning")
        self.create_button.layout.display = "none"
        self.kind = w.HTML()
        self.kind.add_class("wb-store-kind")
        self.messages = Messages()
        self.messages.add_class("wb-store-messages")
        self.open_button.on_click(lambda b: self.open_location())
        self.create_button.on_click(lambda b: self.open_location(create=True))
        super().__init__(
            [self.location, self.open_button, self.create_button, self.kind, self.messages],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
            **kwargs,
        )
        self.add_class("wb-store-picker")
        self._show_kind(state.store)

    def open_location(self, location: str | None = None, *, create: bool = False) -> Store | None:
        """Open the store at ``location`` (default: the field) and make every panel use it."""
        text = (self.location.value if location is None else location).strip()
        self.messages.clear()
        self.create_button.layout.display = "none"
        if text == self.state.store.url:
            self.messages.info(f"Already using {self.state.store.url}.")
            return self.state.store
        try:
            where = parse_location(text, option="Store")
            if where.is_sqlite and where.path is not None and not where.path.exists() and not create:
                self._offer_create(where.path)
                return None
            store = open_store(where)
        except WorkbenchError as exc:
            note = self._forget_password(text)
            self.messages.error(f"Still using {self.state.store.url}. {exc}{note}")
            return None
        self.state.set_store(store)
        self.location.value = store.url  # masked: no password stays in the widget
        self._show_kind(store)
        self.messages.info(f"Now using {store.url}.")
        return store

    def _forget_password(self, text: str) -> str:
        """A URL that failed stays in the field, but not its password (widget state can be saved in the notebook);
        what to tell the user about it."""
        masked = mask_password(text)
        if masked == text:
            return ""
        self.location.value = masked
        return " (The password was taken out of the field: type it again, or put the URL in WORKBENCH_STORE.)"

    def _offer_create(self, path: Any) -> None:
        self.messages.warn(
            f"There is no store at {path} yet (a typo?). Press “Create it” to start a new, empty store there; "
            f"still using {self.state.store.url}."
        )
        self.create_button.layout.display = "flex"

    def _show_kind(self, store: Store) -> None:
        kind = "SQLite file" if store.dialect == "sqlite" else "PostgreSQL (shared)"
        self.kind.value = f"<span class='wb-hint'>{html.escape(kind)}</span>"
