"""The store picker in the workbench's header: which run store the panels read and write, and where it really is.

A store is a SQLite file (a path, or ``sqlite:///PATH``) or a PostgreSQL database a team shares
(``postgresql://USER@HOST:PORT/DB``); the default comes from ``WORKBENCH_STORE``, else it is the project's
``.workbench/workbench.db`` (found upward from the notebook's folder, as the prompt library is — a notebook in
``notebooks/`` uses the same store as one at the root). Opening goes through :func:`workbench.store.open_store`, so
the UI accepts exactly what the CLI's ``--store`` does; a relative path typed here means the notebook's folder.

Why the care: an empty Results tab looks like lost work. So the box shows the store's absolute location (not the
same relative text from every folder), a store that was just created or has no runs says so, a mistyped SQLite
path is created only when asked, and a failed Open puts the box back to the store in use. The box never keeps a
password (widget state can be saved into the notebook): it shows the location with the password masked.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.errors import WorkbenchError
from workbench.store import Store, open_store, parse_location
from workbench.store.location import default_store_path, mask_password
from workbench.ui.state import Messages, WorkbenchState, button


class StorePicker(w.HBox):
    def __init__(self, state: WorkbenchState, *, created: bool = False, **kwargs: Any):
        self.state = state
        say = state.t
        self.location = w.Text(
            value=state.store.url,
            placeholder=say("store.placeholder"),
            description=say("store.label"),
            style={"description_width": "initial"},
            layout=w.Layout(width="min(560px, 100%)"),
        )
        self.location.add_class("wb-store-location")
        self.open_button = button(say("store.open"), icon="database", tooltip=say("store.open_tooltip"))
        self.open_button.add_class("wb-store-open")
        self.create_button = button(say("store.create"), button_style="warning")
        self.create_button.layout.display = "none"
        self.kind = w.HTML()
        self.kind.add_class("wb-store-kind")
        self.messages = Messages(say)
        self.messages.add_class("wb-store-messages")
        self.open_button.on_click(lambda b: self.open_location())
        self.create_button.on_click(lambda b: self.open_location(create=True))
        super().__init__(
            [self.location, self.open_button, self.create_button, self.kind, self.messages],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
            **kwargs,
        )
        self.add_class("wb-store-picker")
        self._show(state.store)
        self.announce(state.store, created=created)

    def open_location(self, location: str | None = None, *, create: bool = False) -> Store | None:
        """Open the store at ``location`` (default: the box) and make every panel use it."""
        say = self.state.t
        text = (self.location.value if location is None else location).strip()
        in_use = self.state.store
        self.messages.clear()
        self.create_button.layout.display = "none"
        if self.state.running:
            self.messages.warn(say("store.busy", url=in_use.url))
            self.location.value = in_use.url
            return None
        try:
            where = parse_location(text, option=say("store.label"))
            if where.display == in_use.url:
                self.location.value = in_use.url
                self.messages.info(say("store.already", url=in_use.url))
                return in_use
            created = where.is_sqlite and where.path is not None and not where.path.exists()
            if created and not create:
                self._offer_create(where.path)
                return None
            store = open_store(where)
        except WorkbenchError as exc:
            self.location.value = in_use.url  # the box says which store is in use, not what failed
            self.messages.error(exc, lead=say("store.failed", text=mask_password(text), url=in_use.url))
            if mask_password(text) != text:
                self.messages.value += f"<div class='wb-hint'>{html.escape(say('store.password_removed'))}</div>"
            return None
        self.state.set_store(store)
        self._show(store)
        self.messages.info(say("store.now_using", url=store.url))
        self.announce(store, created=created)
        return store

    def announce(self, store: Store, *, created: bool) -> None:
        """Say that a store is new (just created) or holds no runs yet: an empty Results tab is then expected."""
        say = self.state.t
        if created:
            self.messages.warn(say("store.new", url=store.url))
        elif not store.runs(limit=1):
            self.messages.warn(say("store.empty", url=store.url))

    def _offer_create(self, path: Any) -> None:
        self.messages.warn(self.state.t("store.offer_create", path=path, url=self.state.store.url))
        self.create_button.layout.display = "flex"

    def _show(self, store: Store) -> None:
        """The box and the line beside it: the absolute location (password masked), its kind, and whether it is
        the project's own store."""
        say = self.state.t
        self.location.value = store.url
        self.location.tooltip = store.url
        kind = say("store.kind.sqlite") if store.dialect == "sqlite" else say("store.kind.postgresql")
        if store.path is not None and store.path == default_store_path():
            kind += f" · {say('store.default')}"
        self.kind.value = f"<span class='wb-hint'>{html.escape(kind)}</span>"
