"""A real PostgreSQL server for tests and benchmarks: Debian's ``postgresql`` binaries, a data folder in a temporary
directory, listening on 127.0.0.1 and a free port only, stopped by its PID.

``make test`` installs the ``postgresql`` package when it is missing (as it does chromium). The server refuses to
run as root, so as root its commands run as the ``postgres`` user, in folders that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from workbench.testing.fake_openai import free_port

HOST = "127.0.0.1"


def postgres_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (the newest installed PostgreSQL), or ``None``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """``with PostgresServer() as pg: url = pg.create_database("x")`` — a throwaway server on 127.0.0.1."""

    def __init__(self, port: int | None = None):
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (make test does this).")
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.pid: int | None = None
        self._as_postgres = os.geteuid() == 0
        self._template: str | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir(parents=True)
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses={HOST} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database — empty, or a copy of ``template`` (PostgreSQL copies its files: no statements re-run);
        its URL."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        with psycopg.connect(f"host={HOST} port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def store_database(self, name: str) -> str:
        """A new database already at the store's current schema (a copy of one migrated once per server)."""
        if not self._template:
            from workbench.store import Store

            url = self.create_database("wb_store_template")
            Store(url).close()  # migrated to head, connections closed: usable as a template
            self._template = "wb_store_template"
        return self.create_database(name, template=self._template)

    def stop(self) -> None:
        """Stop the server by its PID (fast shutdown), then remove its folder."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGINT)
                for _ in range(100):
                    os.kill(self.pid, 0)
                    time.sleep(0.1)
                os.kill(self.pid, signal.SIGKILL)  # it did not stop within 10 s
            except ProcessLookupError:
                pass
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
