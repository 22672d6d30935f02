"""The run store, SQLite by default and PostgreSQL for teams (:class:`Store`, :func:`open_store`).

Every SQL statement of the package lives in this package, behind named methods; callers get plain records.
"""

from __future__ import annotations

from pathlib import Path

from workbench.store.cache import CacheEntry
from workbench.store.clock import new_run_id, now
from workbench.store.location import DEFAULT_STORE, StoreLocation, default_store_path, parse_location
from workbench.store.records import ResultRecord
from workbench.store.store import Store

__all__ = [
    "DEFAULT_STORE",
    "CacheEntry",
    "ResultRecord",
    "Store",
    "StoreLocation",
    "default_store_path",
    "new_run_id",
    "now",
    "open_store",
    "parse_location",
]


def open_store(location: str | Path | Store | None = None) -> Store:
    """The store at a path or URL (``sqlite:///PATH``, ``postgresql://USER@HOST:PORT/DB``); a Store is returned
    as it is. ``None``: ``WORKBENCH_STORE``, else ``.workbench/workbench.db`` in the project's folder (found upward
    from the working directory, as the prompt library is)."""
    return location if isinstance(location, Store) else Store(location)
