"""What every part of the store shares: the engine, the location, and the two ways to touch the database — a read
(one connection, plain dict rows) and a write (one transaction, retried as a whole when a lock gets in the way).
The named methods in the sibling modules are built on these; no caller outside ``workbench/store`` gets a
connection or writes SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Executable

import workbench.store.engine as engines
from workbench.errors import StoreError
from workbench.store.location import StoreLocation, parse_location

T = TypeVar("T")
log = logging.getLogger("workbench.store")


class StoreBase:
    """Opens (and, where allowed, upgrades) a store; runs reads and write transactions.

    A new, empty store is created at this release's schema revision whatever ``upgrade`` says (``created`` is then
    true, and the ``workbench.store`` logger says so at INFO: the command line prints it). ``upgrade=False`` leaves
    an existing store at the revision it has (``workbench store stats`` and ``upgrade`` look before they change).
    """

    def __init__(self, location: str | Path | StoreLocation | None = None, *, upgrade: bool = True):
        self.location = parse_location(location)
        self._upsert: Any = None  # statements built once per store (see results.py, cache.py)
        self._cache_upsert: Any = None
        try:
            self._engine: Engine = engines.make_engine(self.location)
            self.revision, self.created = engines.ensure_schema(self._engine, self.location, may_upgrade=upgrade)
        except DBAPIError as exc:
            raise self._unreachable(exc) from exc
        if self.created:
            log.info("Created a new store at %s (schema revision %s).", self.url, self.revision)

    # -- identity -------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The SQLite file (``None`` for a PostgreSQL store)."""
        return self.location.path

    @property
    def url(self) -> str:
        """Where the store is, safe to print (a path, or the URL without its password)."""
        return self.location.display

    @property
    def dialect(self) -> str:
        return self.location.dialect

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def same_store(self, other: StoreBase) -> bool:
        if self.path is not None and other.path is not None:
            return self.path.resolve() == other.path.resolve()
        return self.url == other.url

    def _dialect_insert(self, table: Any) -> Any:
        """An INSERT that can say ON CONFLICT ... DO UPDATE / DO NOTHING on this store's backend."""
        if self.location.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        return insert(table)

    def close(self) -> None:
        self._engine.dispose()

    # -- the two ways in ------------------------------------------------------------------------
    def _rows(self, statement: Executable) -> list[dict[str, Any]]:
        try:
            with self._engine.connect() as connection:
                return [dict(row) for row in connection.execute(statement).mappings()]
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def _first(self, statement: Executable) -> dict[str, Any] | None:
        rows = self._rows(statement)
        return rows[0] if rows else None

    def _scalar(self, statement: Executable) -> Any:
        try:
            with self._engine.connect() as connection:
                return connection.execute(statement).scalar()
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def _write(self, work: Callable[[Connection], T]) -> T:
        try:
            return engines.write(self._engine, work)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    # -- errors a student can act on ------------------------------------------------------------------
    def _unreachable(self, exc: BaseException) -> StoreError:
        if self.location.is_sqlite:
            return StoreError(f"Cannot open the run store at {self.url}: {_reason(exc)}")
        return StoreError(f"Cannot reach the PostgreSQL store at {self.url}: {_reason(exc)}. {postgres_hint(exc)}")

    def _failed(self, exc: SQLAlchemyError) -> StoreError:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return self._unreachable(exc)
        return StoreError(f"The run store at {self.url} refused an operation: {_reason(exc)}")


def postgres_hint(exc: BaseException) -> str:
    """What to do about a PostgreSQL connection that failed, read from the server's words (docs/team-store.md)."""
    reason = str(getattr(exc, "orig", None) or exc).lower()
    if "no password supplied" in reason:
        return (
            "The server wants a password: put it in PGPASSWORD or in ~/.pgpass (a line HOST:PORT:DATABASE:USER:"
            "PASSWORD, chmod 600) — never in a notebook or a command line."
        )
    if "password authentication failed" in reason:
        return "The user or its password was refused: check both (~/.pgpass, PGPASSWORD) with psql."
    if "role" in reason and "does not exist" in reason:
        return "Create the role on the database machine: sudo -u postgres createuser --pwprompt USER"
    if "database" in reason and "does not exist" in reason:
        return "Create the database: sudo -u postgres createdb --owner USER DATABASE"
    if "no pg_hba.conf entry" in reason:
        return "The server does not let this host in: add a `host` line for it to pg_hba.conf and reload."
    return (
        "Is the server running and listening there (listen_addresses), and does the database exist? "
        "(docs/team-store.md)"
    )


def _reason(exc: BaseException) -> str:
    """The driver's own message, first line only, without SQLAlchemy's statement dump or any password."""
    from workbench.store.location import mask_password

    original = getattr(exc, "orig", None) or exc
    return mask_password(str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__)
