"""Connecting to a store: the SQLAlchemy engine for SQLite or PostgreSQL, write transactions that never fail on a
lock, and the schema check that runs the Alembic upgrade when a store is behind.

SQLite: WAL (readers never block the writer), ``synchronous=NORMAL``, foreign keys on, a 30-second busy timeout.
A write transaction starts with ``BEGIN IMMEDIATE``, so concurrent writers queue for the lock instead of failing
halfway through (a deferred transaction that later needs the write lock gets ``SQLITE_BUSY`` at once); a write
that still meets a lock is retried with backoff. PostgreSQL: psycopg 3, ordinary transactions; a serialisation
failure or deadlock is retried the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from workbench.errors import StoreError
from workbench.store.location import StoreLocation
from workbench.store.schema import HEAD_REVISION

T = TypeVar("T")
WRITE = "workbench_write"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_RETRYABLE = ("database is locked", "database table is locked", "busy", "deadlock detected", "could not serialize")


def make_engine(location: StoreLocation) -> Engine:
    """The engine for a location (SQLite folders are created; PostgreSQL is reached within 10 s)."""
    if location.is_sqlite:
        assert location.path is not None
        location.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(location.url, connect_args={"timeout": 30.0, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    from workbench.registry import require

    require("psycopg", "A PostgreSQL store")
    return create_engine(location.url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    for pragma in ("busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE, False)
    # straight to the driver: a BEGIN per transaction through SQLAlchemy's statement machinery costs more than it
    # carries (it has no parameters and no result)
    connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_retryable(exc: BaseException) -> bool:
    """A lock, busy database, deadlock or serialisation failure: the same transaction may succeed if run again."""
    return isinstance(exc, OperationalError | DBAPIError) and any(s in str(exc).lower() for s in _RETRYABLE)


def write(engine: Engine, work: Callable[[Connection], T], *, attempts: int = 8) -> T:
    """Run ``work(connection)`` in one write transaction, retried as a whole when a lock gets in the way (tenacity,
    imported on the first such failure: most writes succeed at once)."""
    try:
        return _transaction(engine, work)
    except (OperationalError, DBAPIError) as exc:
        if not is_retryable(exc):
            raise
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(attempts - 1),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            return _transaction(engine, work)
    raise AssertionError("unreachable")  # pragma: no cover - tenacity re-raises the last error


def _transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE: True})
        with connection.begin():
            return work(connection)


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision; ``None`` for a store Alembic has not managed yet (new, or pre-Alembic)."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except DBAPIError:
            return None
    return row[0] if row else None


def has_tables(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(engine).get_table_names())


def ensure_schema(engine: Engine, location: StoreLocation, *, may_upgrade: bool = True) -> tuple[str | None, bool]:
    """Bring a store to this release's schema, or say why not. Returns ``(revision, created)``.

    A new, empty store (a SQLite file or a PostgreSQL database with no tables) is created at the head revision by
    whichever command opens it first — ``may_upgrade=False`` included, so ``workbench store stats`` on a team's new
    database shows an empty store instead of a missing table. A SQLite file (a person's own store) that is behind is
    upgraded on open; an existing PostgreSQL database that is behind is upgraded only by ``workbench store
    upgrade``: a team's store changes when somebody decides it should, not when the first engineer with a newer
    release opens it. ``may_upgrade=False`` leaves an existing store as it is.
    """
    revision = current_revision(engine)
    if revision is None and not has_tables(engine):
        return create(engine, location)
    if not may_upgrade or revision == HEAD_REVISION:
        return revision, False
    if revision is not None and revision not in known_revisions():
        raise StoreError(
            f"The store at {location.display} is at schema revision {revision!r}, newer than this release knows "
            "(it was written by a newer Prompt Workbench). Upgrade the workbench package to open it."
        )
    if not location.is_sqlite and revision is not None:
        raise StoreError(
            f"The team store at {location.display} is at schema revision {revision}; this release needs "
            f"{HEAD_REVISION}. Upgrade it once for everybody: workbench store upgrade --store {location.display}"
        )
    return upgrade(engine, location), False


def create(engine: Engine, location: StoreLocation) -> tuple[str, bool]:
    """A new, empty store: the tables of :mod:`workbench.store.schema`, stamped at the head revision, in one
    transaction (the same shape the revisions build — ``tests/test_store_migrations.py`` compares them — without
    loading Alembic on a first run). Another process creating the same store meanwhile is waited for, and then
    this one did not create it: returns ``(revision, created)``."""
    from sqlalchemy import Column, MetaData, String, Table

    from workbench.store.schema import metadata

    version = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))
    created = False
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE: True})
        with connection.begin():
            if not location.is_sqlite:
                connection.execute(text("SELECT pg_advisory_xact_lock(84017)"))
            if current_revision_in(connection) is None and not _any_table(connection):
                metadata.create_all(connection)
                version.create(connection)
                connection.execute(version.insert().values(version_num=HEAD_REVISION))
                created = True
    return current_revision(engine) or "", created


def current_revision_in(connection: Connection) -> str | None:
    try:
        with connection.begin_nested():
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:
        return None
    return row[0] if row else None


def _any_table(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).get_table_names())


def known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


def upgrade(engine: Engine, location: StoreLocation, revision: str = "head") -> str:
    """Run the Alembic revisions up to ``revision`` in one transaction that other processes wait for."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        if location.is_sqlite:  # a table rebuild needs foreign keys off, set outside the transaction
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            connection = connection.execution_options(**{WRITE: True})
            with connection.begin():
                if not location.is_sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(84017)"))  # one upgrader at a time
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                _check_foreign_keys(connection, location)
        finally:
            if location.is_sqlite:
                connection.invalidate()  # the pool hands out a fresh connection, foreign keys on
    return current_revision(engine) or ""


def _check_foreign_keys(connection: Connection, location: StoreLocation) -> None:
    if not location.is_sqlite:
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(f"Upgrading {location.display} would leave {len(broken)} rows pointing at missing rows.")
