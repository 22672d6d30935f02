"""Shared fixtures. Every test gets its own run store and working directory (never the user's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / ".workbench" / "test.db"))
    monkeypatch.setenv("WORKBENCH_CHROMA_PATH", str(tmp_path / ".workbench" / "chroma"))
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the UI's words in tests do not depend on the machine's locale
    return tmp_path


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def library():
    from workbench.prompts import PromptLibrary

    return PromptLibrary(REPO / "prompt_library")


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session, on 127.0.0.1 and a free port, stopped by its PID at the end.
    Missing PostgreSQL fails under `make test` (WORKBENCH_REQUIRE_POSTGRES=1) and skips elsewhere."""
    from workbench.testing.postgres import PostgresServer, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("WORKBENCH_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is not installed; `make test` installs Debian's postgresql package.")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database(f"wb_{next(_databases)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location on each backend: a SQLite file, and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str):
    from workbench.store import Store

    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture
def fake_server():
    from workbench.testing.fake_openai import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    yield server
    server.stop()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_sessionstart(session: pytest.Session) -> None:
    from workbench.testing.models import register_test_models

    register_test_models()  # `mock` and `echo` specs, for unit tests only (not production providers)
