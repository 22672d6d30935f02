"""Where a store lives: a SQLite file (a path or ``sqlite:///PATH``) or a PostgreSQL database
(``postgresql://user@host:port/db``), read from ``--store``, ``store=`` or ``WORKBENCH_STORE``.

Where the default store is: ``WORKBENCH_STORE``, else ``.workbench/workbench.db`` in the project's folder
(:func:`workbench.paths.project_root` — where ``prompt_library/`` is, found upward from the working directory, so
a notebook in ``notebooks/``, a CLI command or ``wb.run`` started in a subfolder all use the project's store, the
same one as at the root; without a project, the working directory). A relative path the user types (``--store``,
``store=``, the UI's store box, ``WORKBENCH_STORE``) means the working directory, as a path on a command line does.
Every SQLite path is made absolute when parsed, so the store stays put if the process changes folder later and a
message or the UI's header says where the file really is.

Why parse it here and strictly: a URL that is not recognised must never be taken as a file name (a folder named
``postgresql:`` in the working directory and a run that "succeeded" into it). Anything that looks like a URL but
is not one of the supported schemes is an error that names the option and the forms it takes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import StoreError

DEFAULT_STORE = Path(".workbench") / "workbench.db"  # under the project's folder (default_store_path())
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):(?P<rest>.*)$", re.DOTALL)
FORMS = "a file path, sqlite:///PATH, or postgresql://USER@HOST:PORT/DATABASE"


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store location: the dialect, the SQLAlchemy URL, and (for SQLite) the file."""

    dialect: str  # "sqlite" | "postgresql"
    url: str  # what SQLAlchemy connects to (postgresql+psycopg://..., sqlite:///...)
    path: Path | None = None  # the SQLite file

    @property
    def display(self) -> str:
        """The location for messages and provenance: a path, or the URL without its password."""
        if self.path is not None:
            return str(self.path)
        return mask_password(self.url.replace("postgresql+psycopg://", "postgresql://", 1))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def mask_password(url: str) -> str:
    """``scheme://user:secret@host`` → ``scheme://user:***@host``."""
    return re.sub(r"(?<=://)([^/@:]*):[^/@]*@", r"\1:***@", url)


def default_store_path() -> Path:
    """``.workbench/workbench.db`` in the project's folder (the working directory where there is no project)."""
    from workbench.paths import project_root

    return project_root() / DEFAULT_STORE


def parse_location(value: str | os.PathLike[str] | StoreLocation | None, *, option: str = "--store") -> StoreLocation:
    """A store location from a path or URL (``None``: ``WORKBENCH_STORE``, else :func:`default_store_path`)."""
    if isinstance(value, StoreLocation):
        return value
    if value is None or str(value).strip() == "":
        value = os.environ.get("WORKBENCH_STORE") or default_store_path()
        option = "WORKBENCH_STORE" if os.environ.get("WORKBENCH_STORE") else option
    if isinstance(value, os.PathLike):
        return _sqlite_file(Path(value), option)
    text = str(value).strip()
    match = _SCHEME.match(text)
    if match is None or len(match["scheme"]) == 1:  # no scheme, or a Windows drive letter (C:\...)
        return _sqlite_file(Path(text), option)
    scheme = match["scheme"].lower()
    if scheme in SQLITE_SCHEMES:
        return _sqlite_url(text, match["rest"], option)
    if scheme in POSTGRES_SCHEMES:
        return _postgres_url(text, match["rest"], option)
    raise StoreError(
        f"{option} {mask_password(text)!r}: {scheme!r} is not a store this workbench can open. Give {FORMS}."
    )


def _sqlite_file(path: Path, option: str) -> StoreLocation:
    path = Path(os.path.abspath(path.expanduser()))  # relative: the working directory now, not later
    if path.is_dir():
        raise StoreError(f"{option} {str(path)!r} is a folder. Give the store's file, e.g. {path / 'workbench.db'}.")
    return StoreLocation("sqlite", f"sqlite:///{path}", path)


def _sqlite_url(text: str, rest: str, option: str) -> StoreLocation:
    if not rest.startswith("///") or len(rest) <= 3:
        raise StoreError(
            f"{option} {text!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db (three slashes, "
            "then the path)."
        )
    return _sqlite_file(Path(rest[3:]), option)


def _postgres_url(text: str, rest: str, option: str) -> StoreLocation:
    if not rest.startswith("//"):
        raise StoreError(f"{option} {mask_password(text)!r}: write postgresql://USER@HOST:PORT/DATABASE.")
    authority, _, database = rest[2:].partition("/")
    host = authority.rpartition("@")[2]
    if not host or not database.split("?")[0]:
        raise StoreError(
            f"{option} {mask_password(text)!r}: name the server and the database, e.g. "
            "postgresql://workbench@127.0.0.1:5432/workbench."
        )
    port = host.rpartition(":")[2] if ":" in host and not host.endswith("]") else ""
    if port and not port.isdigit():
        raise StoreError(f"{option} {mask_password(text)!r}: the port {port!r} is not a number.")
    return StoreLocation("postgresql", "postgresql+psycopg:" + rest)
